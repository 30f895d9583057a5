// The console in a real browser (Debian's Chromium): sign in with an account key, send a
// message through the form, watch it reach `delivered` in the list, open its events; sign
// in as admin and stop and start a connector.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, gatewayFrom, waitFor } from '../e2e/helpers.ts';
import { requirePeer } from '../peers/available.ts';
import { consolePage } from './browser.ts';

const waitMs = 20_000;

test('the console in a browser', async (t) => {
  if (!requirePeer(t, 'Chromium')) return;
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-123] }
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }
  - { id: other, apiKeys: [other-key-1] }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 50, outcomes: [{ to: "+1555000*", status: undelivered, error: "001" }] }
routes:
  mt: [{ connectors: [sim] }]
  mo: [{ account: acme }]
`);
  const acme = api(gw.base, 'acme-key-1');
  const admin = api(gw.base, 'admin-key-123');
  const { page, problems, signIn } = await consolePage(t, gw, waitMs);

  /** Until an element matching `selector` has text matching `text`. */
  const waitText = (selector: string, text: RegExp) =>
    page.locator(selector, { hasText: text }).first().waitFor();
  /** Until the message list's rows (status and text) satisfy `ok`. */
  const waitRows = (ok: (rows: { status: string | null; text: string }[]) => boolean) =>
    waitFor(
      async () =>
        ok(
          await page
            .locator('#messages tbody tr')
            .evaluateAll((trs) =>
              trs.map((tr) => ({ status: tr.getAttribute('data-status'), text: tr.textContent ?? '' })),
            ),
        ),
      waitMs,
      'message rows',
    );
  const signOut = async () => {
    await page.click('#sign-out');
    await page.waitForSelector('#sign-in');
  };

  await t.test('the browser enforces the CSP: injected inline script does not run', async () => {
    await page.goto(`${gw.base}/console`);
    await page.waitForSelector('#sign-in');
    const seen = problems.length;
    // A string, as the page sees it: this file is type-checked without the DOM library.
    const ran = await page.evaluate(`(async () => {
      const script = document.createElement('script');
      script.textContent = 'window.injectedRan = true';
      document.body.append(script);
      await new Promise((r) => setTimeout(r, 100));
      return window.injectedRan === true;
    })()`);
    assert.equal(ran, false);
    await waitFor(() => problems.length > seen, 5000, 'a CSP report');
    assert.match(problems.splice(seen).join('\n'), /Content Security Policy/);
  });

  await t.test('a key that is neither an account nor an admin key is refused', async () => {
    await signIn('not-a-key');
    await waitText('#sign-in-error', /neither an account API key nor an admin key/);
    assert.equal(await page.locator('#send-form').count(), 0);
  });

  let id = '';
  await t.test('an account signs in, sees the segment count and sends a message', async () => {
    await signIn('acme-key-1');
    await page.waitForSelector('#send-form');
    assert.match((await page.textContent('#signed-in')) ?? '', /account key …ey-1/);
    // The key is kept for this tab only.
    const kept = await page.evaluate(() => sessionStorage.getItem('smsgw.console'));
    assert.deepEqual(JSON.parse(kept ?? 'null'), { role: 'account', key: 'acme-key-1' });

    await page.fill('#text', 'Hello from the console');
    await waitText('#segment-counter', /^GSM-7 · 1 segment · 22\/160 in the last, 138 left$/);
    await page.fill('#text', `Ünïcödé ${'€'.repeat(3)} 😀`);
    await waitText('#segment-counter', /^UCS-2 · 1 segment · .* because of .*😀/);
    await page.fill('#text', 'x'.repeat(161));
    await waitText('#segment-counter', /^GSM-7 · 2 segments · 8\/153 in the last/);

    await page.fill('#to', '+447700900123');
    await page.fill('#text', 'Hello from the console');
    await page.click('#send-form button[type=submit]');
    await waitText('#send-result', /^Accepted /);
    id = (await page.textContent('#send-result a')) ?? '';
    const stored = await acme('GET', `/v1/messages/${id}`);
    assert.equal(stored.status, 200);
    assert.equal(stored.body.text, 'Hello from the console');
    assert.equal(stored.body.to, '+447700900123');
    assert.equal(stored.body.from, 'ACME');
    // The form is ready for the next message.
    assert.equal(await page.inputValue('#text'), '');
  });

  await t.test('the message appears in the list and reaches delivered', async () => {
    await page.waitForSelector(`#messages tr[data-id="${id}"][data-status="delivered"]`);
    const cells = await page.locator(`#messages tr[data-id="${id}"] td`).allTextContents();
    assert.deepEqual(cells.slice(1), [
      '↑ out',
      '+447700900123',
      'ACME',
      'delivered',
      '1',
      'Hello from the console',
    ]);
    assert.equal((await acme('GET', `/v1/messages/${id}`)).body.status, 'delivered');
  });

  await t.test('refusals name the field', async () => {
    await page.fill('#to', 'not a number');
    await page.fill('#text', 'x');
    await page.click('#send-form button[type=submit]');
    await page.waitForSelector('#send-result.error');
    assert.match((await page.textContent('#send-result')) ?? '', /\(invalid_number, to\)/);
    assert.equal(await page.getAttribute('#to', 'aria-invalid'), 'true');
  });

  await t.test('message text is shown as text, never as markup', async () => {
    const markup = '<img src=x onerror="document.title=`owned`"><b>bold</b>';
    const sent = await acme('POST', '/v1/messages', { to: '+447700900124', text: markup });
    assert.equal(sent.status, 202);
    const row = page.locator(`#messages tr[data-id="${sent.body.id}"]`);
    await row.waitFor();
    assert.equal(await row.locator('td.text').textContent(), markup);
    assert.equal(await page.locator('#messages img, #messages b').count(), 0);
    assert.notEqual(await page.title(), 'owned');
  });

  await t.test('filters by status and direction', async () => {
    await acme('POST', '/v1/messages', { to: '+15550001234', text: 'will fail' });
    const injected = await admin('POST', '/v1/admin/connectors/sim/inbound', {
      from: '+447700900999',
      to: '+15550100',
      text: 'inbound hello',
    });
    assert.equal(injected.status, 202);
    await page.selectOption('#filter-status', 'undelivered');
    await waitRows((rows) => rows.length === 1 && rows[0].status === 'undelivered');
    await page.selectOption('#filter-status', '');
    await page.selectOption('#filter-direction', 'inbound');
    await waitRows((rows) => rows.length === 1 && rows[0].text.includes('inbound hello'));
    assert.equal(await page.locator('#messages tbody tr[data-status="received"]').count(), 1);
    await page.selectOption('#filter-direction', '');
  });

  await t.test('pages through older messages with the cursor', async () => {
    for (let i = 0; i < 20; i++)
      await acme('POST', '/v1/messages', { to: '+447700900200', text: `bulk ${i}` });
    // 24 messages in all, 20 a page: the first one sent is on page 2.
    await waitRows((rows) => rows.length === 20 && rows[0].text.includes('bulk 19'));
    assert.equal(await page.locator(`#messages tr[data-id="${id}"]`).count(), 0);
    assert.equal(await page.isDisabled('#page-newer'), true);
    await page.click('#page-older');
    await page.waitForSelector(`#messages tr[data-id="${id}"]`);
    assert.equal(await page.locator('#messages tbody tr').count(), 4);
    assert.equal(await page.isDisabled('#page-older'), true);
    await page.click('#page-newer');
    await waitRows((rows) => rows.length === 20 && rows[0].text.includes('bulk 19'));
  });

  await t.test("a message's detail shows its fields and events", async () => {
    await page.goto(`${gw.base}/console#/messages/${id}`);
    await page.waitForSelector('#message-detail h2');
    assert.equal(await page.textContent('#message-detail h2'), `Message ${id}`);
    assert.equal(await page.textContent('dd[data-field="Text"]'), 'Hello from the console');
    assert.equal(await page.textContent('dd[data-field="Connector"]'), 'sim');
    const events = await page
      .locator('#events li')
      .evaluateAll((lis) => lis.map((li) => li.getAttribute('data-type')));
    const expected = (await acme('GET', `/v1/messages/${id}`)).body.events.map(
      (e: { type: string }) => e.type,
    );
    assert.deepEqual(events, expected);
    assert.ok(events.includes('submitted') && events.includes('delivered'), events.join());
    // Another account's message is not found.
    const others = await api(gw.base, 'other-key-1')('POST', '/v1/messages', {
      to: '+447700900300',
      text: 'x',
    });
    await page.goto(`${gw.base}/console#/messages/${others.body.id}`);
    await waitText('#message-detail .error', /\(not_found, id\)/);
    await signOut();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('smsgw.console')), null);
  });

  await t.test('an admin stops and starts a connector and sees its state', async () => {
    await signIn('admin-key-123');
    const row = page.locator('#connectors tr[data-connector="sim"]');
    await page.waitForSelector('#connectors tr[data-connector="sim"][data-status="up"]');
    assert.equal(await row.locator('button.start').isDisabled(), true);
    await row.locator('button.stop').click();
    await page.waitForSelector('#connectors tr[data-connector="sim"][data-status="stopped"]');
    assert.equal((await admin('GET', '/v1/admin/connectors/sim')).body.status, 'stopped');
    await row.locator('button.start').click();
    await page.waitForSelector('#connectors tr[data-connector="sim"][data-status="up"]');
    assert.equal((await admin('GET', '/v1/admin/connectors/sim')).body.status, 'up');

    // Metrics, routes and accounts as the gateway reports them.
    await waitFor(
      async () => Number(await page.textContent('[data-metric="delivered"] .value')) >= 22,
      waitMs,
      'delivered count in the glance',
    );
    assert.equal(await page.textContent('[data-metric="binds"] .value'), '1/1');
    assert.deepEqual(await page.locator('#account-table tbody td:first-child').allTextContents(), [
      'acme',
      'other',
    ]);
    assert.deepEqual(await page.locator('#mt-routes tbody td').allTextContents(), [
      '1',
      'anything (default)',
      'sim',
      'failover',
    ]);
    await waitFor(async () =>
      (await page.locator('#receipt-table tbody td').first().textContent())?.startsWith('None'),
    );
  });

  assert.deepEqual(problems, []);
});
