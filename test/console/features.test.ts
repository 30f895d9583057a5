// Every feature of the console in a real browser (Debian's Chromium), issue #22: each page
// linked from the nav and loaded straight from its URL, at 1440 px and 375 px wide (no
// page-wide horizontal scroll), with no serious or critical axe-core finding; messages found
// through the search box (a number with or without `+`, on Enter) and exported as CSV; the
// batch form's sender, schedule, dry run and file upload; the alert, reminder, suppression
// forms; Verify, balance and usage; keyboard use; values a user supplied shown as text, never
// run as markup. The screenshots in docs/images/ (README "Web console") are made here.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page, Route } from 'playwright-core';
import { api, gatewayFrom, waitFor } from '../e2e/helpers.ts';
import { requirePeer } from '../peers/available.ts';
import { consolePage } from './browser.ts';

const waitMs = 30_000;
const imagesDir = join(import.meta.dirname, '..', '..', 'docs', 'images');
const axeSource = readFileSync(
  join(import.meta.dirname, '..', '..', 'node_modules', 'axe-core', 'axe.min.js'),
  'utf8',
);
/** Runs if rendered as markup: sets a flag the test looks for. */
const xss = '<img src=x onerror="window.xssRan=1">';

const accountPages = [
  ['messages', '#message-search'],
  ['batches', '#batch-form'],
  ['alerts', '#alert-form'],
  ['reminders', '#reminder-form'],
  ['verify', '#verifications'],
  ['suppressions', '#suppression-add'],
  ['balance', '#balance-value'],
  ['usage', '#usage'],
] as const;

/** Serious and critical axe-core findings on the page as it is (the script is evaluated, so the page's CSP stays on). */
async function axeFindings(page: Page): Promise<string[]> {
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(axeSource);
  const violations = (await page.evaluate(
    `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) })))`,
  )) as Array<{ id: string; impact: string; nodes: string[] }>;
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.nodes.join(', ')}`);
}

/** Inline scripts, style attributes and `on…` handler attributes in the page. */
const inlineCount = `document.querySelectorAll('script:not([src]), [style]').length +
  [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length`;

/** How far the page scrolls sideways (0: it fits the window). */
const sidewaysScroll = (page: Page) =>
  page.evaluate(
    'document.documentElement.scrollWidth - document.documentElement.clientWidth',
  ) as Promise<number>;

test('every console feature, reachable, accessible, at phone and desktop widths', async (t) => {
  if (!requirePeer(t, 'Chromium')) return;
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-123] }
pricing: [{ match: { to: ["+44*"] }, price: 0.05, currency: EUR }]
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, defaultCountry: GB, billing: { type: prepaid, currency: EUR } }
  - { id: other, apiKeys: [other-key-1], defaultFrom: OTHER }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 20 }
routes:
  mt: [{ connectors: [sim] }]
  mo: [{ account: acme }]
`);
  const acme = api(gw.base, 'acme-key-1');
  const other = api(gw.base, 'other-key-1');
  const admin = api(gw.base, 'admin-key-123');
  const { page, problems, signIn, text } = await consolePage(t, gw, waitMs);
  page.on('dialog', (dialog) => dialog.accept());
  mkdirSync(imagesDir, { recursive: true });

  assert.equal(
    (await admin('POST', '/v1/admin/accounts/acme/credit', { amount: 10, reference: 'top-up' })).status,
    200,
  );
  const send = async (body: Record<string, unknown>, as = acme) => {
    const res = await as('POST', '/v1/messages', body);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body as { id: string };
  };
  const first = await send({ to: '+447700900123', text: 'Table for two at 8', clientRef: 'booking-17' });
  const second = await send({ to: '+447700900456', text: 'Your order has shipped' });
  const marked = await send({ to: '+447700900789', text: xss });
  const theirs = await send({ to: '+447700900123', text: 'not yours' }, other);
  // A sender written by a carrier (inbound), and a reply from the number searched for.
  for (const from of [xss, '+447700900123'])
    assert.equal(
      (
        await admin('POST', '/v1/admin/connectors/sim/inbound', {
          from,
          to: '+447700900500',
          text: `from ${from}`,
        })
      ).status,
      202,
    );
  await waitFor(
    async () => ((await acme('GET', '/v1/messages?direction=inbound')).body.data as unknown[]).length === 2,
    waitMs,
  );
  assert.equal((await acme('POST', '/v1/verify', { to: '+447700900321' })).status, 201);

  await signIn('acme-key-1');
  await page.waitForSelector('#message-search');

  const rowIds = () =>
    page
      .locator('#messages tbody tr[data-id]')
      .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
  /** Types a search and presses Enter; resolves once the list shows `expected`. */
  const searchFor = async (term: string, expected: (ids: (string | null)[]) => boolean) => {
    await page.fill('#message-search', term);
    await page.press('#message-search', 'Enter');
    return waitFor(
      async () => {
        const ids = await rowIds();
        return expected(ids) ? ids : undefined;
      },
      waitMs,
      `search ${term}`,
    );
  };

  await t.test(
    'messages are found through the search box, on Enter, by number with or without +',
    async () => {
      assert.equal(await page.getAttribute('#message-search', 'type'), 'search');
      const inbound = (await acme('GET', '/v1/messages?direction=inbound&q=%2B447700900123')).body.data[0]
        .id as string;
      const both = [inbound, first.id];
      for (const term of ['+447700900123', '447700900123', '07700 900123']) {
        const ids = await searchFor(term, (ids) => ids.length === 2);
        assert.deepEqual(ids, both, term);
      }
      assert.deepEqual(await searchFor('booking-17', (ids) => ids.length === 1), [first.id]);
      assert.deepEqual(await searchFor(second.id, (ids) => ids[0] === second.id), [second.id]);
      // Another account's message is not found.
      assert.deepEqual(await searchFor(theirs.id, (ids) => ids.length === 0), []);
      await searchFor('447700900123', (ids) => ids.length === 2);
      await page.selectOption('#filter-direction', 'inbound');
      assert.deepEqual(
        await waitFor(async () => ((await rowIds()).length === 1 ? rowIds() : undefined), waitMs),
        [inbound],
      );
      await page.selectOption('#filter-direction', '');
      // A date range: the next day onwards finds nothing, their day finds them.
      // Days counted from the messages' own (not the clock's: a run may pass midnight).
      const created = Date.parse((await acme('GET', `/v1/messages/${first.id}`)).body.createdAt);
      const day = (offset: number) => {
        const d = new Date(created + offset * 86_400_000);
        return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
      };
      await page.fill('#filter-since', day(1));
      await page.dispatchEvent('#filter-since', 'change');
      await waitFor(async () => (await rowIds()).length === 0, waitMs, 'nothing from the next day');
      await page.fill('#filter-since', day(0));
      await page.fill('#filter-until', day(0));
      await page.dispatchEvent('#filter-until', 'change');
      await waitFor(async () => (await rowIds()).length === 2, waitMs, 'that day’s');
      await page.screenshot({ path: join(imagesDir, 'console-messages.png') });

      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#messages-export')]);
      const csv = readFileSync((await download.path())!, 'utf8')
        .trim()
        .split('\r\n');
      assert.match(csv[0]!, /^id,createdAt,direction,status,from,to,text,/);
      assert.deepEqual(
        csv.slice(1).map((line) => line.split(',')[0]),
        both,
      );
      await page.fill('#filter-since', '');
      await page.fill('#filter-until', '');
      await page.fill('#message-search', '');
      await page.press('#message-search', 'Enter');
    },
  );

  await t.test('a search is kept in the URL and loads straight from it', async () => {
    await searchFor('booking-17', (ids) => ids.length === 1);
    assert.equal(new URL(page.url()).hash, '#/messages?q=booking-17');
    await page.goto(`${gw.base}/console#/messages?q=%2B447700900123&direction=inbound`);
    await page.reload();
    const inbound = await waitFor(async () => {
      const ids = await rowIds();
      return ids.length === 1 ? ids[0] : undefined;
    }, waitMs);
    assert.equal((await acme('GET', `/v1/messages/${inbound}`)).body.direction, 'inbound');
    assert.equal(await page.inputValue('#message-search'), '+447700900123');
    assert.equal(await page.inputValue('#filter-direction'), 'inbound');
    assert.equal(await page.getAttribute('nav a[href="#/messages"]', 'aria-current'), 'page');
    await page.goto(`${gw.base}/console#/messages`);
    await page.reload();
    await page.waitForSelector('#message-search');
  });

  await t.test('a refresh that was under way when a search ran does not overwrite its results', async () => {
    await searchFor('', (ids) => ids.length >= 5);
    // Every row count the list shows from now on.
    await page.evaluate(`window.rowCounts = [];
      new MutationObserver(() => window.rowCounts.push(document.querySelectorAll('#messages tbody tr[data-id]').length))
        .observe(document.querySelector('#messages tbody'), { childList: true })`);
    const unfiltered = /\/v1\/messages\?limit=20$/;
    const held: Route[] = [];
    await page.route(unfiltered, (route) => {
      held.push(route);
    });
    await waitFor(() => held.length > 0, waitMs, 'a refresh held');
    assert.deepEqual(await searchFor('booking-17', (ids) => ids.length === 1), [first.id]);
    // The refreshes take turns: the next one is asked only once the held one is handled.
    const nextRefresh = page.waitForRequest((req) => req.url().includes('q=booking-17'));
    for (const route of held) await route.continue();
    await page.unroute(unfiltered);
    await nextRefresh;
    assert.ok(
      ((await page.evaluate('window.rowCounts')) as number[]).every((n) => n <= 1),
      'the stale answer was shown',
    );
  });

  await t.test('values a user supplied show as text, never as markup', async () => {
    await searchFor('', (ids) => ids.length >= 5);
    const cells = await page.locator('#messages tbody').textContent();
    assert.ok(cells?.includes(xss), 'the text and the sender show literally');
    assert.equal(await page.locator('main img').count(), 0);
    await page.click(`#messages tr[data-id="${marked.id}"] a`);
    await page.waitForSelector('#message-detail dd[data-field="Text"]');
    assert.equal(await text('#message-detail dd[data-field="Text"]'), xss);
    assert.equal(await page.locator('main img').count(), 0);
    assert.equal(await page.evaluate('window.xssRan'), undefined);
  });

  await t.test(
    'the batch form: sender, name, schedule, a dry run with cost and counts, a file streamed',
    async () => {
      await page.click('nav a[href="#/batches"]');
      await page.waitForSelector('#batch-form');
      await page.fill('#batch-name', 'December offers');
      await page.fill('#batch-from', 'ACMEDEALS');
      await page.fill('#batch-text', 'Hi {{name}}');
      await page.fill('#batch-csv', 'to,name\n+447700901001,Ann\n+447700901002,Bob\nnot-a-number,Eve');
      await page.click('#batch-dry-run');
      await page.waitForSelector('#batch-estimate');
      assert.equal(await page.getAttribute('#batch-estimate [data-total]', 'data-total'), '2');
      assert.equal(await page.getAttribute('#batch-estimate [data-segments]', 'data-segments'), '2');
      assert.equal(await page.getAttribute('#batch-estimate [data-price]', 'data-price'), '0.1');
      assert.match(await text('#batch-estimate'), /0\.1 EUR/);
      assert.equal(await page.getAttribute('#batch-estimate [data-skipped]', 'data-skipped'), '1');
      // Nothing was stored.
      assert.deepEqual((await acme('GET', '/v1/batches')).body.data, []);
      await page.screenshot({ path: join(imagesDir, 'console-batch.png'), fullPage: true });

      // The same recipients as a file, sent as it is to the CSV endpoint, scheduled.
      const uploads: string[] = [];
      const onRequest = (req: { method(): string; url(): string; headers(): Record<string, string> }) => {
        if (req.method() === 'POST' && req.url().includes('/v1/batches'))
          uploads.push(`${req.headers()['content-type']} ${req.url()}`);
      };
      page.on('request', onRequest);
      await page.fill('#batch-csv', '');
      await page.fill('#batch-name', xss);
      await page.setInputFiles('#batch-csv-file', {
        name: 'guests.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from('to,name\n+447700901001,Ann\n+447700901002,Bob\n'),
      });
      const later = new Date(Date.now() + 3 * 86_400_000);
      const local = `${later.getFullYear()}-${String(later.getMonth() + 1).padStart(2, '0')}-${String(later.getDate()).padStart(2, '0')}T09:30`;
      await page.fill('#batch-send-at', local);
      await page.click('#batch-create');
      await page.waitForSelector('#batch-result.ok a');
      page.off('request', onRequest);
      assert.equal(uploads.length, 1);
      assert.match(uploads[0]!, /^text\/csv \S+\/v1\/batches\?/);
      const id = await text('#batch-result a');
      const batch = (await acme('GET', `/v1/batches/${id}`)).body;
      assert.deepEqual(
        [batch.name, batch.from, batch.status, batch.total, Date.parse(batch.sendAt)],
        [xss, 'ACMEDEALS', 'scheduled', 2, new Date(local).getTime()],
      );
      // The name shows as text on the list.
      await page.locator(`#batches tr[data-id="${id}"]`).waitFor();
      assert.equal(await page.locator(`#batches tr[data-id="${id}"] td`).nth(1).textContent(), xss);
      assert.equal(await page.locator('main img').count(), 0);
      assert.equal(await page.evaluate('window.xssRan'), undefined);
    },
  );

  await t.test('an alert is sent through its form and listed', async () => {
    await page.click('nav a[href="#/alerts"]');
    await page.waitForSelector('#alert-form');
    await page.fill('#alert-text', 'Water supply cut until 18:00');
    await page.fill('#alert-recipients', '+447700902001\n+447700902002');
    await page.click('#alert-form button[type=submit]');
    await page.waitForSelector('#alert-result.ok a');
    const id = await text('#alert-result a');
    assert.equal((await acme('GET', `/v1/alerts/${id}`)).body.total, 2);
    await page.locator(`#alerts tr[data-id="${id}"]`).waitFor();
  });

  await t.test('a reminder is scheduled through its form; a refusal names its field', async () => {
    await page.click('nav a[href="#/reminders"]');
    await page.waitForSelector('#reminder-form');
    await page.fill('#reminder-to', '+447700903001');
    await page.fill('#reminder-at', '2099-01-01T10:00');
    await page.fill('#reminder-text', 'Dentist at 10. Reply YES or NO.');
    await page.click('#reminder-form button[type=submit]');
    await page.waitForSelector('#reminder-result.error');
    assert.equal(await page.getAttribute('#reminder-at', 'aria-invalid'), 'true');
    const soon = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    await page.fill('#reminder-at', `${soon}T10:00`);
    await page.fill('#reminder-timezone', 'Europe/London');
    await page.click('#reminder-form button[type=submit]');
    await page.waitForSelector('#reminder-result.ok a');
    const id = await text('#reminder-result a');
    const reminder = (await acme('GET', `/v1/reminders/${id}`)).body;
    // The time as written, read in the zone given.
    const inLondon = new Intl.DateTimeFormat('sv-SE', {
      timeZone: 'Europe/London',
      dateStyle: 'short',
      timeStyle: 'short',
    }).format(new Date(reminder.at));
    assert.deepEqual(
      [reminder.to, inLondon, reminder.replies],
      ['+447700903001', `${soon} 10:00`, { YES: 'confirmed', NO: 'declined' }],
    );
    await page.locator(`#reminders tr[data-id="${id}"]`).waitFor();
  });

  await t.test('the Verify page lists verifications with their outcome, found by number', async () => {
    await page.click('nav a[href="#/verify"]');
    await page.locator('#verifications tr[data-status="pending"]').waitFor();
    assert.match(await text('#verifications tbody'), /\+447700900321/);
    await page.fill('#verify-search', '+447700900999');
    await page.press('#verify-search', 'Enter');
    await page.locator('#verifications tbody td.muted', { hasText: 'No verifications' }).waitFor();
  });

  await t.test('suppressions: added (Enter submits), imported from a file, found, removed', async () => {
    await page.click('nav a[href="#/suppressions"]');
    await page.waitForSelector('#suppression-add');
    await page.fill('#suppression-to', '07700 904001');
    await page.fill('#suppression-reason', xss);
    await page.press('#suppression-to', 'Enter');
    await page.waitForSelector('#suppression-add-result.ok');
    await page.locator('#suppressions tr[data-to="+447700904001"]').waitFor();
    assert.match(await text('#suppressions tr[data-to="+447700904001"]'), /<img src=x/);
    await page.setInputFiles('#suppression-file', {
      name: 'optouts.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('to\n+447700904002\n+447700904003\nnonsense\n'),
    });
    await page.click('#suppression-import button[type=submit]');
    await page.waitForSelector('#suppression-import-result.ok');
    assert.match(await text('#suppression-import-result'), /2 added, 1 not a number/);
    await page.locator('#suppressions tr[data-to="+447700904003"]').waitFor();
    await page.fill('#suppression-search', '+447700904002');
    await page.press('#suppression-search', 'Enter');
    await waitFor(async () => (await page.locator('#suppressions tr[data-to]').count()) === 1, waitMs);
    await page.click('#suppressions tr[data-to="+447700904002"] button.remove');
    await page.locator('#suppressions td.muted', { hasText: 'No numbers' }).waitFor();
    const listed = (await acme('GET', '/v1/suppressions')).body.data.map((s: { to: string }) => s.to).sort();
    assert.deepEqual(listed, ['+447700904001', '+447700904003']);
  });

  await t.test('balance and usage', async () => {
    await page.click('nav a[href="#/balance"]');
    await page.waitForSelector('#balance-value');
    const { balance } = (await acme('GET', '/v1/balance')).body;
    assert.equal(await text('#balance-value'), `${balance} EUR`);
    await page.locator('#ledger tr[data-kind="credit"]').waitFor();
    await page.click('nav a[href="#/usage"]');
    await page.locator('#usage-chart rect.bar').first().waitFor();
    const usage = (await acme('GET', '/v1/usage')).body;
    assert.equal(
      await text('#usage-total'),
      `${usage.total.messages} messages · ${usage.total.parts} parts · ${usage.total.price} EUR`,
    );
    await page.selectOption('#usage-group', 'connector');
    await page.locator('#usage tbody td', { hasText: 'sim' }).waitFor();
  });

  await t.test(
    'every page is in the nav, loads from its URL, fits 375 px and 1440 px, passes axe',
    async () => {
      for (const [width, height] of [
        [1440, 900],
        [375, 812],
      ] as const) {
        await page.setViewportSize({ width, height });
        for (const [name, ready] of accountPages) {
          assert.equal(await page.locator(`nav a[href="#/${name}"]`).count(), 1, name);
          await page.goto(`${gw.base}/console#/${name}`);
          await page.reload();
          await page.waitForSelector(ready);
          assert.equal(await page.getAttribute(`nav a[href="#/${name}"]`, 'aria-current'), 'page');
          assert.ok((await sidewaysScroll(page)) <= 0, `${name} at ${width} px scrolls sideways`);
          assert.deepEqual(await axeFindings(page), [], `${name} at ${width} px`);
          // Nothing a strict CSP would block: no inline script, style or event handler attribute.
          assert.equal(await page.evaluate(inlineCount), 0, name);
        }
      }
      await page.goto(`${gw.base}/console#/messages`);
      await page.waitForSelector('#messages tbody tr[data-id]');
      await page.screenshot({ path: join(imagesDir, 'console-phone.png') });
      await page.setViewportSize({ width: 1440, height: 900 });
    },
  );

  await t.test('keyboard: the nav is reached with Tab, focus shows, a search runs on Enter', async () => {
    await page.goto(`${gw.base}/console#/messages`);
    await page.waitForSelector('#message-search');
    await page.locator('body').focus();
    const focused: unknown[] = [];
    while (focused.at(-1) !== '#/batches' && focused.length < 12) {
      await page.keyboard.press('Tab');
      focused.push(await page.evaluate('document.activeElement.getAttribute("href")'));
    }
    assert.equal(focused.at(-1), '#/batches', focused.join());
    assert.ok(focused.includes('#/messages'), focused.join());
    const outline = await page.evaluate('getComputedStyle(document.activeElement).outlineStyle');
    assert.notEqual(outline, 'none');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#batch-form');
    await page.goto(`${gw.base}/console#/messages`);
    await page.focus('#message-search');
    await page.keyboard.type('booking-17');
    await page.keyboard.press('Enter');
    await waitFor(async () => (await rowIds()).join() === first.id, waitMs, 'search by keyboard');
  });

  await t.test('an admin searches every account’s messages from the nav; the pages pass axe', async () => {
    await page.click('#sign-out');
    await signIn('admin-key-123');
    await page.waitForSelector('nav a[href="#/messages"]');
    assert.deepEqual(await axeFindings(page), []);
    await page.screenshot({ path: join(imagesDir, 'console-admin.png'), fullPage: true });
    await page.click('nav a[href="#/messages"]');
    await page.waitForSelector('#message-search');
    // Every account's messages are searched for, not listed whole.
    await page.locator('#messages td.muted', { hasText: 'Search for a number' }).waitFor();
    await page.fill('#message-search', '447700900123');
    await page.press('#message-search', 'Enter');
    await waitFor(async () => (await rowIds()).length === 3, waitMs, 'admin search');
    assert.match(await text('#messages tbody'), /other/);
    assert.deepEqual(await axeFindings(page), []);
    await page.click(`#messages tr[data-id="${theirs.id}"] a`);
    await page.waitForSelector('#message-detail dd[data-field="Account"]');
    assert.equal(await text('#message-detail dd[data-field="Account"]'), 'other');
    for (const [width, height] of [
      [1440, 900],
      [375, 812],
    ] as const) {
      await page.setViewportSize({ width, height });
      for (const [name, ready] of [
        ['admin', '#connectors tr'],
        ['messages', '#filter-account'],
      ]) {
        await page.goto(`${gw.base}/console#/${name}`);
        await page.reload();
        await page.waitForSelector(ready!);
        assert.equal(await page.getAttribute(`nav a[href="#/${name}"]`, 'aria-current'), 'page');
        assert.ok((await sidewaysScroll(page)) <= 0, `admin ${name} at ${width} px scrolls sideways`);
        assert.deepEqual(await axeFindings(page), [], `admin ${name} at ${width} px`);
      }
    }
  });

  assert.deepEqual(problems, []);
});
