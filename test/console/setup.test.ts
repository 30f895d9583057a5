// The console's Setup and Audit pages (admin key): a connector added and the MT rules
// replaced from their JSON editors, a refusal shown with the path it names, and the
// changes listed in the audit log. What the page does is checked through the API.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, gatewayFrom } from '../e2e/helpers.ts';
import { requirePeer } from '../peers/available.ts';
import { axeViolations, consolePage } from './browser.ts';

const waitMs = 30_000;

test('an admin adds a connector and replaces the MT rules in the console; the audit log lists it', async (t) => {
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
`);
  const admin = api(gw.base, 'admin-key-123');
  const explain = async () =>
    (await admin('GET', '/v1/admin/routes/mt/explain?to=%2B447700900123')).body.connectors as string[];
  const { page, problems, signIn, text } = await consolePage(t, gw, waitMs);

  await signIn('admin-key-123');
  await page.goto(`${gw.base}/console#/setup`);
  await page.waitForSelector('#setup-connectors tr[data-id="sim"]').catch(async (err) => {
    // What the page showed instead, and what it reported.
    const shown = `at ${await page.evaluate('location.hash')}: ${await page.textContent('main')}`;
    throw new Error(`${(err as Error).message}\n${shown}\nproblems: ${problems.join('; ')}`);
  });
  assert.equal(await page.getAttribute('nav a[href="#/setup"]', 'aria-current'), 'page');
  assert.match(await text('#mt-routes-source'), /config file/);

  await page.fill('#new-connector', JSON.stringify({ id: 'sim2', type: 'simulator', deliveryDelayMs: 10 }));
  await page.click('#new-connector-add');
  await page.locator('#setup-result.ok', { hasText: 'Connector added.' }).waitFor();
  await page.waitForSelector('#setup-connectors tr[data-id="sim2"]');

  // A rule naming no connector that exists: the gateway's refusal, with its path.
  await page.fill('#mt-routes', JSON.stringify([{ connectors: ['nope'] }]));
  await page.click('#mt-routes-save');
  await page.waitForSelector('#setup-result.error');
  assert.match(await text('#setup-result'), /invalid_routes, routes\.mt\[0\]\.connectors\[0\]/);
  assert.deepEqual(await explain(), ['sim']);

  await page.fill('#mt-routes', JSON.stringify([{ connectors: ['sim2'] }]));
  await page.click('#mt-routes-save');
  await page.locator('#setup-result.ok', { hasText: 'MT rules saved' }).waitFor();
  assert.deepEqual(await explain(), ['sim2']);
  await page.locator('#mt-routes-source', { hasText: 'admin API' }).waitFor();
  assert.deepEqual(await axeViolations(page), [], 'the setup page passes axe (WCAG 2 A/AA)');

  await page.click('nav a[href="#/audit"]');
  await page.waitForSelector('#audit tbody tr[data-id]');
  const rows = await page.locator('#audit tbody tr[data-id]').allTextContents();
  assert.equal(rows.length, 2);
  assert.match(rows[0]!, /update\s*routes mt/);
  assert.match(rows[1]!, /create\s*connector sim2/);
  assert.match(rows[1]!, /admin:[0-9a-f]{16}/);
  assert.deepEqual(await axeViolations(page), [], 'the audit page passes axe (WCAG 2 A/AA)');
  assert.deepEqual(problems, []);
});
