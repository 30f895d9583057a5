// Kannel 1.4.5 as a real ESME: its bearerbox binds to our SMPP server, a message sent
// through its sendsms reaches our simulator carrier, and Kannel's dlr-url is called with
// the delivery report our receipt carried back.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { requirePeer } from '../peers/available.ts';
import { gatewayFrom, waitFor } from './helpers.ts';

const children: ChildProcess[] = [];
const closers: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const c of closers.reverse()) await c();
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

test('Kannel sendsms → our SMPP server → simulator → receipt → Kannel dlr-url', async (t) => {
  if (!requirePeer(t, 'Kannel')) return;
  const dlrs: URLSearchParams[] = [];
  const dlrServer = http.createServer((req, res) => {
    dlrs.push(new URL(req.url!, 'http://x').searchParams);
    res.end('ok');
  });
  await new Promise<void>((r) => dlrServer.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => dlrServer.close(r)));
  const dlrPort = (dlrServer.address() as net.AddressInfo).port;

  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  # No defaultCountry: Kannel sends numbers written without + as TON national, and
  # international digits under it are read as international.
  - { id: kannel, apiKeys: [kannel-key-1], smpp: { systemId: kannel, password: kpass } }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 50 }
routes:
  mt: [{ connectors: [sim] }]
`);
  closers.push(() => gw.close());

  const [admin, box, sendsms] = [await freePort(), await freePort(), await freePort()];
  const dir = join(gw.dir, 'kannel');
  mkdirSync(join(dir, 'store'), { recursive: true });
  const conf = join(dir, 'kannel.conf');
  writeFileSync(
    conf,
    `group = core
admin-port = ${admin}
admin-interface = 127.0.0.1
admin-password = kadmin
status-password = kstatus
admin-allow-ip = "127.0.0.1"
smsbox-port = ${box}
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "${dir}/bearerbox.log"
store-type = spool
store-location = "${dir}/store"
dlr-storage = internal

group = smsc
smsc = smpp
smsc-id = gw
host = 127.0.0.1
port = ${gw.app.smppAddress!.port}
transceiver-mode = true
interface-version = 34
smsc-username = "kannel"
smsc-password = "kpass"
system-type = ""
reconnect-delay = 2
max-pending-submits = 10

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = ${box}
sendsms-port = ${sendsms}
sendsms-interface = 127.0.0.1
global-sender = 12345
log-file = "${dir}/smsbox.log"

group = sendsms-user
username = u
password = p
user-allow-ip = "127.0.0.1"
`,
  );
  children.push(spawn('/usr/sbin/bearerbox', ['-v', '1', conf], { stdio: 'ignore' }));
  await waitFor(
    async () => {
      const status = await fetch(`http://127.0.0.1:${admin}/status.txt?password=kstatus`).then(
        (r) => r.text(),
        () => '',
      );
      return /gw\s+\[gw\]|gw.*online/i.test(status) && status;
    },
    30_000,
    'Kannel bound to smsgw',
  );
  children.push(spawn('/usr/sbin/smsbox', ['-v', '1', conf], { stdio: 'ignore' }));
  const dlrUrl = `http://127.0.0.1:${dlrPort}/dlr?status=%d&to=%p&smsc_reply=%A`;
  const send = await waitFor(
    async () => {
      const res = await fetch(
        `http://127.0.0.1:${sendsms}/cgi-bin/sendsms?username=u&password=p&to=447700900001&text=${encodeURIComponent('Hello via Kannel')}&dlr-mask=3&dlr-url=${encodeURIComponent(dlrUrl)}`,
      ).catch(() => null);
      return res && res.status === 202 ? res : undefined;
    },
    30_000,
    'Kannel sendsms up',
  );
  assert.match(await send.text(), /Accepted for delivery/);

  const delivered = await waitFor(
    () => dlrs.find((d) => d.get('status') === '1'),
    30_000,
    'Kannel dlr-url called with status 1',
  );
  assert.equal(delivered.get('to'), '447700900001');
  assert.match(delivered.get('smsc_reply') ?? '', /stat:DELIVRD/);
  const list = await fetch(`${gw.base}/v1/messages`, {
    headers: { authorization: 'Bearer kannel-key-1' },
  }).then((r) => r.json() as Promise<{ data: Array<{ text: string; status: string; to: string }> }>);
  const m = list.data.find((x) => x.text === 'Hello via Kannel');
  assert.ok(m, 'stored under the Kannel account');
  assert.equal(m.status, 'delivered');
  assert.equal(m.to, '+447700900001');
  assert.ok(existsSync(join(dir, 'bearerbox.log')));
});
