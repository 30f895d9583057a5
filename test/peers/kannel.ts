// Kannel 1.4.5 as a peer: bearerbox with one SMPP client link (smsc group `link`) to an
// SMSC or a gateway's SMPP server, smsbox with sendsms for user u/p, and what else a test
// adds (sms-service groups). Resolves once the link is online and sendsms answers.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

export interface KannelPeer {
  /** Kannel's sendsms: http://127.0.0.1:PORT/cgi-bin/sendsms (user u, password p). */
  sendsmsUrl: string;
  stop(): void;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Kannel: ${what} within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startKannel(options: {
  dir: string;
  smppPort: number;
  systemId: string;
  password: string;
  /** More configuration groups (sms-service...). */
  extra?: string;
}): Promise<KannelPeer> {
  const [admin, box, sendsms] = [await freePort(), await freePort(), await freePort()];
  const dir = options.dir;
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
smsc-id = link
host = 127.0.0.1
port = ${options.smppPort}
transceiver-mode = true
interface-version = 34
smsc-username = "${options.systemId}"
smsc-password = "${options.password}"
system-type = ""
reconnect-delay = 2
max-pending-submits = 10

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = ${box}
sendsms-port = ${sendsms}
sendsms-interface = 127.0.0.1
log-file = "${dir}/smsbox.log"

group = sendsms-user
username = u
password = p
user-allow-ip = "127.0.0.1"
# Long texts go in concatenated parts (the default, 1, cuts them to one SMS).
max-messages = 10
concatenation = true
${options.extra ?? ''}`,
  );
  const children: ChildProcess[] = [];
  const stop = () => {
    for (const c of children) c.kill('SIGKILL');
  };
  try {
    children.push(spawn('/usr/sbin/bearerbox', ['-v', '1', conf], { stdio: 'ignore' }));
    await until('the SMPP link online', 30_000, async () => {
      const status = await fetch(`http://127.0.0.1:${admin}/status.txt?password=kstatus`).then(
        (r) => r.text(),
        () => '',
      );
      return /\blink\b.*\(online/i.test(status);
    });
    children.push(spawn('/usr/sbin/smsbox', ['-v', '1', conf], { stdio: 'ignore' }));
    const sendsmsUrl = `http://127.0.0.1:${sendsms}/cgi-bin/sendsms`;
    // Up once it answers (403 for no credentials is an answer).
    await until('sendsms answering', 30_000, () =>
      fetch(sendsmsUrl).then(
        () => true,
        () => false,
      ),
    );
    return { sendsmsUrl, stop };
  } catch (err) {
    stop();
    throw err;
  }
}
