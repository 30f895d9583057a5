// A large CSV batch, streamed in as it is generated, through the simulator carrier and
// through an SMSC someone else wrote (the npm `smpp` package's server): every recipient gets
// exactly its own text, once; opt-outs, duplicates and invalid rows are skipped and counted;
// a paused batch sends nothing until resumed; an OTP sent mid-batch goes ahead of the bulk
// queued before it, on the same connector (only what was already on the wire goes first).
// BULK_TEST_RECIPIENTS sets the size (default 100,000, as CI runs it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Connector, OutboundSms } from '../../src/connectors/index.ts';
import { api, gatewayFrom, waitFor } from '../e2e/helpers.ts';
import { requirePeer } from '../peers/available.ts';
import { NpmSmppServer } from '../peers/npm-smpp.ts';

const size = Number(process.env.BULK_TEST_RECIPIENTS ?? 100_000);

const numberOf = (i: number) => `+4477${String(i).padStart(8, '0')}`;
const textOf = (i: number) => `Hi R${i}, your code is ${i % 97}`;
/** Every 1000th recipient (from the 7th) has opted out; every 1000th (from the 3rd) is listed twice. */
const optedOut = (i: number) => i % 1000 === 7;
const repeated = (i: number) => i % 1000 === 3;
/** Every 10,000th row is not a number. */
const invalidRow = (i: number) => i % 10_000 === 5;

const expected = {
  optedOut: Array.from({ length: size }, (_, i) => i).filter(optedOut).length,
  duplicates: Array.from({ length: size }, (_, i) => i).filter(repeated).length,
  invalid: Array.from({ length: size }, (_, i) => i).filter(invalidRow).length,
};

/** The CSV as a stream made while it is read: the whole file never exists at once. */
function csvStream(): ReadableStream<Uint8Array> {
  let i = 0;
  const encoder = new TextEncoder();
  return new ReadableStream({
    pull(controller) {
      if (i === 0) controller.enqueue(encoder.encode('name,to,code\n'));
      if (i >= size) return controller.close();
      let lines = '';
      for (const end = Math.min(size, i + 2000); i < end; i++) {
        lines += `R${i},${numberOf(i)},${i % 97}\n`;
        if (repeated(i)) lines += `R${i},${numberOf(i)},${i % 97}\n`;
        if (invalidRow(i)) lines += 'Nobody,n/a,0\n';
      }
      controller.enqueue(encoder.encode(lines));
    },
  });
}

async function runLargeBatch(
  gw: Awaited<ReturnType<typeof gatewayFrom>>,
  sent: () => Array<{ to: string; text: string }>,
  /** What the connector may have on the wire: at most that much bulk may reach it after the OTP's 202. */
  window: number,
): Promise<void> {
  const call = api(gw.base, 'acme-key-1');
  const optOuts = Array.from({ length: size }, (_, i) => i)
    .filter(optedOut)
    .map(numberOf);
  const imported = await call('POST', '/v1/suppressions/import', `to\n${optOuts.join('\n')}\n`, {
    'content-type': 'text/csv',
  });
  assert.equal(imported.body.added, expected.optedOut);

  const started = Date.now();
  const q = new URLSearchParams({ from: 'ACME', text: 'Hi {{name}}, your code is {{code}}' });
  const res = await fetch(`${gw.base}/v1/batches?${q}`, {
    method: 'POST',
    headers: { authorization: 'Bearer acme-key-1', 'content-type': 'text/csv' },
    body: csvStream(),
    duplex: 'half',
  } as RequestInit);
  const created = (await res.json()) as { id: string; total: number; skipped: Record<string, number> };
  assert.equal(res.status, 202, `batch refused: ${JSON.stringify(created)}`);
  const accepted = size - expected.optedOut;
  assert.equal(created.total, accepted);
  assert.deepEqual(created.skipped, {
    duplicate: expected.duplicates,
    opted_out: expected.optedOut,
    invalid: expected.invalid,
  });
  const ingested = Date.now();
  const batch = async () => (await call('GET', `/v1/batches/${created.id}`)).body;

  // Mid-batch: an OTP overtakes the bulk on the same connector.
  await waitFor(() => sent().length >= accepted / 10, 120_000, 'a tenth of the batch sent');
  const otpAt = Date.now();
  const otp = await call('POST', '/v1/messages', {
    to: '+447700900999',
    from: 'ACME',
    text: 'code 4711',
    priority: 'otp',
  });
  assert.equal(otp.status, 202);
  // Queued before its 202: from then on it goes before any bulk not already on the wire.
  const sentAtAccept = sent().length;
  process.stdout.write(`# OTP 202 after ${Date.now() - otpAt} ms\n`);
  const otpIndex = await waitFor(() => {
    const i = sent().findIndex((s) => s.to === '+447700900999');
    return i >= 0 ? i : undefined;
  }, 60_000);
  const bulkAhead = Math.max(0, otpIndex - sentAtAccept);
  assert.ok(
    bulkAhead <= window,
    `${bulkAhead} bulk messages reached the SMSC after the OTP's 202, before it`,
  );
  const otpDone = await waitFor(async () => {
    const m = (await call('GET', `/v1/messages/${otp.body.id}`)).body;
    return m.submittedAt ? m : undefined;
  }, 10_000);
  // A figure, not a check: how long it took depends on the machine's load.
  const otpMs = Date.parse(otpDone.submittedAt) - Date.parse(otpDone.createdAt);
  const running = await batch();
  assert.ok(running.counts.queued > 0, 'the OTP went while the batch still had messages queued');

  // Paused: nothing leaves (after what was on the wire settles) until resumed.
  assert.equal((await call('POST', `/v1/batches/${created.id}/pause`)).body.status, 'paused');
  await waitFor(() => gw.app.gateway.inFlight === 0 || undefined, 30_000, 'the sends on the wire settled');
  const atPause = sent().length;
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(sent().length, atPause, 'nothing sent while paused');
  assert.ok(atPause < accepted, 'paused before the end');
  assert.equal((await call('POST', `/v1/batches/${created.id}/resume`)).body.status, 'running');

  const done = await waitFor(
    async () => {
      const b = await batch();
      return b.status === 'completed' && b;
    },
    300_000,
    'batch completed',
  );
  const finished = Date.now();
  assert.equal(done.counts.queued + done.counts.paused + done.counts.scheduled, 0);
  assert.equal(done.counts.canceled + done.counts.failed + done.counts.rejected, 0);

  // Exactly once each, its own text; the opted-out never.
  const got = new Map<string, string[]>();
  for (const { to, text } of sent()) {
    if (to === '+447700900999') continue;
    const texts = got.get(to) ?? [];
    texts.push(text);
    got.set(to, texts);
  }
  assert.equal(got.size, accepted);
  for (let i = 0; i < size; i++) {
    const texts = got.get(numberOf(i));
    if (optedOut(i)) assert.equal(texts, undefined, `${numberOf(i)} opted out`);
    else assert.deepEqual(texts, [textOf(i)], numberOf(i));
  }
  process.stdout.write(
    `# ${size} recipients: ingest ${ingested - started} ms (${Math.round(size / ((ingested - started) / 1000))}/s), ` +
      `all sent ${finished - ingested} ms after the 202; OTP submitted in ${otpMs} ms\n`,
  );
}

test(`a ${size}-recipient CSV batch through the simulator`, { timeout: 600_000 }, async (t) => {
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts: [{ id: acme, apiKeys: [acme-key-1] }]
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 5 }
routes:
  mt: [{ connectors: [sim] }]
`);
  t.after(() => gw.close());
  // What the carrier was handed, recorded at the connector.
  const sent: Array<{ to: string; text: string }> = [];
  const sim = gw.app.gateway.connectors.get('sim') as Connector;
  const send = sim.send.bind(sim);
  sim.send = (sms: OutboundSms) => {
    sent.push({ to: sms.to, text: sms.text ?? '' });
    return send(sms);
  };
  await runLargeBatch(gw, () => sent, 1000);
});

test(`a ${size}-recipient CSV batch through the npm smpp SMSC`, { timeout: 600_000 }, async (t) => {
  if (!requirePeer(t, 'npm smpp')) return;
  const smsc = await NpmSmppServer.start(t, { accounts: [{ systemId: 'gw', password: 'pw' }] });
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts: [{ id: acme, apiKeys: [acme-key-1] }]
connectors:
  - { id: npm, type: smpp, host: 127.0.0.1, port: ${smsc.port}, systemId: gw, password: pw, window: 256 }
routes:
  mt: [{ connectors: [npm] }]
`);
  t.after(() => gw.close());
  // What the SMSC read off the wire, as it decoded it.
  let seen = 0;
  const sent: Array<{ to: string; text: string }> = [];
  const received = () => {
    for (; seen < smsc.received.length; seen++) {
      const { pdu } = smsc.received[seen]!;
      if (pdu.command !== 'submit_sm') continue;
      const message = (pdu.short_message as { message: string }).message;
      sent.push({ to: `+${pdu.destination_addr}`, text: message });
    }
    return sent;
  };
  await runLargeBatch(gw, received, 256);
});
