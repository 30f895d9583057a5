// A long message is settled from all its parts' receipts: `delivered` once every part is,
// the failed part's status once one fails, and its final webhook and ESME receipt exactly
// once. The SMSC here holds a message's receipts until every part is in, then sends them
// all in one TCP write (so the gateway reads them in one packet) or one by one in reverse
// order; on SQLite and on PostgreSQL, where two gateways share the binds and the receipts
// of one message's parts arrive on both.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Pdu, PduOf } from '../../src/smpp/index.ts';
import { EsmClass, encodePdu, formatReceipt, parseReceipt, shortMessagePdu } from '../../src/smpp/index.ts';
import { parseUdh } from '../../src/sms/index.ts';
import { missingPeer } from '../peers/available.ts';
import { type PostgresServer, startPostgres } from '../peers/postgres.ts';
import { type RawPeer, rawServer, submitSm } from '../smpp/raw-peer.ts';
import { api, esme, gatewayFrom, waitFor, webhookReceiver } from './helpers.ts';

type Order = 'together' | 'reversed';
/** The receipt stat the SMSC gives part `sequence` (1-based) of a message of `total` parts. */
type StatOf = (text: string, sequence: number, total: number) => 'DELIVRD' | 'UNDELIV';

interface HeldPart {
  peer: RawPeer;
  id: string;
  sequence: number;
  submit: PduOf<'submit_sm'>;
}

/**
 * An SMSC that answers every submit at once and holds the receipts of a long message (by
 * its concatenation reference) until all its parts are in, then sends them down the bind
 * of the last part — or, with `spread`, down every bind in turn — all in one write per
 * bind, or one by one in reverse order.
 */
async function holdingSmsc(order: Order, statOf: StatOf, spread = false) {
  let nextId = 1;
  let receiptsSent = 0;
  const held = new Map<number, HeldPart[]>();
  const peers: RawPeer[] = [];
  const server = await rawServer((peer) => {
    peers.push(peer);
    let seen = 0;
    peer.socket.on('data', () => {
      for (; seen < peer.received.length; seen++) answer(peer, peer.received[seen]!);
    });
  });
  const answer = (peer: RawPeer, pdu: Pdu) => {
    const resp = (fields: Record<string, unknown> = {}) =>
      peer.send({
        command: `${pdu.command}_resp`,
        commandStatus: 0,
        sequenceNumber: pdu.sequenceNumber,
        ...fields,
      } as Pdu);
    if (pdu.command === 'bind_transceiver') return resp({ systemId: 'smsc' });
    if (pdu.command === 'enquire_link') return resp();
    if (pdu.command !== 'submit_sm') return;
    const id = (nextId++).toString(16);
    resp({ messageId: id });
    const concat = (pdu.esmClass & 0x40) !== 0 ? parseUdh(pdu.shortMessage)?.concat : undefined;
    assert.ok(concat, 'the gateway splits long text with a concatenation header');
    const parts = held.get(concat.reference) ?? [];
    parts.push({ peer, id, sequence: concat.sequence, submit: pdu });
    held.set(concat.reference, parts);
    if (parts.length < concat.total) return;
    held.delete(concat.reference);
    const text = parts
      .sort((a, b) => a.sequence - b.sequence)
      .map((p) =>
        p.submit.shortMessage.subarray(parseUdh(p.submit.shortMessage)!.headerLength).toString('latin1'),
      )
      .join('');
    const live = peers.filter((p) => !p.closed);
    const binds = spread ? live : [peer];
    const receipts = parts.map((p, i) => ({
      bind: binds[i % binds.length]!,
      pdu: encodePdu(receiptFor(p, statOf(text, p.sequence, concat.total))),
    }));
    receiptsSent += receipts.length;
    if (order === 'reversed') for (const r of receipts.reverse()) r.bind.sendBytes(r.pdu);
    else
      for (const bind of binds)
        bind.sendBytes(Buffer.concat(receipts.filter((r) => r.bind === bind).map((r) => r.pdu)));
  };
  return { port: server.port, close: () => server.close(), receiptsSent: () => receiptsSent };
}

function receiptFor(part: HeldPart, stat: 'DELIVRD' | 'UNDELIV'): Pdu {
  const now = new Date();
  const pdu = shortMessagePdu('deliver_sm', {
    sourceAddr: part.submit.destinationAddr,
    destinationAddr: part.submit.sourceAddr,
    esmClass: EsmClass.DELIVERY_RECEIPT,
  });
  pdu.shortMessage = Buffer.from(
    formatReceipt({
      id: part.id,
      sub: 1,
      dlvrd: stat === 'DELIVRD' ? 1 : 0,
      submitDate: now,
      doneDate: now,
      stat,
      err: stat === 'DELIVRD' ? '000' : '001',
      text: '',
    }),
    'latin1',
  );
  return pdu;
}

function gatewayConfig(store: string, smscPort: number, hooksUrl: string): string {
  return `
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: ${store}
accounts:
  - id: acme
    apiKeys: [acme-key-1]
    defaultFrom: ACME
    smpp: { systemId: acme, password: secret }
    webhook: { url: "${hooksUrl}", secret: whsec-1 }
connectors:
  - { id: carrier, type: smpp, host: 127.0.0.1, port: ${smscPort}, systemId: gw, password: pw, window: 16 }
routes:
  mt: [{ connectors: [carrier] }]
`;
}

/** Three parts of GSM text each. */
const longText = (label: string) => `${label} `.padEnd(400, 'x');
/** Part 2 of the messages whose text starts with "fail" is undelivered. */
const statOf: StatOf = (text, sequence) =>
  text.startsWith('fail') && sequence === 2 ? 'UNDELIV' : 'DELIVRD';

type Gateway = Awaited<ReturnType<typeof gatewayFrom>>;

/**
 * Sends long messages over REST (through gateways in turn) and over SMPP, and checks each
 * ends where its parts say, with one final webhook and one ESME receipt.
 */
async function sendAndCheck(gateways: Gateway[], hooks: Awaited<ReturnType<typeof webhookReceiver>>) {
  const rest: Array<{ id: string; expect: string }> = [];
  for (let i = 0; i < 12; i++) {
    const label = i % 4 === 3 ? `fail ${i}` : `ok ${i}`;
    const gw = gateways[i % gateways.length]!;
    const res = await api(gw.base, 'acme-key-1')('POST', '/v1/messages', {
      to: '+447700900123',
      text: longText(label),
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.body.segments, 3);
    rest.push({ id: res.body.id, expect: label.startsWith('fail') ? 'undelivered' : 'delivered' });
  }

  const { client, received } = esme(gateways[0]!.app.smppAddress!.port, {
    systemId: 'acme',
    password: 'secret',
  });
  client.start();
  const viaSmpp: Array<{ id: string; stat: string }> = [];
  try {
    await client.waitBound();
    for (const label of ['ok esme', 'fail esme']) {
      const resp = await client.request({
        ...submitSm({
          destinationAddr: '447700900124',
          sourceAddr: 'ACME',
          sourceAddrTon: 5,
          registeredDelivery: 1,
        }),
        shortMessage: Buffer.alloc(0),
        tlvs: { messagePayload: Buffer.from(longText(label), 'latin1') },
      } as Pdu);
      assert.equal(resp.commandStatus, 0);
      viaSmpp.push({
        id: (resp as Pdu & { messageId: string }).messageId,
        stat: label.startsWith('fail') ? 'UNDELIV' : 'DELIVRD',
      });
    }
    const call = api(gateways[0]!.base, 'acme-key-1');
    for (const m of [
      ...rest,
      ...viaSmpp.map((v) => ({ id: v.id, expect: v.stat === 'DELIVRD' ? 'delivered' : 'undelivered' })),
    ]) {
      const final = await waitFor(
        async () => {
          const r = await call('GET', `/v1/messages/${m.id}`);
          // Settled: past every state a message passes on its way (`sending` is on the wire).
          return !['queued', 'sending', 'submitted'].includes(r.body.status) && r.body;
        },
        20_000,
        `message ${m.id} settled`,
      );
      assert.equal(final.status, m.expect, `message ${m.id}`);
      assert.ok(final.doneAt >= final.submittedAt, 'done after it was submitted');
      if (m.expect === 'undelivered') assert.match(final.error.message, /part 2 of 3/);
    }
    // Every final webhook came; then no second one for any message.
    const finals = (id: string) =>
      hooks.hooks.filter(
        (h) =>
          h.body.type === 'message.status' && h.body.data.id === id && h.body.data.status !== 'submitted',
      );
    for (const m of rest)
      await waitFor(() => finals(m.id).length > 0 || undefined, 10_000, `webhook of ${m.id}`);
    const receipts = () => received.filter((p) => p.command === 'deliver_sm' && (p.esmClass & 0x04) !== 0);
    await waitFor(() => receipts().length >= viaSmpp.length || undefined, 10_000, 'ESME receipts');
    // Whatever is still on its way arrives within a round trip of the receipts: wait one.
    await call('GET', '/health');
    await new Promise((r) => setTimeout(r, 300));
    for (const m of rest) {
      const seen = finals(m.id);
      assert.equal(seen.length, 1, `one final webhook for ${m.id}: ${seen.map((h) => h.body.data.status)}`);
      assert.equal(seen[0]!.body.data.status, m.expect);
    }
    const stats = receipts().map(
      (p) => parseReceipt((p as PduOf<'deliver_sm'>).shortMessage.toString('latin1'))!,
    );
    assert.equal(stats.length, viaSmpp.length, 'one ESME receipt per message');
    for (const v of viaSmpp) assert.equal(stats.find((s) => s.id === v.id)?.stat, v.stat);
  } finally {
    await client.stop();
  }
}

describe('long messages settled from all their parts (SQLite)', () => {
  for (const order of ['together', 'reversed'] as const) {
    test(`receipts of every part ${order === 'together' ? 'in one packet' : 'in reverse order'}`, async (t) => {
      const smsc = await holdingSmsc(order, statOf);
      t.after(() => smsc.close());
      const hooks = await webhookReceiver();
      t.after(() => hooks.close());
      const gw = await gatewayFrom(gatewayConfig('sqlite:DIR/gw.db', smsc.port, hooks.url));
      t.after(() => gw.close());
      await sendAndCheck([gw], hooks);
      assert.equal(smsc.receiptsSent(), 14 * 3);
    });
  }
});

test('long messages through the simulator connector, whose parts report in one turn', async (t) => {
  const hooks = await webhookReceiver();
  t.after(() => hooks.close());
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, webhook: { url: "${hooks.url}", secret: whsec-1 } }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 50, outcomes: [{ to: "+4477009009*", status: undelivered }] }
routes:
  mt: [{ connectors: [sim] }]
`);
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');
  const sent: Array<{ id: string; expect: string }> = [];
  for (const [to, expect] of [
    ['+447700900123', 'delivered'],
    ['+447700900900', 'undelivered'],
  ]) {
    for (let i = 0; i < 4; i++) {
      const res = await call('POST', '/v1/messages', { to, text: longText(`sim ${i}`) });
      assert.equal(res.body.segments, 3);
      sent.push({ id: res.body.id, expect: expect! });
    }
  }
  for (const m of sent) {
    const hook = await waitFor(
      () => hooks.hooks.find((h) => h.body.data.id === m.id && h.body.data.status !== 'submitted'),
      10_000,
      `final webhook of ${m.id}`,
    );
    assert.equal(hook.body.data.status, m.expect);
  }
  await new Promise((r) => setTimeout(r, 300));
  for (const m of sent) {
    const finals = hooks.hooks.filter((h) => h.body.data.id === m.id && h.body.data.status !== 'submitted');
    assert.equal(finals.length, 1, `one final webhook for ${m.id}`);
  }
});

const missing = missingPeer('PostgreSQL');
if (missing) {
  test('long messages settled from all their parts (PostgreSQL)', (t) => t.skip(missing));
} else {
  describe('long messages settled from all their parts (PostgreSQL, two gateways)', () => {
    let server: PostgresServer;
    before(async () => {
      server = await startPostgres();
    });
    after(() => server.stop());
    for (const order of ['together', 'reversed'] as const) {
      test(`receipts of every part ${order === 'together' ? 'in one packet' : 'in reverse order'}`, async (t) => {
        // Each message's receipts are spread over both gateways' binds.
        const smsc = await holdingSmsc(order, statOf, true);
        t.after(() => smsc.close());
        const hooks = await webhookReceiver();
        t.after(() => hooks.close());
        const store = await server.createDatabase();
        const one = await gatewayFrom(gatewayConfig(store, smsc.port, hooks.url));
        t.after(() => one.close());
        const two = await gatewayFrom(gatewayConfig(store, smsc.port, hooks.url));
        t.after(() => two.close());
        await sendAndCheck([one, two], hooks);
      });
    }
  });
}
