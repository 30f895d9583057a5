// Link shortening end to end (issue #20 point 6): an account with `links.shorten` has the
// URLs of its messages replaced with short links before they are priced and sent;
// GET /l/{code} redirects, counts the click and sends a message.clicked webhook.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { missingPeer } from '../peers/available.ts';
import { startPostgres } from '../peers/postgres.ts';
import { api, gatewayFrom, waitFor, webhookReceiver } from './helpers.ts';

describe('short links', () => {
  const sim = new SmscSimulator({ deliveryDelayMs: 10 });
  let gw: Awaited<ReturnType<typeof gatewayFrom>>;
  let hooks: Awaited<ReturnType<typeof webhookReceiver>>;
  let shop: ReturnType<typeof api>;
  const textAtSmsc = (to: string) =>
    [...sim.messages.values()].find((m) => m.to === to.slice(1))?.shortMessage.toString('latin1');
  const longUrl = `https://shop.example.com/orders/12345/track?ref=sms&campaign=${'x'.repeat(90)}`;

  before(async () => {
    const smsc = await sim.listen(0);
    hooks = await webhookReceiver();
    gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - id: shop
    apiKeys: [shop-key-1]
    defaultFrom: SHOP
    links: { shorten: true }
    webhook: { url: ${hooks.url}, secret: whsec-1 }
  - { id: branded, apiKeys: [branded-key-1], defaultFrom: BRAND, links: { shorten: true, baseUrl: "https://go.example/" } }
  - { id: plain, apiKeys: [plain-key-1], defaultFrom: PLAIN }
connectors:
  - { id: smsc, type: smpp, host: 127.0.0.1, port: ${smsc.port}, systemId: gw, password: pw }
routes:
  mt: [{ connectors: [smsc] }]
`);
    shop = api(gw.base, 'shop-key-1');
  });
  after(async () => {
    await gw?.close();
    await sim.close();
    await hooks?.close();
  });

  test('URLs become short links before pricing; the SMSC gets the short text', async () => {
    const text = `Your order shipped: ${longUrl}. Questions? http://help.example.com/faq`;
    assert.ok(text.length > 160);
    const sent = await shop('POST', '/v1/messages', { to: '+15551230001', text });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    assert.equal(sent.body.segments, 1, 'priced as the short text');
    const got = (await shop('GET', `/v1/messages/${sent.body.id}`)).body;
    const short = new RegExp(
      `^Your order shipped: ${gw.base}/l/([0-9A-Za-z]{10})\\. Questions\\? ${gw.base}/l/([0-9A-Za-z]{10})$`,
    );
    const [, first, second] = got.text.match(short) ?? assert.fail(got.text);
    assert.notEqual(first, second);
    await waitFor(() => textAtSmsc('+15551230001'), 10_000, 'the SMSC to get the message');
    assert.equal(textAtSmsc('+15551230001'), got.text);

    const links = (await shop('GET', `/v1/messages/${sent.body.id}/links`)).body.data;
    assert.deepEqual(
      links.map((l: { code: string; url: string; clicks: number }) => [l.code, l.url, l.clicks]),
      [
        [first, longUrl, 0],
        [second, 'http://help.example.com/faq', 0],
      ],
    );
  });

  test('a click redirects, is counted and reported with message.clicked', async () => {
    const sent = await shop('POST', '/v1/messages', { to: '+15551230002', text: `See ${longUrl}` });
    const text = (await shop('GET', `/v1/messages/${sent.body.id}`)).body.text as string;
    const shortUrl = text.slice('See '.length);
    for (const clicks of [1, 2]) {
      const res = await fetch(shortUrl, { redirect: 'manual' });
      assert.equal(res.status, 302);
      assert.equal(res.headers.get('location'), longUrl);
      const hook = await waitFor(
        () =>
          hooks.hooks.find(
            (h) =>
              h.body.type === 'message.clicked' &&
              h.body.data.messageId === sent.body.id &&
              h.body.data.clicks === clicks,
          ),
        10_000,
        `click ${clicks} to be reported`,
      );
      assert.equal(hook.body.data.url, longUrl);
      assert.equal(hook.body.data.to, '+15551230002');
      assert.equal(hook.body.data.code, shortUrl.slice(-10));
      assert.match(hook.headers['smsgw-signature'] as string, /^t=\d+,v1=[0-9a-f]{64}$/);
    }
    const [link] = (await shop('GET', `/v1/messages/${sent.body.id}/links`)).body.data;
    assert.equal(link.clicks, 2);
    assert.ok(link.firstClickAt <= link.lastClickAt);

    // Another account cannot list them; unknown codes are 404.
    const plain = api(gw.base, 'plain-key-1');
    assert.equal((await plain('GET', `/v1/messages/${sent.body.id}/links`)).status, 404);
    assert.equal((await fetch(`${gw.base}/l/AAAAAAAAAA`, { redirect: 'manual' })).status, 404);
    assert.equal((await fetch(`${gw.base}/l/not-a-code`, { redirect: 'manual' })).status, 404);
  });

  test('a baseUrl of its own; an account without links keeps its URLs', async () => {
    const branded = await api(gw.base, 'branded-key-1')('POST', '/v1/messages', {
      to: '+15551230003',
      text: 'Hi https://example.com/a',
    });
    assert.match(
      (await api(gw.base, 'branded-key-1')('GET', `/v1/messages/${branded.body.id}`)).body.text,
      /^Hi https:\/\/go\.example\/l\/[0-9A-Za-z]{10}$/,
    );
    const plain = api(gw.base, 'plain-key-1');
    const sent = await plain('POST', '/v1/messages', {
      to: '+15551230004',
      text: 'Hi https://example.com/a',
    });
    assert.equal((await plain('GET', `/v1/messages/${sent.body.id}`)).body.text, 'Hi https://example.com/a');
  });
});

/** Clicks on one link at once: each is counted (a compare-and-set on the link's record) and reported. */
async function concurrentClicks(store: string): Promise<void> {
  const hooks = await webhookReceiver();
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: ${store}
accounts:
  - { id: shop, apiKeys: [shop-key-1], defaultFrom: SHOP, links: { shorten: true }, webhook: { url: ${hooks.url} } }
connectors: [{ id: sim, type: simulator, deliveryDelayMs: 10 }]
routes: { mt: [{ connectors: [sim] }] }
`);
  try {
    const shop = api(gw.base, 'shop-key-1');
    const sent = await shop('POST', '/v1/messages', { to: '+15551230009', text: 'https://example.com/x' });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const shortUrl = (await shop('GET', `/v1/messages/${sent.body.id}`)).body.text as string;
    const clicks = 20;
    const answers = await Promise.all(
      Array.from({ length: clicks }, () => fetch(shortUrl, { redirect: 'manual' })),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      answers.map(() => 302),
    );
    const [link] = (await shop('GET', `/v1/messages/${sent.body.id}/links`)).body.data;
    assert.equal(link.clicks, clicks);
    const reported = await waitFor(
      () => {
        const counts = hooks.hooks
          .filter((h) => h.body.type === 'message.clicked')
          .map((h) => h.body.data.clicks);
        return counts.length >= clicks && counts;
      },
      10_000,
      'every click to be reported',
    );
    assert.deepEqual(
      [...reported].sort((a, b) => Number(a) - Number(b)),
      Array.from({ length: clicks }, (_, i) => i + 1),
    );
  } finally {
    await gw.close();
    await hooks.close();
  }
}

test('clicks at once are all counted and reported once each (SQLite)', () =>
  concurrentClicks('sqlite:DIR/gw.db'));

const noPostgres = missingPeer('PostgreSQL');
test('clicks at once are all counted and reported once each (PostgreSQL)', async (t) => {
  if (noPostgres) return t.skip(noPostgres);
  const server = await startPostgres();
  try {
    await concurrentClicks(await server.createDatabase());
  } finally {
    await server.stop();
  }
});
