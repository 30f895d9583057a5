// Onboarding a customer in the console (admin key) without touching a file: the account
// with its billing and policy, its first API key shown once, its starting credit; then its
// page: keys, credit, policy and deletion. What the page does is checked through the API.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, gatewayFrom } from '../e2e/helpers.ts';
import { requirePeer } from '../peers/available.ts';
import { axeViolations, consolePage } from './browser.ts';

const waitMs = 30_000;

test('an admin onboards a customer in the console', async (t) => {
  if (!requirePeer(t, 'Chromium')) return;
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-123] }
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }
connectors: [{ id: sim, type: simulator }]
routes:
  mt: [{ connectors: [sim] }]
pricing: [{ price: 0.05, currency: EUR }]
`);
  const admin = api(gw.base, 'admin-key-123');
  const { page, problems, signIn, text } = await consolePage(t, gw, waitMs);

  await signIn('admin-key-123');
  await page.click('nav a[href="#/accounts"]');
  await page.waitForSelector('#new-account');
  assert.equal(await page.getAttribute('nav a[href="#/accounts"]', 'aria-current'), 'page');
  await page.waitForSelector('#accounts tr[data-id="acme"]');

  // An id that is taken: the API's refusal is shown, its field marked.
  await page.fill('#new-account-id', 'acme');
  await page.click('#new-account button[type=submit]');
  await page.waitForSelector('#new-account-result.error');
  assert.match(await text('#new-account-result'), /account_exists/);
  assert.equal(await page.getAttribute('#new-account-id', 'aria-invalid'), 'true');

  await page.fill('#new-account-id', 'shop');
  await page.fill('#new-account-from', 'SHOP');
  await page.selectOption('#new-account-billing', 'prepaid');
  await page.fill('#new-account-currency', 'EUR');
  await page.fill('#new-account-credit', '1');
  await page.fill('#new-account-senders', 'SHOP');
  await page.fill('#new-account-destinations', '+44*');
  await page.click('#new-account button[type=submit]');
  await page.waitForSelector('#new-account-result.ok');
  const key = await text('#new-key');
  assert.match(key, /^sk_/);
  assert.match(await text('#new-balance'), /Balance: 1 EUR/);
  await page.waitForSelector('#accounts tr[data-id="shop"]');
  assert.deepEqual(await axeViolations(page), [], 'the accounts page passes axe (WCAG 2 A/AA)');

  const shop = api(gw.base, key);
  const sent = await shop('POST', '/v1/messages', { to: '+447700900123', text: 'hello' });
  assert.equal(sent.status, 202, JSON.stringify(sent.body));
  assert.equal(sent.body.from, 'SHOP');
  assert.equal(sent.body.price, 0.05);
  const elsewhere = await shop('POST', '/v1/messages', { to: '+15550100', text: 'hello' });
  assert.equal(elsewhere.body.error?.code, 'destination_not_allowed');
  const otherSender = await shop('POST', '/v1/messages', { to: '+447700900123', from: 'ACME', text: 'x' });
  assert.equal(otherSender.body.error?.code, 'sender_not_allowed');

  // Its page: the key listed by id only, more credit, the policy changed.
  await page.click('#accounts tr[data-id="shop"] a');
  await page.waitForSelector('#account-keys tbody tr');
  assert.deepEqual(await axeViolations(page), [], 'the account page passes axe (WCAG 2 A/AA)');
  assert.equal(await page.locator('#account-keys tbody tr').count(), 1);
  assert.ok(!(await text('#account-detail')).includes(key), 'the key is not shown again');
  await page.fill('#account-credit', '2');
  await page.click('#account-credit-form button[type=submit]');
  await page.waitForSelector('#account-result.ok');
  assert.match(await text('#account-result'), /Balance: 2\.95 EUR/);
  await page.fill('#account-destinations', '+44*, +1*');
  await page.click('#account-policy-form button[type=submit]');
  await page.locator('#account-result.ok', { hasText: 'Policy saved.' }).waitFor();
  assert.equal((await shop('POST', '/v1/messages', { to: '+15550100', text: 'hello' })).status, 202);
  const stored = await admin('GET', '/v1/admin/accounts/shop');
  assert.deepEqual(stored.body.policy, { senders: ['SHOP'], destinations: { allow: ['+44*', '+1*'] } });

  // SMPP credentials and the webhook.
  await page.fill('#account-smpp-system-id', 'shop');
  await page.fill('#account-smpp-password', 'pw-shop');
  await page.click('#account-smpp-form button[type=submit]');
  await page.locator('#account-result.ok', { hasText: 'SMPP credentials saved.' }).waitFor();
  await page.fill('#account-webhook-url', 'https://hooks.example.com/shop');
  await page.fill('#account-webhook-secret', 'whsec-shop');
  await page.click('#account-webhook-form button[type=submit]');
  await page.locator('#account-result.ok', { hasText: 'Webhook saved.' }).waitFor();
  const withBinds = await admin('GET', '/v1/admin/accounts/shop');
  assert.deepEqual(withBinds.body.smpp, { systemId: 'shop', maxBinds: 4 });
  assert.deepEqual(withBinds.body.webhook, { url: 'https://hooks.example.com/shop', secretSet: true });
  assert.equal(await text('dd[data-field="SMPP"]'), 'shop');

  // The credits are in the audit log, by the admin who made them.
  const credits = await admin('GET', '/v1/admin/audit?object=account');
  assert.deepEqual(
    credits.body.data
      .filter((e: { action: string }) => e.action === 'credit')
      .map((e: { objectId: string; after: { amount: number; balance: number } }) => [
        e.objectId,
        e.after.amount,
        e.after.balance,
      ]),
    [
      ['shop', 2, 2.95],
      ['shop', 1, 1],
    ],
  );

  // Deleted: its key stops working.
  page.once('dialog', (d) => void d.accept());
  await page.click('#account-delete');
  await page.waitForSelector('#new-account');
  assert.equal((await shop('POST', '/v1/messages', { to: '+447700900123', text: 'hello' })).status, 401);
  assert.deepEqual(problems, []);
});
