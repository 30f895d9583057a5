// The SMPP connector against the SMSC simulator over real TCP: what goes on the wire, what
// comes back, and how the connector behaves when the carrier pushes back or drops the link.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { SmppConnectorConfig } from '../../src/config/types.ts';
import type { SmppConnectorOptions, SubmitResult } from '../../src/connectors/index.ts';
import { SmppConnector } from '../../src/connectors/index.ts';
import type { SmscSimulatorOptions } from '../../src/simulator/index.ts';
import { SmscSimulator } from '../../src/simulator/index.ts';
import type { BoundSession, PduOf, SmppSession } from '../../src/smpp/index.ts';
import { CommandStatus, normaliseMessageId, parseSmppTime, shortMessagePdu } from '../../src/smpp/index.ts';
import { decodeText, Reassembler } from '../../src/sms/index.ts';
import { outbound, RecordingSink, sleep, smppConfig, waitFor } from './helpers.ts';

const closers: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

interface Submitted {
  pdu: PduOf<'submit_sm'>;
  session: SmppSession;
  at: number;
  /** Submits on its session the simulator had received and not yet answered, this one included. */
  unanswered: number;
}

/** A simulator plus every submit_sm it was sent, as sent (bytes copied off the socket buffer). */
async function simulator(options: SmscSimulatorOptions = {}) {
  const sim = new SmscSimulator({ deliveryDelayMs: 30, ...options });
  const submits: Submitted[] = [];
  const unanswered = new Map<SmppSession, number>();
  // Before the simulator's own listener, which may answer at once.
  sim.server.prependListener('request', (pdu, bound: BoundSession) => {
    if (pdu.command !== 'submit_sm') return;
    const session = bound.session;
    if (!unanswered.has(session)) {
      // Every answer goes through respond: counted as it is given, before the ESME can see it.
      const respond = session.respond.bind(session);
      session.respond = (request, ...rest) => {
        if (request.command === 'submit_sm') unanswered.set(session, unanswered.get(session)! - 1);
        respond(request, ...rest);
      };
    }
    const open = (unanswered.get(session) ?? 0) + 1;
    unanswered.set(session, open);
    const copy = { ...pdu, shortMessage: Buffer.from(pdu.shortMessage) };
    if (pdu.tlvs?.messagePayload)
      copy.tlvs = { ...pdu.tlvs, messagePayload: Buffer.from(pdu.tlvs.messagePayload) };
    submits.push({ pdu: copy, session, at: Date.now(), unanswered: open });
  });
  const { port } = await sim.listen(0);
  closers.push(() => sim.close());
  return { sim, port, submits };
}

async function connector(
  port: number,
  fields: Partial<SmppConnectorConfig> = {},
  options: SmppConnectorOptions = { reconnect: { minMs: 20, maxMs: 100 } },
) {
  const sink = new RecordingSink();
  const conn = new SmppConnector(smppConfig(port, fields), sink, undefined, options);
  await conn.start();
  closers.push(() => conn.stop());
  await waitFor(() => conn.state().binds.every((b) => b.state === 'bound'));
  return { conn, sink };
}

/** Sends every message as a dispatcher would: never beyond capacity(), waiting for 'ready'. */
async function dispatch(
  conn: SmppConnector,
  count: number,
  make: (i: number) => ReturnType<typeof outbound>,
  onCapacity: (capacity: number) => void = () => {},
): Promise<SubmitResult[]> {
  const results: Promise<SubmitResult>[] = [];
  let next = 0;
  while (next < count) {
    let capacity = conn.capacity();
    onCapacity(capacity);
    if (capacity === 0) {
      await readyOrTimeout(conn);
      continue;
    }
    while (capacity-- > 0 && next < count) results.push(conn.send(make(next++)));
  }
  return Promise.all(results);
}

/** Until the connector says capacity came free, or 50 ms (the dispatcher's own poll). */
function readyOrTimeout(conn: SmppConnector): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      conn.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, 50);
    conn.on('ready', done);
  });
}

function text(pdu: PduOf<'submit_sm'>): string {
  return decodeText(pdu.shortMessage, pdu.dataCoding === 8 ? 'ucs2' : 'gsm7');
}

const longText = `Hello! ${'This message is long enough that it takes three SMS parts to carry it. '.repeat(5)}`;

describe('SmppConnector', () => {
  test('sends a GSM message with the addresses, flags and validity it was given', async () => {
    const { sim, port, submits } = await simulator();
    const { conn } = await connector(port);
    const validUntil = Date.UTC(2031, 0, 2, 3, 4, 5);
    const result = await conn.send(
      outbound({ text: 'Hello @ world', receipt: true, priorityFlag: 2, validUntil }),
    );
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.smscIds.length, 1);
    const [{ pdu }] = submits as [Submitted];
    assert.equal(pdu.sourceAddr, '447700900000');
    assert.deepEqual([pdu.sourceAddrTon, pdu.sourceAddrNpi], [1, 1]);
    assert.equal(pdu.destinationAddr, '447700900001');
    assert.deepEqual([pdu.destAddrTon, pdu.destAddrNpi], [1, 1]);
    assert.equal(pdu.dataCoding, 0);
    assert.equal(pdu.esmClass, 0);
    assert.equal(pdu.registeredDelivery, 1);
    assert.equal(pdu.priorityFlag, 2);
    assert.equal(parseSmppTime(pdu.validityPeriod)?.getTime(), validUntil);
    assert.equal(text(pdu), 'Hello @ world');
    const stored = sim.findMessage(result.smscIds[0]!);
    assert.equal(stored?.to, '447700900001');
    assert.equal(conn.state().sent, 1);
  });

  test('sends UCS-2 with data_coding 8, and flash as class 0', async () => {
    const { port, submits } = await simulator();
    const { conn } = await connector(port);
    const ucs2 = await conn.send(outbound({ text: 'Привет, мир ✓', encoding: 'ucs2' }));
    const flash = await conn.send(outbound({ text: 'Flash!', flash: true }));
    assert.ok(ucs2.ok && flash.ok);
    assert.equal(submits[0]!.pdu.dataCoding, 8);
    assert.equal(text(submits[0]!.pdu), 'Привет, мир ✓');
    assert.equal(submits[1]!.pdu.dataCoding, 0xf0);
    assert.equal(submits[1]!.pdu.registeredDelivery, 0);
  });

  test('chooses TON/NPI from the sender, unless the config says otherwise', async () => {
    const { port, submits } = await simulator();
    const { conn } = await connector(port);
    for (const from of ['smsgw', '12345', '+15550100', '447700900000', '07700900000']) {
      assert.ok((await conn.send(outbound({ from }))).ok);
    }
    assert.deepEqual(
      submits.map((s) => [s.pdu.sourceAddr, s.pdu.sourceAddrTon, s.pdu.sourceAddrNpi]),
      [
        ['smsgw', 5, 0],
        ['12345', 3, 0],
        ['15550100', 1, 1],
        ['447700900000', 1, 1],
        ['07700900000', 2, 1],
      ],
    );
    const fixed = await connector(port, { id: 'fixed', sourceTon: 0, sourceNpi: 9, destTon: 2, destNpi: 8 });
    assert.ok((await fixed.conn.send(outbound({ from: '+15550100', to: '0700900000' }))).ok);
    const last = submits.at(-1)!.pdu;
    assert.deepEqual(
      [last.sourceAddr, last.sourceAddrTon, last.sourceAddrNpi, last.destAddrTon, last.destAddrNpi],
      ['15550100', 0, 9, 2, 8],
    );
  });

  for (const mode of ['udh', 'sar', 'payload'] as const) {
    test(`sends a long message with ${mode}, every part on one bind`, async () => {
      const { sim, port, submits } = await simulator();
      const { conn } = await connector(port, { longMessages: mode, binds: 3 });
      const first = await conn.send(outbound({ text: longText }));
      const second = await conn.send(outbound({ text: `Ünïcödé ${longText}`, encoding: 'ucs2' }));
      assert.ok(first.ok && second.ok);
      const pdus = submits.map((s) => s.pdu);
      if (mode === 'payload') {
        assert.equal(first.smscIds.length, 1);
        assert.equal(pdus.length, 2);
        assert.equal(pdus[0]!.shortMessage.length, 0);
        assert.equal(decodeText(pdus[0]!.tlvs!.messagePayload!, 'gsm7'), longText);
        assert.equal(decodeText(pdus[1]!.tlvs!.messagePayload!, 'ucs2'), `Ünïcödé ${longText}`);
        return;
      }
      assert.equal(first.smscIds.length, 3);
      assert.ok(second.smscIds.length >= 5);
      assert.equal(pdus.length, first.smscIds.length + second.smscIds.length);
      assert.equal(new Set(submits.slice(0, 3).map((s) => s.session)).size, 1, 'one bind per message');
      assert.equal(new Set(submits.slice(3).map((s) => s.session)).size, 1, 'one bind per message');
      const reassembler = new Reassembler();
      const texts: string[] = [];
      for (const pdu of pdus) {
        assert.equal(pdu.registeredDelivery, 0);
        assert.equal(pdu.esmClass & 0x40, mode === 'udh' ? 0x40 : 0);
        const sar = pdu.tlvs ?? {};
        const done =
          mode === 'udh'
            ? reassembler.addUdhPart('k', pdu.shortMessage, pdu.dataCoding)
            : reassembler.addSarPart('k', pdu.shortMessage, pdu.dataCoding, {
                reference: sar.sarMsgRefNum!,
                total: sar.sarTotalSegments!,
                sequence: sar.sarSegmentSeqnum!,
              });
        if (done) texts.push(done.text);
      }
      assert.deepEqual(texts, [longText, `Ünïcödé ${longText}`]);
      // Every id the connector returned is a message the simulator kept, in part order.
      assert.deepEqual(
        first.smscIds.map((id) => sim.findMessage(id)?.shortMessage.length),
        pdus.slice(0, 3).map((p) => p.shortMessage.length),
      );
    });
  }

  test('receipts reach the sink under the id the submit got, from an SMSC that prints them in decimal', async () => {
    const { port, submits } = await simulator({
      messageIdFormat: 'hex',
      receiptIdFormat: 'decimal',
      receiptTlvs: false,
      outcomes: [{ to: '+1555*', stat: 'UNDELIV', err: '011' }],
    });
    const { conn, sink } = await connector(port, { receiptIds: 'decimal' });
    // Enough submits first that the ids have hex letters, so decimal and hex differ.
    for (let i = 0; i < 12; i++) assert.ok((await conn.send(outbound())).ok);
    const long = await conn.send(outbound({ text: longText, receipt: true }));
    const failed = await conn.send(outbound({ to: '+15550001234', receipt: true }));
    assert.ok(long.ok && failed.ok);
    assert.ok(
      submits.slice(-4).every((s) => s.pdu.registeredDelivery === 1),
      'a receipt asked on every part',
    );
    await waitFor(() => sink.receipts.length === 4);
    const byId = new Map(sink.receipts.map((r) => [r.smscId, r]));
    for (const id of long.smscIds) {
      const receipt = byId.get(normaliseMessageId(id));
      assert.ok(receipt, `a receipt for ${id}`);
      assert.equal(receipt.status, 'delivered');
      assert.equal(receipt.connectorId, 'carrier');
      assert.equal(receipt.stat, 'DELIVRD');
      assert.ok(receipt.doneAt !== null);
    }
    const undelivered = sink.receipts.find((r) => r.status === 'undelivered');
    assert.ok(undelivered);
    assert.equal(undelivered.smscId, failed.smscIds[0]);
    assert.equal(undelivered.err, '011');
    assert.equal(undelivered.networkErrorCode, 11);
  });

  test('never has more in flight than binds × window', async () => {
    const responseDelayMs = 60;
    const { port, submits } = await simulator({ responseDelayMs });
    const { conn } = await connector(port, { binds: 2, window: 4 });
    let maxCapacity = 0;
    const results = await dispatch(
      conn,
      40,
      (i) => outbound({ text: i % 5 === 0 ? longText : `message ${i}` }),
      (c) => {
        maxCapacity = Math.max(maxCapacity, c);
      },
    );
    assert.ok(results.every((r) => r.ok));
    assert.ok(maxCapacity <= 8 && maxCapacity > 0, `capacity ${maxCapacity}`);
    // On the wire: a bind sends its (k + window)th submit only after the kth was answered,
    // so the SMSC never holds more than the window unanswered on one bind — and, answering
    // responseDelayMs late, it sees the window full. Counted in event order, not by a clock
    // (a loaded machine may pause the process between a submit's arrival and any reading).
    assert.equal(new Set(submits.map((s) => s.session)).size, 2, 'both binds used');
    const peak = Math.max(...submits.map((s) => s.unanswered));
    const over = submits.findIndex((s) => s.unanswered > 4);
    assert.equal(over, -1, `window exceeded at submit ${over}: ${submits[over]?.unanswered} unanswered`);
    assert.equal(peak, 4);
    assert.equal(conn.state().inFlight, 0);
  });

  test('keeps to tps, counting every part', async () => {
    const tps = 20;
    const { port, submits } = await simulator();
    const { conn } = await connector(port, { tps, window: 50 });
    const results = await dispatch(conn, 16, (i) =>
      outbound({ text: i % 4 === 0 ? longText : `message ${i}` }),
    );
    assert.ok(results.every((r) => r.ok));
    const times = submits.map((s) => s.at);
    assert.equal(times.length, 12 + 4 * 3);
    const burst = Math.ceil(tps / 10);
    // In any second at most tps + burst submits; so 24 take at least (24 - 2 * burst) / tps s.
    for (let k = 0; k + tps + burst < times.length; k++) {
      assert.ok(
        times[k + tps + burst]! - times[k]! >= 1000 - 15,
        `more than ${tps + burst} submits in a second`,
      );
    }
    assert.ok(times.at(-1)! - times[0]! >= ((times.length - 2 * burst) / tps) * 1000 - 15);
  });

  test('ESME_RTHROTTLED gives temporary failures, holds capacity at 0, then recovers', async () => {
    const { sim, port } = await simulator({ throttleTps: 10 });
    const { conn } = await connector(port, { window: 20 });
    const outcomes: SubmitResult[] = [];
    let zeroAfterThrottle = false;
    let delivered = 0;
    // A dispatcher that retries temporary failures until 25 messages are through.
    while (delivered < 25) {
      const capacity = conn.capacity();
      if (capacity === 0) {
        if (outcomes.some((o) => !o.ok)) zeroAfterThrottle = true;
        await readyOrTimeout(conn);
        continue;
      }
      const batch = await Promise.all(
        Array.from({ length: Math.min(capacity, 25 - delivered) }, () => conn.send(outbound())),
      );
      outcomes.push(...batch);
      delivered += batch.filter((r) => r.ok).length;
    }
    const throttled = outcomes.filter((o) => !o.ok);
    assert.ok(throttled.length > 0, 'some sends were throttled');
    for (const o of throttled) {
      assert.ok(!o.ok);
      assert.equal(o.temporary, true);
      assert.equal(o.code, 'smpp_ESME_RTHROTTLED');
      assert.equal(o.status, CommandStatus.ESME_RTHROTTLED);
    }
    assert.ok(zeroAfterThrottle, 'capacity went to 0 while throttled');
    assert.equal(sim.stats.submits, 25);
    assert.ok(sim.stats.throttled >= throttled.length);
  });

  test('a throttled part of a long message is sent again when the others got through', async () => {
    const { sim, port } = await simulator({ throttleTps: 2 });
    const { conn } = await connector(port);
    const result = await conn.send(outbound({ text: longText }));
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.smscIds.length, 3);
    assert.ok(sim.stats.throttled >= 1);
    assert.equal(sim.stats.submits, 3);
  });

  test('a dropped link fails in-flight sends as temporary, then the bind comes back', async () => {
    const { port } = await simulator({ dropEveryPdus: 6, responseDelayMs: 20 });
    const { conn } = await connector(port, { window: 10 });
    const states: string[] = [];
    conn.on('state', (s) => states.push(s.status));
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => conn.send(outbound({ text: `m${i}` }))),
    );
    const lost = results.filter((r) => !r.ok);
    assert.ok(lost.length > 0);
    for (const r of lost) {
      assert.ok(!r.ok);
      assert.equal(r.temporary, true);
      assert.match(r.code, /^smpp_(connection_lost|not_connected)$/);
    }
    assert.equal(conn.state().inFlight, 0);
    await waitFor(() => conn.capacity() > 0);
    assert.ok(states.includes('down') && states.at(-1) === 'up', states.join(','));
    assert.ok((await conn.send(outbound())).ok);
  });

  test('no bind: sends fail as temporary and capacity is 0', async () => {
    const { port } = await simulator();
    const sink = new RecordingSink();
    const conn = new SmppConnector(smppConfig(port, { password: 'x' }), sink, undefined, {
      reconnect: { minMs: 1000, maxMs: 1000 },
    });
    assert.equal(conn.capacity(), 0);
    const result = await conn.send(outbound());
    assert.deepEqual(
      { ok: result.ok, temporary: !result.ok && result.temporary, code: !result.ok && result.code },
      { ok: false, temporary: true, code: 'not_bound' },
    );
    await conn.stop();
  });

  test('permanent errors carry the status name', async () => {
    const { port } = await simulator({ failRate: 1, failStatus: CommandStatus.ESME_RINVDSTADR });
    const { conn } = await connector(port);
    const result = await conn.send(outbound());
    assert.ok(!result.ok);
    assert.equal(result.temporary, false);
    assert.equal(result.code, 'smpp_ESME_RINVDSTADR');
    assert.equal(result.status, CommandStatus.ESME_RINVDSTADR);
    const bad = await conn.send(outbound({ text: 'Привет', encoding: 'gsm7' }));
    assert.ok(!bad.ok && !bad.temporary && bad.code === 'invalid_message');
  });

  for (const longMessages of ['udh', 'sar', 'payload'] as const) {
    test(`a long MO message in ${longMessages} reaches the sink once, whole`, async () => {
      const { sim, port } = await simulator();
      const { sink } = await connector(port);
      const moText = `Olá! ${'This inbound message is long enough to need three parts. '.repeat(7)}`;
      const parts = sim.injectInbound({ from: '+447700900123', to: '+15550100', text: moText, longMessages });
      assert.ok(longMessages === 'payload' ? parts === 1 : parts > 3);
      const [sms] = await waitFor(() => sink.inbounds.length > 0 && sink.inbounds);
      await sleep(50);
      assert.equal(sink.inbounds.length, 1);
      assert.equal(sms!.text, moText);
      assert.equal(sms!.from, '+447700900123');
      assert.equal(sms!.to, '+15550100');
      assert.equal(sms!.connectorId, 'carrier');
      assert.equal(sms!.complete, true);
      assert.equal(sms!.segments, parts);
      assert.equal(sms!.encoding, 'ucs2');
    });
  }

  test('an MO message missing parts goes to the sink incomplete after the timeout', async () => {
    const { sim, port } = await simulator();
    const { sink } = await connector(port, {}, { reassemblyTimeoutMs: 200 });
    // Parts 1 and 3 of 3, sent by hand through the simulator's side of the bind.
    const [bound] = await waitFor(() => sim.server.bound.size > 0 && [...sim.server.bound]);
    const part = (sequence: number, body: string) =>
      bound!.session.request(
        shortMessagePdu('deliver_sm', {
          sourceAddrTon: 1,
          sourceAddrNpi: 1,
          sourceAddr: '447700900123',
          destAddrNpi: 1,
          destinationAddr: '5550100',
          esmClass: 0x40,
          shortMessage: Buffer.concat([Buffer.from([5, 0, 3, 42, 3, sequence]), Buffer.from(body)]),
        }),
      );
    assert.equal((await part(1, 'first ')).commandStatus, 0);
    assert.equal((await part(3, 'third')).commandStatus, 0);
    const [sms] = await waitFor(() => sink.inbounds.length > 0 && sink.inbounds);
    assert.equal(sms!.complete, false);
    assert.equal(sms!.text, 'first third');
    assert.equal(sms!.segments, 2);
    assert.equal(sms!.to, '5550100');
  });

  test('deliver_sm_resp waits for the sink', async () => {
    const { sim, port } = await simulator();
    const { sink } = await connector(port);
    let release!: () => void;
    sink.hold = new Promise((r) => {
      release = r;
    });
    sim.injectInbound({ from: '447700900123', to: '5550100', text: 'held' });
    const [bound] = [...sim.server.bound];
    await waitFor(() => sink.inboundCalls === 1);
    await sleep(50);
    assert.equal(bound!.session.outstanding, 1, 'the deliver_sm is still unanswered');
    release();
    await waitFor(() => bound!.session.outstanding === 0);
    assert.equal(sink.inbounds[0]?.text, 'held');
  });

  test('a sink that refuses makes the SMSC deliver again: receipts, short and long MO', async () => {
    const { sim, port } = await simulator();
    const { conn, sink } = await connector(port);
    sink.refuseReceipt = (_r, call) => call === 1;
    sink.refuseInbound = (_s, call) => call <= 2;
    const sent = await conn.send(outbound({ receipt: true }));
    assert.ok(sent.ok);
    sim.injectInbound({ from: '447700900123', to: '5550100', text: 'short one' });
    sim.injectInbound({ from: '447700900124', to: '5550100', text: longText });
    // The simulator tries again a second after an error status.
    await waitFor(() => sink.receipts.length === 1 && sink.inbounds.length === 2, 5_000);
    assert.equal(sink.receiptCalls, 2);
    assert.equal(sink.inboundCalls, 4);
    assert.deepEqual(sink.inbounds.map((m) => m.text).sort(), [longText, 'short one'].sort());
    assert.equal(sink.receipts[0]!.smscId, sent.smscIds[0]);
    assert.equal(sim.stats.deliveriesDropped, 0);
  });

  test('stop() lets outstanding sends finish, then unbinds', async () => {
    const { sim, port } = await simulator({ responseDelayMs: 100 });
    const sink = new RecordingSink();
    const conn = new SmppConnector(smppConfig(port), sink);
    await conn.start();
    await waitFor(() => conn.state().status === 'up');
    const sending = conn.send(outbound());
    await waitFor(() => sim.stats.submits === 1);
    await conn.stop();
    assert.ok((await sending).ok);
    assert.equal(conn.state().status, 'stopped');
    assert.equal(conn.capacity(), 0);
    const late = await conn.send(outbound());
    assert.ok(!late.ok && late.temporary);
    await waitFor(() => sim.server.bound.size === 0);
  });
});
