// The gateway sending and receiving through GSM modems: the modem connector on one end of a
// pseudo-terminal pair, the modem emulator on the other. REST → +CMGS → +CDS → `delivered`
// (every part of a long message counted); inbound from the SIM → webhook; a SIM that wants
// another PIN; a modem that hangs; a pool of two.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModemEmulator, type ModemEmulatorOptions } from '../../src/simulator/index.ts';
import { needsSocat, ptyPair } from '../modem/pty.ts';
import { api, gatewayFrom, waitFor, webhookReceiver } from './helpers.ts';

async function emulatorOnPty(
  t: { after(fn: () => Promise<void>): void },
  options: Partial<ModemEmulatorOptions> = {},
) {
  const pty = await ptyPair();
  const emulator = new ModemEmulator({ path: pty.modem, number: '+15550100', reportDelayMs: 20, ...options });
  await emulator.open();
  t.after(async () => {
    await emulator.close();
    await pty.close();
  });
  return { emulator, device: pty.gateway };
}

interface Readiness {
  connectors: Array<{ id: string; state: string; binds: number; lastError: string | null }>;
}

async function readiness(base: string): Promise<Readiness> {
  return (await fetch(`${base}/ready`).then((r) => r.json())) as Readiness;
}

async function modemGateway(
  t: { after(fn: () => Promise<void>): void },
  devices: string[],
  extra = '',
  hooksUrl = 'http://127.0.0.1:9/none',
) {
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-1] }
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: "+15550199", webhook: { url: "${hooksUrl}", secret: whsec-1 } }
connectors:
  - { id: gsm, type: modem, devices: [${devices.map((d) => `"${d}"`).join(', ')}]${extra} }
routes:
  mt: [{ connectors: [gsm] }]
  mo: [{ account: acme }]
`);
  t.after(() => gw.close());
  return { gw, call: api(gw.base, 'acme-key-1'), admin: api(gw.base, 'admin-key-1') };
}

test(
  'REST → modem → +CDS for every part → delivered; inbound single and long → webhook; /ready and /metrics show it',
  needsSocat,
  async (t) => {
    const hooks = await webhookReceiver();
    t.after(() => hooks.close());
    const { emulator, device } = await emulatorOnPty(t);
    const { gw, call, admin } = await modemGateway(t, [device], '', hooks.url);

    const ready = await waitFor(async () => {
      const r = await readiness(gw.base);
      return r.connectors[0].state === 'up' ? r : undefined;
    });
    assert.deepEqual(
      {
        id: ready.connectors[0].id,
        binds: ready.connectors[0].binds,
        lastError: ready.connectors[0].lastError,
      },
      { id: 'gsm', binds: 1, lastError: null },
    );

    const text = 'A message long enough for three parts, each with its own status report. '.repeat(6);
    const sent = await call('POST', '/v1/messages', { to: '+447700900001', text });
    assert.equal(sent.status, 202);
    assert.equal(sent.body.segments, 3);
    const done = await waitFor(async () => {
      const m = await call('GET', `/v1/messages/${sent.body.id}`);
      return m.body.status === 'delivered' ? m.body : undefined;
    });
    assert.equal(done.connector, 'gsm');
    assert.equal(emulator.stats.sent, 3);
    assert.equal(emulator.stats.reports, 3);
    assert.equal(emulator.submits.map((s) => s.text).join(''), text);
    // Every part's receipt counted; the final webhook once.
    const partReceipts = done.events.filter(
      (e: { type: string; detail: { part?: number } | null }) =>
        ['receipt', 'delivered'].includes(e.type) && e.detail?.part !== undefined,
    );
    assert.deepEqual(
      [...new Set(partReceipts.map((e: { detail: { part: number } }) => e.detail.part))].sort(),
      [0, 1, 2],
    );
    await waitFor(() =>
      hooks.hooks.some((h) => h.body.type === 'message.status' && h.body.data['status'] === 'delivered'),
    );
    await new Promise((r) => setTimeout(r, 200));
    const finals = hooks.hooks.filter(
      (h) =>
        h.body.type === 'message.status' &&
        h.body.data['id'] === sent.body.id &&
        h.body.data['status'] === 'delivered',
    );
    assert.equal(finals.length, 1);

    emulator.injectInbound({ from: '+447700900123', text: 'Yes please' });
    const long = 'Ça va? Réponse longue en plusieurs parties, réassemblée par la passerelle. '.repeat(4);
    const parts = emulator.injectInbound({ from: '+447700900124', text: long });
    assert.ok(parts > 1);
    const inbound = await waitFor(() => {
      const got = hooks.hooks.filter((h) => h.body.type === 'message.inbound');
      return got.length === 2 ? got.map((h) => h.body.data) : undefined;
    });
    const byFrom = Object.fromEntries(inbound.map((d) => [d['from'], d]));
    assert.equal(byFrom['+447700900123']?.['text'], 'Yes please');
    assert.equal(byFrom['+447700900123']?.['to'], '+15550100');
    assert.equal(byFrom['+447700900123']?.['connector'], 'gsm');
    assert.equal(byFrom['+447700900124']?.['text'], long);
    assert.equal(byFrom['+447700900124']?.['segments'], parts);
    await waitFor(() => emulator.stored === 0);

    const connectors = await admin('GET', '/v1/admin/connectors');
    assert.equal(connectors.status, 200);
    const listed = JSON.stringify(connectors.body);
    assert.match(listed, /"type":"modem"/);
    const metrics = await fetch(`${gw.base}/metrics`).then((r) => r.text());
    assert.match(metrics, /smsgw_connector_binds\{connector="gsm",state="bound"[^}]*\} 1\n/);

    // Stopped and started through the admin API, as the console does: it closes and opens its port.
    const stopped = await admin('POST', '/v1/admin/connectors/gsm/stop');
    assert.equal(stopped.body.status, 'stopped');
    assert.equal((await readiness(gw.base)).connectors[0]!.state, 'stopped');
    const started = await admin('POST', '/v1/admin/connectors/gsm/start');
    assert.equal(started.status, 200);
    await waitFor(async () => (await readiness(gw.base)).connectors[0]!.state === 'up');
    const again = await call('POST', '/v1/messages', { to: '+447700900009', text: 'after a restart' });
    await waitFor(
      async () => (await call('GET', `/v1/messages/${again.body.id}`)).body.status === 'delivered',
    );
  },
);

test(
  'a SIM that asks for a PIN: a wrong one, or none, leaves the connector down with the reason, in /ready',
  needsSocat,
  async (t) => {
    const { device } = await emulatorOnPty(t, { pin: '4321' });
    const { gw } = await modemGateway(t, [device], ', pin: "1234"');
    const ready = await waitFor(async () => {
      const r = await readiness(gw.base);
      return r.connectors[0].state === 'down' ? r : undefined;
    });
    assert.equal(ready.connectors[0].binds, 0);
    assert.match(ready.connectors[0]!.lastError ?? '', /SIM PIN refused/);
    assert.doesNotMatch(JSON.stringify(ready), /1234/);
    // And one with no pin configured says what to set.
    const second = await emulatorOnPty(t, { pin: '4321' });
    const { gw: other } = await modemGateway(t, [second.device]);
    const asked = await waitFor(async () => {
      const r = await readiness(other.base);
      return r.connectors[0]!.state === 'down' ? r : undefined;
    });
    assert.match(asked.connectors[0]!.lastError ?? '', /SIM PIN required: set pin/);
  },
);

test('a modem that stops answering is reset, and the message is sent again, once', needsSocat, async (t) => {
  const { emulator, device } = await emulatorOnPty(t);
  const { gw, call } = await modemGateway(t, [device], ', commandTimeoutSeconds: 1, sendTimeoutSeconds: 1');
  await waitFor(async () => (await readiness(gw.base)).connectors[0].state === 'up');
  emulator.hung = true;
  const sent = await call('POST', '/v1/messages', { to: '+447700900001', text: 'try, try again' });
  assert.equal(sent.status, 202);
  const down = await waitFor(async () => {
    const r = await readiness(gw.base);
    return r.connectors[0].state === 'down' ? r : undefined;
  }, 20_000);
  assert.match(down.connectors[0]!.lastError ?? '', /no answer to AT/);
  emulator.hung = false;
  const done = await waitFor(
    async () => {
      const m = await call('GET', `/v1/messages/${sent.body.id}`);
      return m.body.status === 'delivered' ? m.body : undefined;
    },
    30_000,
    'delivered after the reset',
  );
  assert.equal(done.status, 'delivered');
  assert.equal(emulator.stats.sent, 1);
  assert.deepEqual(
    emulator.submits.map((s) => s.text),
    ['try, try again'],
  );
});

test(
  'a pool of two modems behind one connector: two binds, messages spread over both',
  needsSocat,
  async (t) => {
    const a = await emulatorOnPty(t);
    const b = await emulatorOnPty(t);
    const { gw, call } = await modemGateway(t, [a.device, b.device]);
    await waitFor(async () => (await readiness(gw.base)).connectors[0].binds === 2);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const sent = await call('POST', '/v1/messages', { to: `+44770090010${i}`, text: `message ${i}` });
      ids.push(sent.body.id);
    }
    for (const id of ids) {
      await waitFor(
        async () => (await call('GET', `/v1/messages/${id}`)).body.status === 'delivered',
        20_000,
      );
    }
    assert.equal(a.emulator.stats.sent + b.emulator.stats.sent, 6);
    assert.ok(
      a.emulator.stats.sent >= 1 && b.emulator.stats.sent >= 1,
      `${a.emulator.stats.sent} / ${b.emulator.stats.sent}`,
    );
  },
);
