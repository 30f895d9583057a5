// The console's batch and alert pages in a real browser (Debian's Chromium) against a
// gateway whose simulator sends 2 messages a second: create a batch through the form, follow
// it on the list and its page, pause it (sending stops), resume, cancel; a CSV the API
// refuses shows the API's error; an alert made through the API is listed and canceled.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { api, gatewayFrom, waitFor } from '../e2e/helpers.ts';
import { requirePeer } from '../peers/available.ts';
import { consolePage } from './browser.ts';

const waitMs = 30_000;
const recipients = 100;

type Counts = Record<string, number>;

test('batches and alerts in the console', async (t) => {
  if (!requirePeer(t, 'Chromium')) return;
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-123] }
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }
  - { id: other, apiKeys: [other-key-1], defaultFrom: OTHER }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 50, tps: 2 }
routes:
  mt: [{ connectors: [sim] }]
`);
  const acme = api(gw.base, 'acme-key-1');
  const other = api(gw.base, 'other-key-1');
  const admin = api(gw.base, 'admin-key-123');
  const { page, problems, signIn, text } = await consolePage(t, gw, waitMs);

  const batch = async (id: string) => {
    const res = await acme('GET', `/v1/batches/${id}`);
    assert.equal(res.status, 200);
    return res.body as { status: string; total: number; counts: Counts; skipped: Counts };
  };
  /** Messages of the batch that have left the gateway (all but those still to send). */
  const left = (b: { total: number; counts: Counts }) =>
    b.total - ['queued', 'scheduled', 'paused', 'sending'].reduce((n, s) => n + (b.counts[s] ?? 0), 0);

  await signIn('acme-key-1');
  await page.waitForSelector('#send-form');

  let id = '';
  await t.test('a batch is created through the form and shows on the list', async () => {
    // The list carries each batch's counts: the page asks for no batch one by one.
    const batchReads: string[] = [];
    const onRequest = (req: { method(): string; url(): string }) => {
      if (req.method() === 'GET' && /\/v1\/batches\/[^/?]+(\?|$)/.test(req.url())) batchReads.push(req.url());
    };
    page.on('request', onRequest);
    await page.click('nav a[href="#/batches"]');
    await page.waitForSelector('#batch-form');
    assert.equal(await page.getAttribute('nav a[href="#/batches"]', 'aria-current'), 'page');
    const rows = Array.from({ length: recipients }, (_, i) => `+44770090${1000 + i},Guest ${i}`);
    // One number twice, one that is not a number, one without a name: skipped and counted.
    const csv = ['to,name', ...rows, rows[0], 'not-a-number,Nobody', '+447700909999,'].join('\n');
    await page.fill('#batch-text', 'Hello {{name}}, your table is ready');
    await page.fill('#batch-csv', csv);
    await page.click('#batch-form button[type=submit]');
    await page.waitForSelector('#batch-result.ok');
    id = await text('#batch-result a');
    assert.equal(await page.getAttribute('#batch-result [data-total]', 'data-total'), String(recipients));
    assert.match(await text('#batch-result'), /duplicate 1 · invalid 1 · missing_variable 1/);
    assert.equal(await page.getAttribute('#batch-result [data-skipped]', 'data-skipped'), '3');
    assert.match(await text('#batch-result ul'), /not-a-number — invalid/);
    assert.match(await text('#batch-result ul'), /\+447700909999 — missing_variable \(no \{\{name\}\}\)/);
    // The form is ready for the next batch.
    assert.equal(await page.inputValue('#batch-csv'), '');

    const stored = await batch(id);
    assert.equal(stored.total, recipients);
    assert.deepEqual(stored.skipped, { duplicate: 1, opted_out: 0, invalid: 1, missing_variable: 1 });
    const row = page.locator(`#batches tr[data-id="${id}"]`);
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    assert.equal(cells[3], String(recipients));
    assert.equal(cells[6], '3');
    // Counts by status (`queued 98 · submitted 2`) of every message of the batch.
    assert.match(cells[5]!, /^[a-z]+ \d+( · [a-z]+ \d+)*$/);
    const counted = [...cells[5]!.matchAll(/\d+/g)].reduce((n, [k]) => n + Number(k), 0);
    assert.equal(counted, recipients);
    assert.match(cells[4]!, /^\d+$/);
    // A refresh of the list (every 5 s) reads no batch by itself either.
    await page.waitForResponse((res) => /\/v1\/batches\?/.test(res.url()), { timeout: 10_000 });
    page.off('request', onRequest);
    assert.deepEqual(batchReads, []);
  });

  let pausedLeft = 0;
  await t.test("the batch's page shows rate and ETA; Pause stops the sending", async () => {
    await page.click(`#batches tr[data-id="${id}"] a`);
    await page.waitForSelector('#batch-detail h2');
    assert.equal(await text('#batch-detail h2'), `Batch ${id}`);
    assert.equal(await text('dd[data-field="Total"]'), String(recipients));
    assert.equal(await text('dd[data-field="Text"]'), 'Hello {{name}}, your table is ready');
    assert.deepEqual(await page.locator('#batch-detail ul.skipped-rows li').allTextContents(), [
      `row ${recipients + 1}: +447700901000 — duplicate`,
      `row ${recipients + 2}: not-a-number — invalid`,
      `row ${recipients + 3}: +447700909999 — missing_variable (no {{name}})`,
    ]);
    // The page refreshes itself: messages go out, the rate and the ETA appear.
    await waitFor(
      async () =>
        /messages\/s/.test(await text('dd[data-field="Rate"]')) &&
        (await text('dd[data-field="ETA"]')) !== '—',
      waitMs,
      'an ETA on the page',
    );
    assert.equal(await page.isDisabled('#batch-resume'), true);

    await page.click('#batch-pause');
    await page.waitForSelector('#batch-detail dd[data-field="Status"] .badge-paused');
    assert.equal(await page.isDisabled('#batch-pause'), true);
    assert.equal((await batch(id)).status, 'paused');
    // Those already on the wire finish; then nothing more leaves.
    const settled = await waitFor(
      async () => {
        const b = await batch(id);
        return !b.counts.queued && !b.counts.sending ? b : undefined;
      },
      waitMs,
      'the paused batch to settle',
    );
    pausedLeft = left(settled);
    assert.ok(settled.counts.paused > 0, JSON.stringify(settled.counts));
    assert.ok(pausedLeft > 0 && pausedLeft < recipients, String(pausedLeft));
    await sleep(3000);
    const later = await batch(id);
    assert.equal(later.status, 'paused');
    assert.equal(left(later), pausedLeft);
    assert.equal(later.counts.paused, settled.counts.paused);
    await page.waitForSelector(
      `#batch-counts tr[data-status="paused"] td.num >> text="${later.counts.paused}"`,
    );
    await page.waitForSelector(`#batch-detail p.progress[data-sent="${pausedLeft}"]`);
  });

  await t.test('Resume sends again; Cancel asks first, then stops the batch', async () => {
    await page.click('#batch-resume');
    await page.waitForSelector('#batch-detail dd[data-field="Status"] .badge-running');
    await waitFor(async () => left(await batch(id)) > pausedLeft, waitMs, 'sending after resume');

    // Declining the confirmation changes nothing.
    let asked = '';
    page.once('dialog', (dialog) => {
      asked = dialog.message();
      dialog.dismiss();
    });
    await page.click('#batch-cancel');
    await waitFor(() => asked !== '', waitMs, 'the confirmation');
    assert.match(asked, new RegExp(`^Cancel batch ${id}\\? Its \\d+ messages? not yet sent`));
    assert.equal((await batch(id)).status, 'running');

    page.once('dialog', (dialog) => dialog.accept());
    await page.click('#batch-cancel');
    await page.waitForSelector('#batch-detail dd[data-field="Status"] .badge-canceled');
    const canceled = await batch(id);
    assert.equal(canceled.status, 'canceled');
    assert.ok(canceled.counts.canceled > 0, JSON.stringify(canceled.counts));
    assert.equal(await page.isDisabled('#batch-cancel'), true);
    await page.waitForSelector(
      `#batch-counts tr[data-status="canceled"] td.num >> text="${canceled.counts.canceled}"`,
    );
    await page.click('a[href="#/batches"]');
    await page.waitForSelector(`#batches tr[data-id="${id}"][data-status="canceled"]`);
  });

  await t.test("a CSV the API refuses shows the API's error next to the form", async () => {
    const body = { text: 'Hi {{name}}', csv: 'name\nAnn' };
    const refused = await acme('POST', '/v1/batches', body);
    assert.equal(refused.status, 400);
    await page.fill('#batch-text', body.text);
    await page.fill('#batch-csv', body.csv);
    await page.click('#batch-form button[type=submit]');
    await page.waitForSelector('#batch-result.error');
    const { code, message, field } = refused.body.error;
    assert.equal(await text('#batch-result'), `${message} (${code}, ${field})`);
    assert.equal(await page.getAttribute('#batch-csv', 'aria-invalid'), 'true');
    // What was typed is kept, to be corrected.
    assert.equal(await page.inputValue('#batch-csv'), body.csv);
  });

  await t.test('a batch with a send time is scheduled for that time', async () => {
    await page.fill('#batch-text', 'Later, {{name}}');
    await page.fill('#batch-csv', 'to,name\n+447700904000,Ann');
    // The field is the reader's local time; the API is given the same instant in UTC.
    // Next year: a send time more than 10 years ahead is refused.
    const local = `${new Date().getFullYear() + 1}-01-02T03:04`;
    await page.fill('#batch-send-at', local);
    const expected = await page.evaluate((l) => new Date(l).toISOString(), local);
    await page.click('#batch-form button[type=submit]');
    await page.waitForSelector('#batch-result.ok');
    assert.match(await text('#batch-result'), / · scheduled · 1 message · skipped: none$/);
    const scheduled = await acme('GET', `/v1/batches/${await text('#batch-result a')}`);
    assert.equal(scheduled.body.status, 'scheduled');
    assert.equal(scheduled.body.sendAt, expected);
  });

  await t.test("another account's batch is neither listed nor shown", async () => {
    const theirs = await other('POST', '/v1/batches', { text: 'x', csv: 'to\n+447700902000' });
    assert.equal(theirs.status, 202);
    await page.selectOption('#filter-batch-status', '');
    await page.waitForSelector(`#batches tr[data-id="${id}"]`);
    assert.equal(await page.locator(`#batches tr[data-id="${theirs.body.id}"]`).count(), 0);
    await page.goto(`${gw.base}/console#/batches/${theirs.body.id}`);
    await page.waitForSelector('#batch-detail .error');
    assert.match(await text('#batch-detail .error'), /\(not_found, id\)/);
  });

  await t.test('an alert made through the API is listed, opened and canceled', async () => {
    // With the connector stopped the alert's messages wait in the queue, to be canceled.
    assert.equal((await admin('POST', '/v1/admin/connectors/sim/stop')).status, 200);
    const numbers = ['+447700903001', '+447700903002', '+447700903003'];
    const made = await acme('POST', '/v1/alerts', {
      text: 'Flood warning: move to high ground',
      recipients: numbers,
    });
    assert.equal(made.status, 202);
    const theirs = await other('POST', '/v1/alerts', { text: 'not for acme', recipients: ['+447700903004'] });
    assert.equal(theirs.status, 202);

    await page.click('nav a[href="#/alerts"]');
    const row = page.locator(`#alerts tr[data-id="${made.body.id}"][data-status="sending"]`);
    await row.waitFor();
    assert.equal(await page.locator(`#alerts tr[data-id="${theirs.body.id}"]`).count(), 0);
    const cells = await row.locator('td').allTextContents();
    assert.deepEqual(cells.slice(1), ['sending', '3', '0', 'queued 3', 'Flood warning: move to high ground']);

    await row.locator('a').click();
    await page.waitForSelector('#alert-detail h2');
    assert.equal(await text('#alert-detail h2'), `Alert ${made.body.id}`);
    assert.equal(await text('dd[data-field="Total"]'), '3');
    await page.waitForSelector('#alert-counts tr[data-status="queued"] td.num >> text="3"');
    page.once('dialog', (dialog) => dialog.accept());
    await page.click('#alert-cancel');
    await page.waitForSelector('#alert-detail dd[data-field="Status"] .badge-canceled');
    await page.waitForSelector('#alert-counts tr[data-status="canceled"] td.num >> text="3"');
    assert.equal(await page.isDisabled('#alert-cancel'), true);
    const stored = await acme('GET', `/v1/alerts/${made.body.id}`);
    assert.equal(stored.body.status, 'canceled');
    assert.deepEqual(stored.body.counts, { canceled: 3 });
    assert.equal((await admin('POST', '/v1/admin/connectors/sim/start')).status, 200);
  });

  assert.deepEqual(problems, []);
});
