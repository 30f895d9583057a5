// The modem connector against the modem emulator over pseudo-terminal pairs: sending in PDU
// mode (read back by the emulator's own decoder), status reports as receipts, inbound from
// the SIM, the SIM PIN, a modem that hangs, and a pool of modems.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { ModemConnectorConfig } from '../../src/config/types.ts';
import type { ConnectorLogger } from '../../src/connectors/index.ts';
import { ModemConnector, type ModemConnectorOptions } from '../../src/connectors/modem.ts';
import { ModemEmulator, type ModemEmulatorOptions } from '../../src/simulator/index.ts';
import { needsSocat, ptyPair } from '../modem/pty.ts';
import { outbound, RecordingSink, waitFor } from './helpers.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

// Commands get their usual time (a loaded machine must not look like a hung modem); the
// tests of hung modems shorten it.
const fast: ModemConnectorOptions = {
  modem: { reopen: { minMs: 50, maxMs: 200 } },
  sinkRetryMs: 50,
  reassemblyTimeoutMs: 300,
};

/** The configuration every test here uses, on `devices`. */
function modemConfig(devices: string[], pin?: string): ModemConnectorConfig {
  return {
    id: 'gsm',
    type: 'modem',
    devices,
    baudRate: 115_200,
    commandTimeoutSeconds: 10,
    sendTimeoutSeconds: 60,
    pollSeconds: 30,
    ...(pin === undefined ? {} : { pin }),
  };
}

/** A connector (not started) on `devices`, stopped after the test. */
function connectorOn(
  devices: string[],
  options: { sink?: RecordingSink; logger?: ConnectorLogger; pin?: string } = {},
): ModemConnector {
  const connector = new ModemConnector(
    modemConfig(devices, options.pin),
    options.sink ?? new RecordingSink(),
    options.logger,
    fast,
  );
  cleanups.push(() => connector.stop());
  return connector;
}

/** A pseudo-terminal pair, closed after the test. */
async function openPty() {
  const pty = await ptyPair();
  cleanups.push(() => pty.close());
  return pty;
}

/** An emulated modem on `path`, open until the test ends. */
async function openEmulator(options: ModemEmulatorOptions): Promise<ModemEmulator> {
  const emulator = new ModemEmulator(options);
  await emulator.open();
  cleanups.push(() => emulator.close());
  return emulator;
}

async function rig(
  settings: {
    devices?: number;
    pin?: string;
    emulator?: Partial<ModemEmulatorOptions>;
    /** How long a command may go unanswered (default: the config's). */
    timeoutMs?: number;
  } = {},
) {
  const emulators: ModemEmulator[] = [];
  const paths: string[] = [];
  /** Every command each emulator got, from the first. */
  const commands: string[][] = [];
  for (let i = 0; i < (settings.devices ?? 1); i++) {
    const pty = await openPty();
    const emulator = new ModemEmulator({
      path: pty.modem,
      number: `+1555010${i}`,
      reportDelayMs: 20,
      ...settings.emulator,
    });
    const got: string[] = [];
    emulator.on('command', (c) => got.push(c));
    commands.push(got);
    await emulator.open();
    cleanups.push(() => emulator.close());
    emulators.push(emulator);
    paths.push(pty.gateway);
  }
  const sink = new RecordingSink();
  const timeouts =
    settings.timeoutMs === undefined
      ? {}
      : { commandTimeoutMs: settings.timeoutMs, sendTimeoutMs: settings.timeoutMs };
  const connector = new ModemConnector(modemConfig(paths, settings.pin), sink, undefined, {
    ...fast,
    modem: { ...fast.modem, ...timeouts },
  });
  cleanups.push(() => connector.stop());
  await connector.start();
  return { connector, sink, emulators, paths, commands };
}

const up = async (connector: ModemConnector, binds = 1) => {
  try {
    await waitFor(() => connector.state().binds.filter((b) => b.state === 'bound').length === binds);
  } catch {
    throw new Error(`not up: ${JSON.stringify(connector.state())}`);
  }
};

test(
  'a long message goes as concatenated PDUs; every part gets its +CDS receipt by TP-MR',
  needsSocat,
  async () => {
    const { connector, sink, emulators, paths } = await rig();
    await up(connector);
    const text = 'Your parcel is on its way. '.repeat(8);
    const result = await connector.send(outbound({ text, receipt: true }));
    assert.equal(result.ok, true);
    if (!result.ok) return;
    const [emulator] = emulators;
    assert.equal(result.smscIds.length, 2);
    assert.deepEqual(
      result.smscIds,
      emulator!.submits.map((s) => `${paths[0]}#${s.reference}`),
    );
    // The emulator's own reading of our PDUs.
    assert.equal(emulator!.submits.map((s) => s.text).join(''), text);
    assert.deepEqual(
      emulator!.submits.map((s) => [s.to, s.statusReport, s.concat?.total, s.concat?.sequence]),
      [
        ['+447700900001', true, 2, 1],
        ['+447700900001', true, 2, 2],
      ],
    );
    await waitFor(() => sink.receipts.length === 2);
    assert.deepEqual(
      sink.receipts.map((r) => [r.smscId, r.status, r.stat]).sort(),
      result.smscIds.map((id) => [id, 'delivered', 'DELIVRD']).sort(),
    );
  },
);

test(
  'UCS-2 text is read back as sent; a message without a receipt asks for no report',
  needsSocat,
  async () => {
    const { connector, sink, emulators } = await rig();
    await up(connector);
    const result = await connector.send(outbound({ text: 'Привет, мир 👋', encoding: 'ucs2' }));
    assert.equal(result.ok, true);
    assert.equal(emulators[0]!.submits[0]!.text, 'Привет, мир 👋');
    assert.equal(emulators[0]!.submits[0]!.dcs, 0x08);
    assert.equal(emulators[0]!.submits[0]!.statusReport, false);
    assert.equal(emulators[0]!.stats.reports, 0);
    assert.equal(sink.receipts.length, 0);
  },
);

test('a failed status report (TP-ST 0x46) is an expired receipt', needsSocat, async () => {
  const { connector, sink } = await rig({ emulator: { reportStatus: 0x46 } });
  await up(connector);
  assert.equal((await connector.send(outbound({ receipt: true }))).ok, true);
  const receipt = await waitFor(() => sink.receipts[0]);
  assert.equal(receipt.status, 'expired');
  assert.equal(receipt.err, '46');
});

test('+CMS ERROR: a refused PDU is permanent, network congestion temporary', needsSocat, async () => {
  const { connector, emulators } = await rig();
  await up(connector);
  emulators[0]!.failSends = 21; // short message transfer rejected
  const refused = await connector.send(outbound());
  assert.deepEqual(refused.ok ? null : [refused.temporary, refused.code, refused.status], [
    false,
    'cms_21',
    21,
  ]);
  emulators[0]!.failSends = 42; // congestion
  const congested = await connector.send(outbound());
  assert.deepEqual(congested.ok ? null : [congested.temporary, congested.code], [true, 'cms_42']);
});

test(
  'inbound, single and long, is read from the SIM, handed over, then deleted there',
  needsSocat,
  async () => {
    const { connector, sink, emulators } = await rig();
    await up(connector);
    const [emulator] = emulators;
    emulator!.injectInbound({ from: '+447700900123', text: 'STOP' });
    emulator!.injectInbound({ from: 'ACME Bank', text: 'Your code is 123456' });
    const long = 'This text is long enough to take three parts. '.repeat(9);
    assert.equal(emulator!.injectInbound({ from: '447700900124', text: long }), 3);
    await waitFor(() => sink.inbounds.length === 3);
    const byFrom = Object.fromEntries(sink.inbounds.map((m) => [m.from, m]));
    assert.equal(byFrom['ACME Bank']?.text, 'Your code is 123456');
    assert.equal(byFrom['+447700900123']?.text, 'STOP');
    assert.equal(byFrom['+447700900123']?.to, '+15550100');
    assert.equal(byFrom['447700900124']?.text, long);
    assert.equal(byFrom['447700900124']?.segments, 3);
    assert.equal(byFrom['447700900124']?.complete, true);
    await waitFor(() => emulator!.stored === 0);
  },
);

test('an inbound message the sink refuses stays on the SIM and is offered again', needsSocat, async () => {
  const { connector, sink, emulators } = await rig();
  await up(connector);
  sink.refuseInbound = (_sms, call) => call <= 2;
  emulators[0]!.injectInbound({ from: '+447700900123', text: 'hello' });
  await waitFor(() => sink.inboundCalls === 2);
  assert.equal(emulators[0]!.stored, 1);
  await waitFor(() => sink.inbounds.length === 1);
  await waitFor(() => emulators[0]!.stored === 0);
  assert.equal(sink.inbounds[0]!.text, 'hello');
});

test('messages stored on the SIM while the connector was stopped are read at start', needsSocat, async () => {
  const pty = await openPty();
  const emulator = await openEmulator({ path: pty.modem, number: '+15550100' });
  emulator.injectInbound({ from: '+447700900123', text: 'while you were away' });
  const sink = new RecordingSink();
  const connector = connectorOn([pty.gateway], { sink });
  await connector.start();
  await waitFor(() => sink.inbounds.length === 1);
  assert.equal(sink.inbounds[0]!.text, 'while you were away');
  await waitFor(() => emulator.stored === 0);
});

test('SIM PIN: the right one unlocks it', needsSocat, async () => {
  const { connector } = await rig({ pin: '4321', emulator: { pin: '4321' } });
  await up(connector);
  assert.equal(connector.state().status, 'up');
});

test(
  'SIM PIN: none configured, or a wrong one (tried once only), leaves it down with the reason',
  needsSocat,
  async () => {
    const missing = await rig({ emulator: { pin: '4321' } });
    await waitFor(() => missing.connector.state().status === 'down');
    assert.match(missing.connector.state().lastError ?? '', /SIM PIN required/);

    const wrong = await rig({ pin: '1111', emulator: { pin: '4321' } });
    await waitFor(() => wrong.connector.state().status === 'down');
    const state = wrong.connector.state();
    assert.match(state.lastError ?? '', /SIM PIN refused \(\+CME ERROR: 16\)/);
    assert.doesNotMatch(state.lastError ?? '', /1111/);
    assert.equal(state.binds[0]!.state, 'down');
    // Well past the reopen back-off: a wrong PIN is never tried again.
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(
      wrong.commands[0]!.filter((c) => c.startsWith('AT+CPIN=')),
      ['AT+CPIN="1111"'],
    );
    assert.equal(wrong.connector.capacity(), 0);
    // Stopped and started (the admin API), it still does not offer the refused PIN again.
    await wrong.connector.stop();
    await wrong.connector.start();
    await waitFor(() => wrong.connector.state().status === 'down');
    assert.match(wrong.connector.state().lastError ?? '', /not tried again until the gateway restarts/);
    assert.equal(wrong.commands[0]!.filter((c) => c.startsWith('AT+CPIN=')).length, 1);
  },
);

test(
  'a modem that stops answering is reset; the send fails temporarily and goes once later',
  needsSocat,
  async () => {
    const { connector, emulators } = await rig({ timeoutMs: 500 });
    await up(connector);
    const [emulator] = emulators;
    emulator!.hung = true;
    const failed = await connector.send(outbound({ text: 'first try' }));
    // Timed out itself, or dropped with the reset when the command before it timed out.
    assert.equal(failed.ok, false);
    if (failed.ok) return;
    assert.equal(failed.temporary, true);
    assert.match(failed.code, /^modem_(timeout|closed)$/);
    await waitFor(() => connector.state().status === 'down');
    assert.match(connector.state().lastError ?? '', /no answer to AT\+C/);
    assert.equal(connector.capacity(), 0);
    emulator!.hung = false;
    await up(connector);
    const again = await connector.send(outbound({ text: 'first try' }));
    assert.equal(again.ok, true);
    assert.equal(emulator!.stats.sent, 1);
    assert.deepEqual(
      emulator!.submits.map((s) => s.text),
      ['first try'],
    );
  },
);

test('a pool of two modems: two binds, messages spread over both', needsSocat, async () => {
  const { connector, emulators, paths } = await rig({ devices: 2 });
  await up(connector, 2);
  assert.equal(connector.capacity(), 2);
  const results = await Promise.all([connector.send(outbound()), connector.send(outbound())]);
  const devices = results.map((r) => (r.ok ? r.smscIds[0]!.split('#')[0] : null)).sort();
  assert.deepEqual(devices, [...paths].sort());
  assert.deepEqual(
    emulators.map((e) => e.stats.sent),
    [1, 1],
  );
});

test('stopped (as the admin API does) it closes its ports; started again it sends', needsSocat, async () => {
  const { connector, emulators } = await rig();
  await up(connector);
  await connector.stop();
  assert.equal(connector.state().status, 'stopped');
  assert.equal(connector.capacity(), 0);
  const refused = await connector.send(outbound());
  assert.deepEqual(refused.ok ? null : [refused.temporary, refused.code], [true, 'stopped']);
  await connector.start();
  await up(connector);
  assert.equal((await connector.send(outbound({ text: 'after a restart' }))).ok, true);
  assert.deepEqual(
    emulators[0]!.submits.map((s) => s.text),
    ['after a restart'],
  );
});

test('a slow modem (answers late, within the timeout) still sends every part', needsSocat, async () => {
  const { connector, emulators } = await rig({ emulator: { responseDelayMs: 100 } });
  await up(connector);
  const text = 'slow but sure '.repeat(15);
  const result = await connector.send(outbound({ text }));
  assert.equal(result.ok, true);
  assert.equal(emulators[0]!.submits.map((s) => s.text).join(''), text);
  assert.equal(emulators[0]!.stats.sent, 2);
});

test('a device that does not exist leaves its bind down, saying why', async () => {
  const sink = new RecordingSink();
  const connector = connectorOn(['/dev/smsgw-no-such-modem'], { sink });
  await connector.start();
  await waitFor(() => connector.state().status === 'down');
  assert.match(connector.state().lastError ?? '', /no such file|ENOENT|cannot open/i);
  assert.equal(connector.capacity(), 0);
});

test('the AT traffic is logged at debug level with the PIN masked', needsSocat, async () => {
  const pty = await openPty();
  await openEmulator({ path: pty.modem, pin: '4321' });
  const logged: string[] = [];
  const record = (obj: object, msg?: string) => logged.push(`${msg} ${JSON.stringify(obj)}`);
  const connector = connectorOn([pty.gateway], {
    pin: '4321',
    logger: { debug: record, info: record, warn: record, error: record },
  });
  await connector.start();
  await up(connector);
  const all = logged.join('\n');
  assert.match(all, /modem traffic .*AT\+CPIN=\\"\*\*\*\*\\"/);
  assert.match(all, /\+CPIN: SIM PIN/);
  assert.doesNotMatch(all, /4321/);
});

test(
  'a part the network sends again after its message was stored does not stay on the SIM',
  needsSocat,
  async () => {
    const { connector, sink, emulators } = await rig();
    await up(connector);
    const [emulator] = emulators;
    emulator!.injectInbound({ from: '+447700900123', text: 'twice told tale '.repeat(12) });
    await waitFor(() => sink.inbounds.length === 1 && emulator!.stored === 0);
    emulator!.injectTpdu(emulator!.injected[0]!); // the first part, again
    await waitFor(() => emulator!.stored === 1);
    // Once no set could still be waiting for it, the next message that comes takes it away.
    await new Promise((r) => setTimeout(r, 2 * 300 + 50));
    emulator!.injectInbound({ from: '+447700900124', text: 'next' });
    await waitFor(() => sink.inbounds.length === 2 && emulator!.stored === 0);
    assert.deepEqual(
      sink.inbounds.map((m) => m.from),
      ['+447700900123', '+447700900124'],
    );
  },
);

test(
  'stopped while its ports are still opening, it leaves none open: started again it sends',
  needsSocat,
  async () => {
    const { connector, emulators } = await rig();
    await connector.stop(); // rig() started it a moment ago: the port is opening or just open
    await connector.start();
    await up(connector);
    assert.equal((await connector.send(outbound({ text: 'once more' }))).ok, true);
    assert.deepEqual(
      emulators[0]!.submits.map((s) => s.text),
      ['once more'],
    );
  },
);

test(
  'what a modem still says when its port is opened is not taken for the answers to come',
  needsSocat,
  async () => {
    const pty = await openPty();
    const emulator = await openEmulator({ path: pty.modem, number: '+15550100' });
    const connector = connectorOn([pty.gateway]);
    // Late answers to commands of before (as after a reset), for a while after it opens.
    const late = setInterval(() => emulator.writeRaw('\r\nOK\r\n'), 20);
    setTimeout(() => clearInterval(late), 300);
    await connector.start();
    await up(connector);
    assert.equal((await connector.send(outbound({ text: 'in step' }))).ok, true);
    assert.deepEqual(
      emulator.submits.map((s) => s.text),
      ['in step'],
    );
  },
);

test(
  'a modem that is not there yet (its emulator started after the gateway) is found once it is',
  needsSocat,
  async () => {
    const pty = await openPty();
    const connector = connectorOn([pty.gateway]);
    await connector.start();
    await waitFor(() => connector.state().status === 'down', 10_000);
    assert.match(connector.state().lastError ?? '', /no answer to AT/);
    const emulator = await openEmulator({ path: pty.modem, number: '+15550100' });
    await up(connector);
    assert.equal((await connector.send(outbound({ text: 'found you' }))).ok, true);
    assert.deepEqual(
      emulator.submits.map((s) => s.text),
      ['found you'],
    );
  },
);
