// Kannel 1.4.5 as a peer: bearerbox with the smsc groups a test gives (an SMPP client link to
// an SMSC or a gateway's SMPP server, or Kannel's own EMI/CIMD2 drivers), smsbox with
// sendsms for user u/p, and what else a test adds (sms-service groups). Resolves once every
// link is online and sendsms answers. The bench writes its configuration with kannelConf;
// kannelCallbacks records what Kannel calls (dlr-url, get-url).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { freePort } from './ports.ts';

export interface KannelPeer {
  /** Kannel's sendsms: http://127.0.0.1:PORT/cgi-bin/sendsms (user u, password p). */
  sendsmsUrl: string;
  /** The end of bearerbox's log, for failure messages. */
  log(): string;
  stop(): void;
}

/** An smsc group: an SMPP transceiver link `id` to 127.0.0.1:port. */
export function smppLink(options: {
  id: string;
  port: number;
  systemId: string;
  password: string;
  /** max-pending-submits. */
  window?: number;
}): string {
  return `group = smsc
smsc = smpp
smsc-id = ${options.id}
host = 127.0.0.1
port = ${options.port}
transceiver-mode = true
interface-version = 34
smsc-username = "${options.systemId}"
smsc-password = "${options.password}"
system-type = ""
reconnect-delay = 2
max-pending-submits = ${options.window ?? 10}
`;
}

/**
 * kannel.conf: core (admin on `admin`, smsbox on `box`), the smsc groups, smsbox with sendsms
 * on `sendsms` (sender 12345 where a request names none), user u/p, then `extra`.
 */
export function kannelConf(options: {
  dir: string;
  ports: { admin: number; box: number; sendsms: number };
  /** The smsc groups. */
  smsc: string;
  /** Kannel's log-level for both boxes; its default (0, debug) when not given. */
  logLevel?: number;
  /** The spool store (default true). */
  store?: boolean;
  /** More configuration groups (sms-service...). */
  extra?: string;
}): string {
  const { dir, ports } = options;
  const logLevel = options.logLevel === undefined ? '' : `log-level = ${options.logLevel}\n`;
  const store = (options.store ?? true) ? `store-type = spool\nstore-location = "${dir}/store"\n` : '';
  return `group = core
admin-port = ${ports.admin}
admin-interface = 127.0.0.1
admin-password = kadmin
status-password = kstatus
admin-allow-ip = "127.0.0.1"
smsbox-port = ${ports.box}
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "${dir}/bearerbox.log"
${logLevel}${store}dlr-storage = internal

${options.smsc}
group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = ${ports.box}
sendsms-port = ${ports.sendsms}
sendsms-interface = 127.0.0.1
global-sender = 12345
log-file = "${dir}/smsbox.log"
${logLevel}
group = sendsms-user
username = u
password = p
user-allow-ip = "127.0.0.1"
# Long texts go in concatenated parts (the default, 1, cuts them to one SMS).
max-messages = 10
concatenation = true
${options.extra ?? ''}`;
}

/** Bearerbox's status page: how many of its smsc links are online. */
export async function linksOnline(adminPort: number): Promise<number> {
  const status = await fetch(`http://127.0.0.1:${adminPort}/status.txt?password=kstatus`).then(
    (r) => r.text(),
    () => '',
  );
  return status.match(/\(online /g)?.length ?? 0;
}

export async function startKannel(options: {
  dir: string;
  /** The smsc groups (smppLink for an SMPP one). */
  smsc: string;
  /** More configuration groups (sms-service...). */
  extra?: string;
}): Promise<KannelPeer> {
  const [admin, box, sendsms] = [await freePort(), await freePort(), await freePort()];
  const dir = options.dir;
  mkdirSync(join(dir, 'store'), { recursive: true });
  const conf = join(dir, 'kannel.conf');
  writeFileSync(
    conf,
    kannelConf({ dir, ports: { admin, box, sendsms }, smsc: options.smsc, extra: options.extra }),
  );
  const log = () => {
    try {
      return readFileSync(join(dir, 'bearerbox.log'), 'utf8').slice(-3000);
    } catch {
      return '(no log)';
    }
  };
  const until = async (what: string, ms: number, check: () => Promise<boolean>) => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`Kannel: ${what} within ${ms / 1000} s\n${log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const children: ChildProcess[] = [];
  const stop = () => {
    for (const c of children) c.kill('SIGKILL');
  };
  try {
    children.push(spawn('/usr/sbin/bearerbox', ['-v', '1', conf], { stdio: 'ignore' }));
    const links = options.smsc.match(/^group = smsc$/gm)?.length ?? 0;
    await until('every link online', 30_000, async () => (await linksOnline(admin)) >= links);
    children.push(spawn('/usr/sbin/smsbox', ['-v', '1', conf], { stdio: 'ignore' }));
    const sendsmsUrl = `http://127.0.0.1:${sendsms}/cgi-bin/sendsms`;
    // Up once it answers (403 for no credentials is an answer).
    await until('sendsms answering', 30_000, () =>
      fetch(sendsmsUrl).then(
        () => true,
        () => false,
      ),
    );
    return { sendsmsUrl, log, stop };
  } catch (err) {
    stop();
    throw err;
  }
}

/** An HTTP server for Kannel's dlr-url and get-url: every URL it was called with, in order. */
export async function kannelCallbacks(): Promise<{ port: number; calls: URL[]; close(): Promise<void> }> {
  const calls: URL[] = [];
  const server = http.createServer((req, res) => {
    calls.push(new URL(req.url!, 'http://kannel'));
    res.end('');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    calls,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
