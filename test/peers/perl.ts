// Drives the Net::SMPP peers, perl-esme.pl and perl-smsc.pl: spawns the script, sends it
// JSON-line commands, matches answers to commands by id, and collects the events it
// prints. A peer is stopped when its test ends (`t.after`), and killed if it will not
// quit; anything still running when the process exits is killed too.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';

/** A PDU as Net::SMPP decoded it: its field names, TLVs by name in hex, short_message in hex. */
export interface PerlPdu {
  command: string;
  command_id: number;
  command_status: number;
  sequence_number: number;
  /** TLVs by Net::SMPP's name (or numeric tag when it has none), value in hex. */
  tlvs: Record<string, string>;
  short_message_hex?: string;
  /** The UDH (esm_class 0x40), in hex, length octet included. */
  udh_hex?: string;
  /** short_message after the UDH, decoded by Perl's Encode from data_coding (0, 1, 3, 8). */
  text?: string;
  [field: string]: unknown;
}

/** Fields of a submit_sm or deliver_sm, by Net::SMPP's names. */
export interface PerlSmFields {
  service_type?: string;
  source_addr_ton?: number;
  source_addr_npi?: number;
  source_addr?: string;
  dest_addr_ton?: number;
  dest_addr_npi?: number;
  destination_addr: string;
  esm_class?: number;
  protocol_id?: number;
  registered_delivery?: number;
  data_coding?: number;
  /** Encoded by Perl's Encode in the alphabet of data_coding. */
  text?: string;
  short_message_hex?: string;
  /** Put before the message, in hex, length octet included. */
  udh_hex?: string;
  /** [name, value in hex], in order; values go out as they are. */
  tlvs?: Array<[string, string]>;
}

export interface PerlEvent {
  event: string;
  conn?: number;
  pdu?: PerlPdu;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

class PerlPeer {
  readonly events: PerlEvent[] = [];
  stderr = '';
  readonly #child: ChildProcess;
  readonly #pending = new Map<
    number,
    { resolve: (answer: Record<string, unknown>) => void; reject: (err: Error) => void }
  >();
  #nextId = 1;
  #exited = false;
  #wake: Array<() => void> = [];

  constructor(t: TestContext, script: string) {
    const child = spawn('perl', [new URL(script, import.meta.url).pathname], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#child = child;
    running.add(child);
    // A peer that died is reported by 'exit'; writing to it must not throw as well.
    child.stdin!.on('error', () => {});
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    createInterface({ input: child.stdout! }).on('line', (line) => this.#onLine(line));
    child.once('exit', () => {
      this.#exited = true;
      running.delete(child);
      const err = new Error(`${script} exited; stderr: ${this.stderr}`);
      for (const pending of this.#pending.values()) pending.reject(err);
      this.#pending.clear();
      this.#notify();
    });
    t.after(() => this.stop());
  }

  /** Sends a command and resolves with its answer; rejects with the peer's error. */
  command<T = Record<string, unknown>>(cmd: string, args: object = {}): Promise<T> {
    if (this.#exited) return Promise.reject(new Error(`perl peer exited; stderr: ${this.stderr}`));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (answer: Record<string, unknown>) => void, reject });
      this.#child.stdin!.write(`${JSON.stringify({ ...args, id, cmd })}\n`);
    });
  }

  /** Resolves with the first event (received so far or later) that `match` accepts. */
  async waitEvent(match: (event: PerlEvent) => boolean, timeoutMs = 5_000): Promise<PerlEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0 || this.#exited) {
        const seen = this.events.map((e) => e.pdu?.command ?? e.event).join(', ');
        throw new Error(`no matching event from the perl peer (seen: ${seen}); stderr: ${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Asks the script to quit; kills it when it does not within a second. */
  async stop(): Promise<void> {
    if (this.#exited) return;
    const exited = once(this.#child, 'exit');
    this.command('quit').catch(() => {});
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 1_000);
    await exited;
    clearTimeout(timer);
  }

  #onLine(line: string): void {
    const message = JSON.parse(line) as Record<string, unknown>;
    if (typeof message.id === 'number') {
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.ok) pending?.resolve(message);
      else pending?.reject(new Error(`perl peer: ${String(message.error)}`));
      return;
    }
    this.events.push(message as unknown as PerlEvent);
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = [];
    for (const f of wake) f();
  }
}

export interface PerlBindOptions {
  host?: string;
  port: number;
  mode?: 'transceiver' | 'transmitter' | 'receiver';
  system_id: string;
  password: string;
  system_type?: string;
  interface_version?: number;
  /** command_status the ESME answers deliver_sm with (default 0). */
  deliver_status?: number;
}

/** An ESME on Net::SMPP: one connection, commands answered with the response PDU. */
export class PerlEsme extends PerlPeer {
  constructor(t: TestContext) {
    super(t, './perl-esme.pl');
  }

  async #pdu(cmd: string, args: object = {}): Promise<PerlPdu> {
    return (await this.command<{ pdu: PerlPdu }>(cmd, args)).pdu;
  }

  /** Connects and binds; resolves with the bind response, whatever its status. */
  bind(options: PerlBindOptions): Promise<PerlPdu> {
    return this.#pdu('bind', { host: '127.0.0.1', ...options });
  }

  submit(fields: PerlSmFields): Promise<PerlPdu> {
    return this.#pdu('submit', fields);
  }

  query(fields: {
    message_id: string;
    source_addr_ton?: number;
    source_addr_npi?: number;
    source_addr?: string;
  }) {
    return this.#pdu('query', fields);
  }

  enquireLink(): Promise<PerlPdu> {
    return this.#pdu('enquire_link');
  }

  /** Unbinds, waits for unbind_resp, and closes the connection. */
  unbind(): Promise<PerlPdu> {
    return this.#pdu('unbind');
  }

  /** The next inbound request (already answered by the peer), of `command` if given. */
  read(command?: string, timeoutMs = 5_000): Promise<PerlPdu> {
    return this.#pdu('read', { command, timeout_ms: timeoutMs });
  }
}

export interface PerlSmscOptions {
  /** Accepted credentials; with none, any bind succeeds. */
  accounts?: Array<{ system_id: string; password: string }>;
  system_id?: string;
  id_format?: 'decimal' | 'hex';
  first_id?: number;
  /** Send a DELIVRD receipt right after the submit_sm_resp when registered_delivery asks. */
  auto_receipt?: boolean;
}

export interface PerlReceipt {
  message_id: string;
  stat?: string;
  err?: string;
  conn?: number;
  /** The receipt's TLVs: receipted_message_id NUL-terminated (default), without NUL, or none. */
  receipt_tlvs?: 'nul' | 'bare' | 'none';
}

/** An SMSC on Net::SMPP: answers binds and requests itself and reports every PDU it reads. */
export class PerlSmsc extends PerlPeer {
  port = 0;

  static async start(t: TestContext, options: PerlSmscOptions = {}): Promise<PerlSmsc> {
    const smsc = new PerlSmsc(t, './perl-smsc.pl');
    smsc.port = (await smsc.command<{ port: number }>('listen', options)).port;
    return smsc;
  }

  /** Sends a deliver_sm (MO, or a hand-made receipt) to `conn` or the last receiver bound. */
  deliver(fields: PerlSmFields & { conn?: number }): Promise<{ conn: number; seq: number }> {
    return this.command('deliver', fields);
  }

  /** Sends the delivery receipt of a message it accepted. */
  receipt(receipt: PerlReceipt): Promise<{ conn: number; seq: number; text: string }> {
    return this.command('receipt', receipt);
  }

  enquireLink(conn?: number): Promise<{ conn: number; seq: number }> {
    return this.command('enquire_link', { conn });
  }

  unbind(conn?: number): Promise<{ conn: number; seq: number }> {
    return this.command('unbind', { conn });
  }

  /** Resolves with the first PDU it read (so far or later) of `command`, optionally matching `also`. */
  async waitPdu(
    command: string,
    also: (pdu: PerlPdu, conn: number) => boolean = () => true,
    timeoutMs = 5_000,
  ) {
    const event = await this.waitEvent(
      (e) => e.event === 'pdu' && e.pdu!.command === command && also(e.pdu!, e.conn!),
      timeoutMs,
    );
    return { conn: event.conn!, pdu: event.pdu! };
  }

  /**
   * The first `count` PDUs of `command` it read, once it has read that many. The peer
   * reports a PDU before answering it, but on another channel (stdout), so a test that has
   * the answer may not have the report yet.
   */
  async waitPdus(command: string, count: number, timeoutMs = 5_000): Promise<PerlPdu[]> {
    const matching = () => this.events.filter((e) => e.event === 'pdu' && e.pdu!.command === command);
    await this.waitEvent(() => matching().length >= count, timeoutMs);
    return matching()
      .slice(0, count)
      .map((e) => e.pdu!);
  }
}
