// The console's reminders pages in a real browser (Debian's Chromium): reminders made
// through the API are listed (another account's are not), one that was sent and answered
// shows its message and reply, a scheduled one is canceled from its page.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, gatewayFrom, waitFor } from '../e2e/helpers.ts';
import { requirePeer } from '../peers/available.ts';
import { consolePage } from './browser.ts';

const waitMs = 30_000;

test('reminders in the console', async (t) => {
  if (!requirePeer(t, 'Chromium')) return;
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-123] }
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: "+15550100" }
  - { id: other, apiKeys: [other-key-1], defaultFrom: "+15550200" }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10 }
routes:
  mt: [{ connectors: [sim] }]
  mo:
    - match: { to: ["+15550100"] }
      account: acme
`);
  const acme = api(gw.base, 'acme-key-1');
  const other = api(gw.base, 'other-key-1');
  const admin = api(gw.base, 'admin-key-123');
  const { page, problems, signIn, text } = await consolePage(t, gw, waitMs);
  const field = (label: string) => text(`#reminder-detail dd[data-field="${label}"]`);

  const inAnHour = new Date(Date.now() + 3600_000).toISOString();
  const later = await acme('POST', '/v1/reminders', {
    to: '+447700905001',
    at: inAnHour,
    text: 'Dentist at 10:00 tomorrow. Reply YES to confirm.',
    replies: { YES: 'confirmed' },
  });
  assert.equal(later.status, 201, JSON.stringify(later.body));
  const soon = await acme('POST', '/v1/reminders', {
    to: '+447700905002',
    at: new Date(Date.now() + 1000).toISOString(),
    text: 'Haircut at 15:00. Reply YES to confirm.',
    replies: { YES: 'confirmed', NO: 'declined' },
  });
  assert.equal(soon.status, 201, JSON.stringify(soon.body));
  const theirs = await other('POST', '/v1/reminders', {
    to: '+447700905003',
    at: inAnHour,
    text: 'not for acme',
    replies: { YES: 'confirmed' },
  });
  assert.equal(theirs.status, 201, JSON.stringify(theirs.body));

  // The second one is sent and answered before the console looks.
  const sent = await waitFor(async () => {
    const r = (await acme('GET', `/v1/reminders/${soon.body.id}`)).body;
    return r.status === 'sent' && r;
  }, 15_000);
  assert.equal(
    (
      await admin('POST', '/v1/admin/connectors/sim/inbound', {
        from: '+447700905002',
        to: '+15550100',
        text: 'yes please',
      })
    ).status,
    202,
  );
  await waitFor(async () => (await acme('GET', `/v1/reminders/${soon.body.id}`)).body.status === 'confirmed');

  await signIn('acme-key-1');
  await page.waitForSelector('#send-form');

  await t.test("the account's reminders are listed, another account's are not", async () => {
    assert.deepEqual(await page.locator('nav a').allTextContents(), [
      'Messages',
      'Batches',
      'Alerts',
      'Reminders',
      'Traffic',
      'Verify',
      'Suppressions',
      'Balance',
      'Usage',
    ]);
    await page.click('nav a[href="#/reminders"]');
    const row = page.locator(`#reminders tr[data-id="${later.body.id}"][data-status="scheduled"]`);
    await row.waitFor();
    assert.equal(await page.getAttribute('nav a[href="#/reminders"]', 'aria-current'), 'page');
    const cells = await row.locator('td').allTextContents();
    assert.deepEqual(cells.slice(1), [
      'scheduled',
      '+447700905001',
      'Dentist at 10:00 tomorrow. Reply YES to confirm.',
    ]);
    assert.notEqual(cells[0], '—');
    assert.equal(
      await page.locator(`#reminders tr[data-id="${soon.body.id}"][data-status="confirmed"]`).count(),
      1,
    );
    assert.equal(await page.locator(`#reminders tr[data-id="${theirs.body.id}"]`).count(), 0);
    assert.equal(await page.locator('#reminders tbody tr').count(), 2);
    assert.equal(await page.isDisabled('#reminders-page-older'), true);
  });

  await t.test('an answered reminder shows its message and reply, and cannot be canceled', async () => {
    await page.click(`#reminders tr[data-id="${soon.body.id}"] a`);
    await page.waitForSelector('#reminder-detail h2');
    assert.equal(await text('#reminder-detail h2'), `Reminder ${soon.body.id}`);
    assert.equal(await field('Status'), 'confirmed');
    assert.equal(await field('To'), '+447700905002');
    assert.equal(await field('From'), '+15550100');
    assert.equal(await field('Text'), 'Haircut at 15:00. Reply YES to confirm.');
    assert.equal(await field('Replies'), 'YES → confirmed; NO → declined');
    assert.equal(await field('Reply'), 'yes please');
    assert.equal(await field('Reply keyword'), 'YES');
    assert.notEqual(await field('Sent'), '—');
    assert.equal(await field('Message'), sent.messageId);
    assert.equal(await page.isDisabled('#reminder-cancel'), true);
    // The message link opens the message the reminder sent.
    await page.click('#reminder-detail dd[data-field="Message"] a');
    await page.waitForSelector('#message-detail h2');
    assert.equal(await text('#message-detail h2'), `Message ${sent.messageId}`);
    assert.equal(
      await text('#message-detail dd[data-field="Text"]'),
      'Haircut at 15:00. Reply YES to confirm.',
    );
  });

  await t.test('a scheduled reminder is canceled from its page, after asking', async () => {
    await page.goto(`${gw.base}/console#/reminders/${later.body.id}`);
    await page.waitForSelector('#reminder-detail dd[data-field="Status"] .badge-scheduled');
    assert.equal(await field('Reply'), '—');
    assert.equal(await page.isDisabled('#reminder-cancel'), false);

    let asked = '';
    page.once('dialog', (dialog) => {
      asked = dialog.message();
      return dialog.dismiss();
    });
    await page.click('#reminder-cancel');
    assert.equal(
      asked,
      'Cancel the reminder to +447700905001? Its message will not be sent. This cannot be undone.',
    );
    assert.equal((await acme('GET', `/v1/reminders/${later.body.id}`)).body.status, 'scheduled');

    page.once('dialog', (dialog) => dialog.accept());
    await page.click('#reminder-cancel');
    await page.waitForSelector('#reminder-detail dd[data-field="Status"] .badge-canceled');
    assert.equal(await page.isDisabled('#reminder-cancel'), true);
    const stored = (await acme('GET', `/v1/reminders/${later.body.id}`)).body;
    assert.equal(stored.status, 'canceled');
    assert.equal((await acme('GET', `/v1/messages/${stored.messageId}`)).body.status, 'canceled');
  });

  await t.test("another account's reminder is not shown", async () => {
    await page.goto(`${gw.base}/console#/reminders/${theirs.body.id}`);
    await page.waitForSelector('#reminder-detail .error');
    assert.match(await text('#reminder-detail .error'), /\(not_found, id\)/);
  });

  assert.deepEqual(problems, []);
});
