// Senders tied to accounts (issue #15): an account may not send as another account's number
// or brand — its defaultFrom, a number its MO rules route to it, its policy.senders — on
// any front door (REST, batches, SMPP, Twilio, Kannel, Jasmin); an account with
// policy.senders sends only from those; two-way replies go from the number written to.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CommandStatus } from '../../src/smpp/index.ts';
import { submitSm } from '../smpp/raw-peer.ts';
import { esme, gatewayFrom, waitFor } from './helpers.ts';

let gw: Awaited<ReturnType<typeof gatewayFrom>>;
const shopSid = 'AC00000000000000000000000000000005';

before(async () => {
  gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-0001] }
accounts:
  - { id: acme, apiKeys: [acme-key-0001], defaultFrom: ACME }
  - id: shop
    apiKeys: [shop-key-0001]
    defaultFrom: SHOP
    twilio: { accountSid: ${shopSid} }
    smpp: { systemId: shop, password: pw, maxBinds: 2 }
  - { id: brand, apiKeys: [brand-key-0001], policy: { senders: [Brand, "+1555020*"] } }
connectors: [{ id: sim, type: simulator, deliveryDelayMs: 10 }]
routes:
  mt: [{ connectors: [sim] }]
  mo:
    - { match: { to: ["+15550100"] }, account: acme, reply: "Thanks" }
    - { match: { to: ["+15550300"], keyword: [PIZZA] }, account: acme }
    - { match: { to: ["+15550300"], keyword: [SHOES] }, account: shop }
    - { account: shop }
`);
});
after(() => gw.close());

const send = (key: string, from: string | undefined) =>
  fetch(`${gw.base}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to: '+447700900001', text: 'hi', ...(from === undefined ? {} : { from }) }),
  });

async function refusal(res: Response) {
  const body = (await res.json()) as { error?: { code: string; field?: string } };
  return [res.status, body.error?.code, body.error?.field];
}

test("REST: another account's defaultFrom, MO number or policy sender is 400 sender_not_allowed", async () => {
  for (const from of ['ACME', 'acme', '+15550100', '15550100', 'BRAND', '+15550201']) {
    assert.deepEqual(
      await refusal(await send('shop-key-0001', from)),
      [400, 'sender_not_allowed', 'from'],
      from,
    );
  }
  for (const from of [undefined, 'SHOP', '+447700900999', 'OTHER']) {
    assert.equal((await send('shop-key-0001', from)).status, 202, String(from));
  }
  // The owners themselves; an account with policy.senders uses only those.
  for (const from of ['ACME', '+15550100'])
    assert.equal((await send('acme-key-0001', from)).status, 202, from);
  for (const from of ['brand', '+15550209'])
    assert.equal((await send('brand-key-0001', from)).status, 202, from);
  for (const from of ['SHOP', 'OTHER', '+447700900999'])
    assert.deepEqual(
      await refusal(await send('brand-key-0001', from)),
      [400, 'sender_not_allowed', 'from'],
      from,
    );
});

test('a number the MO rules share between accounts (by keyword) is open to each of them', async () => {
  assert.equal((await send('acme-key-0001', '+15550300')).status, 202);
  assert.equal((await send('shop-key-0001', '+15550300')).status, 202);
});

test('batches: the whole batch is refused for a sender of another account', async () => {
  const res = await fetch(`${gw.base}/v1/batches`, {
    method: 'POST',
    headers: { authorization: 'Bearer shop-key-0001', 'content-type': 'application/json' },
    body: JSON.stringify({ from: 'ACME', text: 'hi', recipients: [{ to: '+447700900002' }] }),
  });
  assert.deepEqual(await refusal(res), [400, 'sender_not_allowed', 'from']);
});

test("SMPP: submit_sm from another account's sender is ESME_RINVSRCADR", async (t) => {
  const { client } = esme(gw.app.smppAddress!.port, { systemId: 'shop', password: 'pw' });
  client.start();
  t.after(() => client.stop());
  await client.waitBound();
  const refused = await client.request(submitSm({ sourceAddr: 'ACME', sourceAddrTon: 5, sourceAddrNpi: 0 }));
  assert.equal(refused.commandStatus, CommandStatus.ESME_RINVSRCADR);
  const own = await client.request(submitSm({ sourceAddr: 'SHOP', sourceAddrTon: 5, sourceAddrNpi: 0 }));
  assert.equal(own.commandStatus, CommandStatus.ESME_ROK);
});

test('compat APIs: Twilio 21606, Kannel and Jasmin refusals', async () => {
  const twilio = await fetch(`${gw.base}/2010-04-01/Accounts/${shopSid}/Messages.json`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${shopSid}:shop-key-0001`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ To: '+447700900004', From: '+15550100', Body: 'hi' }),
  });
  assert.equal(twilio.status, 400);
  assert.equal(((await twilio.json()) as { code: number }).code, 21606);
  const kannel = await fetch(
    `${gw.base}/cgi-bin/sendsms?${new URLSearchParams({ username: 'shop', password: 'shop-key-0001', from: 'ACME', to: '447700900005', text: 'hi' })}`,
  );
  assert.equal(kannel.status, 400);
  assert.match(await kannel.text(), /belongs to another account/);
  const jasmin = await fetch(
    `${gw.base}/send?${new URLSearchParams({ username: 'shop', password: 'shop-key-0001', from: 'ACME', to: '447700900006', content: 'hi' })}`,
  );
  assert.equal(jasmin.status, 400);
  assert.match(await jasmin.text(), /^Error ".*belongs to another account/);
});

test('an auto-reply goes from the number written to', async () => {
  const inject = await fetch(`${gw.base}/v1/admin/connectors/sim/inbound`, {
    method: 'POST',
    headers: { authorization: 'Bearer admin-key-0001', 'content-type': 'application/json' },
    body: JSON.stringify({ from: '+447700900007', to: '+15550100', text: 'hello' }),
  });
  assert.equal(inject.status, 202);
  await waitFor(
    async () => {
      const page = (await (
        await fetch(`${gw.base}/v1/messages?direction=outbound&to=%2B447700900007`, {
          headers: { authorization: 'Bearer acme-key-0001' },
        })
      ).json()) as { data: Array<{ from: string; text: string }> };
      return page.data.find((m) => m.from === '+15550100' && m.text === 'Thanks');
    },
    10_000,
    'the auto-reply',
  );
});
