// `smsgw simulate modem` as a user runs it: a process answering on one end of a pty pair,
// driven here with raw AT commands from the other end and through its control API.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { type TestContext, test } from 'node:test';
import { SerialPort } from 'serialport';
import { waitFor } from '../e2e/helpers.ts';
import { needsSocat, ptyPair } from '../modem/pty.ts';

const main = resolve('src/cli/main.ts');

/** `smsgw simulate modem ARGS` as a process, stopped after the test: what it has printed. */
function simulateModem(t: TestContext, args: string[]): () => string {
  const child = spawn(process.execPath, [main, 'simulate', 'modem', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  t.after(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  return () => stdout;
}

test(
  'smsgw simulate modem answers AT, asks for its PIN, takes a PDU, reports, and delivers /inbound as +CMTI',
  needsSocat,
  async (t) => {
    const pty = await ptyPair();
    t.after(() => pty.close());
    const stdout = simulateModem(t, [
      '--device',
      pty.modem,
      '--http',
      '127.0.0.1:0',
      '--pin',
      '1234',
      '--report-delay-ms',
      '10',
    ]);
    const control = await waitFor(
      () => /control API on (http:\/\/\S+)/.exec(stdout())?.[1],
      15_000,
      'the control API',
    );

    const port = new SerialPort({ path: pty.gateway, baudRate: 115_200, autoOpen: false });
    await new Promise<void>((ok, fail) => port.open((err) => (err ? fail(err) : ok())));
    t.after(() => new Promise<void>((r) => port.close(() => r())));
    let heard = '';
    port.on('data', (c: Buffer) => (heard += c.toString('latin1')));
    /** Writes `text` and waits for `answer` in what comes back after it. */
    const ask = async (text: string, answer: RegExp) => {
      const from = heard.length;
      port.write(text);
      return waitFor(
        () => answer.exec(heard.slice(from)) ?? undefined,
        5_000,
        `${JSON.stringify(text)} → ${answer}`,
      );
    };

    await ask('AT\r', /\r\nOK\r\n/);
    await ask('ATE0\r', /\r\nOK\r\n/);
    await ask('AT+CPIN?\r', /\+CPIN: SIM PIN\r\n\r?\n?OK/);
    await ask('AT+CMGF=0\r', /\+CMS ERROR: 311/);
    await ask('AT+CPIN="0000"\r', /\+CME ERROR: 16/);
    await ask('AT+CPIN="1234"\r', /\r\nOK\r\n/);
    await ask('AT+CMGF=0\r', /\r\nOK\r\n/);
    await ask('AT+CNMI=2,1,0,1,0\r', /\r\nOK\r\n/);

    // The published "hellohello" SMS-SUBMIT, with TP-SRR set (0x31): taken, then reported.
    await ask('AT+CMGS=23\r', /> /);
    const sentAt = heard.length;
    const mr = await ask('0031000B916407281553F80000AA0AE8329BFD4697D9EC37\x1a', /\+CMGS: (\d+)\r\n\r?\n?OK/);
    const cds = await waitFor(
      () => /\+CDS: (\d+)\r\n([0-9A-F]+)\r\n/.exec(heard.slice(sentAt)) ?? undefined,
      5_000,
      'the +CDS report',
    );
    assert.equal(Number.parseInt(cds[2]!.slice(2, 4), 16), Number(mr[1])); // TP-MR of the report
    // A malformed PDU (its TP-UDL claims more than it carries) is refused.
    await ask('AT+CMGS=23\r', /> /);
    await ask('0031000B916407281553F80000AA0FE8329BFD4697D9EC37\x1a', /\+CMS ERROR: 304/);

    const long = 'A long reply from a handset, to be split into several parts by the network. '.repeat(4);
    const injected = await fetch(`${control}/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+447700900123', text: long }),
    });
    assert.equal(injected.status, 202);
    const { parts } = (await injected.json()) as { parts: number };
    assert.ok(parts >= 2);
    await waitFor(() => (heard.match(/\+CMTI: "SM",\d+/g)?.length ?? 0) === parts, 5_000, 'a +CMTI per part');
    const listed = await ask('AT+CMGL=4\r', /((?:\+CMGL: .*\r\n[0-9A-F]+\r\n)+)\r?\n?OK/);
    assert.equal(listed[1]!.match(/\+CMGL:/g)?.length, parts);
    await ask('AT+CMGD=1,4\r', /\r\nOK\r\n/);

    const bad = await fetch(`${control}/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'not a number', text: 'x' }),
    });
    assert.equal(bad.status, 400);
    // Hung on request: nothing is answered until /answer.
    assert.deepEqual(await fetch(`${control}/hang`, { method: 'POST' }).then((r) => r.json()), {
      hung: true,
    });
    const before = heard.length;
    port.write('AT\r');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(heard.slice(before), '');
    await fetch(`${control}/answer`, { method: 'POST' });
    await ask('AT\r', /\r\nOK\r\n/);

    const stats = await fetch(`${control}/stats`).then((r) => r.json());
    assert.deepEqual(stats, { sent: 1, received: 1, reports: 1 });
  },
);

test('smsgw simulate modem --cms-error and --response-delay-ms misbehave as asked', needsSocat, async (t) => {
  const pty = await ptyPair();
  t.after(() => pty.close());
  const stdout = simulateModem(t, ['--device', pty.modem, '--cms-error', '42', '--response-delay-ms', '50']);
  await waitFor(() => stdout().includes('answering on'), 15_000, 'the emulator to start');
  const port = new SerialPort({ path: pty.gateway, baudRate: 115_200, autoOpen: false });
  await new Promise<void>((ok, fail) => port.open((err) => (err ? fail(err) : ok())));
  t.after(() => new Promise<void>((r) => port.close(() => r())));
  let heard = '';
  port.on('data', (c: Buffer) => (heard += c.toString('latin1')));
  port.write('ATE0\r');
  await waitFor(() => heard.includes('OK'), 5_000, 'ATE0 answered');
  port.write('AT+CMGS=23\r');
  await waitFor(() => heard.includes('> '), 5_000, 'the prompt');
  port.write('0011000B916407281553F80000AA0AE8329BFD4697D9EC37\x1a');
  await waitFor(() => heard.includes('+CMS ERROR: 42'), 5_000, 'the +CMS ERROR');
});

test('smsgw simulate modem without --device says what is missing', () => {
  const res = spawnSync(process.execPath, [main, 'simulate', 'modem'], { encoding: 'utf8' });
  assert.equal(res.status, 2);
  assert.match(res.stderr, /--device: required/);
});
