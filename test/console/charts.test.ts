// The console's charts and health page in a real browser (Debian's Chromium): an admin lands
// on the overview, whose canvas charts show the messages sent; the health page shows a
// connector the carrier refuses, with why, and an ESME bound here, which the admin
// disconnects; an account's traffic page charts its own messages only.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { api, esme, gatewayFrom, waitFor } from '../e2e/helpers.ts';
import { requirePeer } from '../peers/available.ts';
import { consolePage } from './browser.ts';

const waitMs = 20_000;
const axeSource = readFileSync(new URL(import.meta.resolve('axe-core/axe.min.js')), 'utf8');

/** axe-core's serious and critical findings on the page as it is (rule: nodes). */
async function accessibilityProblems(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const { problems, passed } =
    (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => ({
    passed: r.passes.length,
    problems: r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', ')),
  }))`)) as { problems: string[]; passed: number };
  assert.ok(passed > 10, 'axe checked the page');
  return problems;
}

test('charts and health in the console', async (t) => {
  if (!requirePeer(t, 'Chromium')) return;
  // A carrier that takes no bind of ours: wrong password.
  const carrier = new SmscSimulator({ accounts: [{ systemId: 'gw', password: 'right' }] });
  const { port } = await carrier.listen(0);
  t.after(() => carrier.close());
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-123] }
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, smpp: { systemId: acme, password: secret } }
  - { id: other, apiKeys: [other-key-1], defaultFrom: OTHER }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10, outcomes: [{ to: "+1555000*", status: undelivered, error: "001" }] }
  - { id: refused, type: smpp, host: 127.0.0.1, port: ${port}, systemId: gw, password: wrong }
routes:
  mt: [{ connectors: [sim] }]
`);
  const acme = api(gw.base, 'acme-key-1');
  const { page, problems, signIn, text } = await consolePage(t, gw, waitMs);

  for (const to of ['+447700900001', '+447700900002', '+15550001234'])
    assert.equal((await acme('POST', '/v1/messages', { to, text: 'chart me' })).status, 202);
  await waitFor(async () => {
    const { data } = (await acme('GET', '/v1/messages')).body as { data: { status: string }[] };
    return data.every((m) => m.status === 'delivered' || m.status === 'undelivered');
  }, waitMs);

  await t.test('an admin lands on the overview, which draws the series on canvas', async () => {
    await signIn('admin-key-123');
    await page.waitForURL(/#\/admin$/);
    const chart = page.locator('#chart-messages[data-accepted="3"][data-delivered="2"][data-failed="1"]');
    await chart.waitFor();
    assert.ok((await page.locator('#chart-messages canvas').count()) >= 1);
    for (const other of ['#chart-ratio', '#chart-latency', '#chart-queue'])
      assert.ok((await page.locator(`${other} canvas`).count()) >= 1, other);
    // The canvas is drawn on: the delivered series' line (2, where no other line is) is painted in
    // its colour (about: antialiased).
    const paintedScript = `(() => {
      const canvas = document.querySelector('#chart-messages canvas');
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      const near = (i, v) => Math.abs(data[i] - v) < 40;
      let painted = 0;
      for (let i = 0; i < data.length; i += 4)
        if (data[i + 3] > 200 && near(i, 0x13) && near(i + 1, 0x7a) && near(i + 2, 0x3a)) painted++;
      return painted;
    })()`;
    await waitFor(
      async () => Number(await page.evaluate(paintedScript)) > 20,
      waitMs,
      'the delivered line drawn',
    );
    assert.match(
      await text('#chart-summary'),
      /3 accepted · 3 submitted · 2 delivered · 1 failed · 0 inbound/,
    );
    // Filtered to the other account: nothing.
    await page.selectOption('#chart-account', 'other');
    await page.locator('#chart-messages[data-accepted="0"]').waitFor();
    await page.selectOption('#chart-account', '');
    await page.selectOption('#chart-connector', 'sim');
    // Accepted messages have no connector yet; submitted ones went through sim.
    await page.locator('#chart-messages[data-accepted="0"][data-submitted="3"]').waitFor();
    assert.deepEqual(await accessibilityProblems(page), []);
  });

  await t.test('the health page shows why a connector is down, and since when', async () => {
    await page.click('nav a[href="#/health"]');
    // The page (and the nav marking it) is drawn when the hash change is handled.
    await page.locator('#health-connectors').waitFor();
    assert.equal(await page.getAttribute('nav a[href="#/health"]', 'aria-current'), 'page');
    const row = page.locator('#health-connectors tr[data-connector="refused"]');
    await row.locator('.reason', { hasText: /ESME_RINVPASWD/ }).waitFor();
    assert.equal(await row.getAttribute('data-status'), 'down');
    assert.match((await row.locator('td').nth(3).textContent()) ?? '', /ago/);
    await row.locator('details.bind-history summary').click();
    await row
      .locator('details.bind-history li', { hasText: /down .*ESME_RINVPASWD/ })
      .first()
      .waitFor();
    const sim = page.locator('#health-connectors tr[data-connector="sim"]');
    await sim.locator('.ratio', { hasText: '66.7 %' }).waitFor();
    assert.deepEqual(await accessibilityProblems(page), []);
  });

  await t.test('a bound ESME is listed and the admin disconnects it', async () => {
    const { client } = esme(gw.app.smppAddress!.port, { systemId: 'acme', password: 'secret' });
    client.start();
    t.after(() => client.stop());
    const session = await client.waitBound();
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    const row = page.locator('#smpp-sessions tr[data-account="acme"]');
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /acme.*transceiver.*127\.0\.0\.1:\d+/);
    await row.locator('button.disconnect').click();
    await closed;
    await page.locator('#session-result.ok', { hasText: /Disconnected acme/ }).waitFor();
    await row.waitFor({ state: 'detached' });
    assert.deepEqual((await api(gw.base, 'admin-key-123')('GET', '/v1/admin/smpp/sessions')).body, {
      data: [],
    });
  });

  await t.test('the health page loads directly from its URL', async () => {
    await page.goto(`${gw.base}/console#/health`);
    await page.locator('#health-connectors tr[data-connector="sim"]').waitFor();
    await page.locator('#cluster-nodes tr').first().waitFor();
  });

  await t.test("an account's traffic page charts its own messages", async () => {
    await page.click('#sign-out');
    await signIn('other-key-1');
    await page.click('nav a[href="#/traffic"]');
    await page.locator('#chart-messages[data-accepted="0"]').waitFor();
    await page.click('#sign-out');
    await signIn('acme-key-1');
    await page.click('nav a[href="#/traffic"]');
    await page.locator('#chart-messages[data-accepted="3"][data-delivered="2"]').waitFor();
    assert.equal(await page.locator('#chart-account').count(), 0, 'no account filter for an account');
    assert.equal(
      await page.locator('#chart-queue').count(),
      0,
      "the queue is the gateway's, shown to admins",
    );
    assert.ok((await page.locator('#chart-latency canvas').count()) >= 1);
  });

  assert.deepEqual(problems, []);
});
