// One GSM modem on a serial port: opened and set up (SIM PIN, PDU mode, new-message and
// status-report indications), watched (registration, signal, an answer to every command),
// and reset — closed, reopened, set up again — when it stops answering. It sends TPDUs with
// +CMGS and hands over what the network sends: messages stored on the SIM (+CMTI, then
// +CMGR; +CMGL at set-up), deleted only once the owner has kept them, and status reports.
import { EventEmitter } from 'node:events';
import type { SerialPort } from 'serialport';
import { Backoff } from '../net/index.ts';
import type { DecodedTpdu, SmsStatusReport } from '../sms/index.ts';
import { decodeTpdu } from '../sms/index.ts';
import { atFields, commandName } from './at.ts';
import { AtError, AtSession } from './session.ts';

export interface ModemOptions {
  path: string;
  baudRate: number;
  pin?: string;
  /** How long a command may go unanswered before the modem is taken for hung. */
  commandTimeoutMs?: number;
  /** The same for +CMGS, which waits for the network. */
  sendTimeoutMs?: number;
  /** How often registration and signal are read (which also checks that it answers). */
  pollMs?: number;
  /** Wait before opening again after a failure, doubling up to `max`. */
  reopen?: { minMs: number; maxMs: number };
}

export type ModemState = 'connecting' | 'ready' | 'down' | 'stopped';

/** What the modem's owner does with what arrives; the SIM copy is deleted once `handled` resolves. */
export interface ModemHandlers {
  message(tpdu: DecodedTpdu & { type: 'deliver' }, handled: () => Promise<void>): void;
  report(report: SmsStatusReport): void;
}

export interface ModemEvents {
  state: [state: ModemState];
  /** What went over the line, for a debug log; the PIN masked. */
  traffic: [direction: 'sent' | 'received', text: string];
}

/** Set-up failures that trying again cannot mend (a wrong PIN tried again locks the SIM). */
class FatalModemError extends Error {}

/** Silence after opening that says the modem has nothing left to say from before. */
const quietMs = 100;

const registeredStates = new Set(['1', '5']); // home network, roaming
const registrationWords: Record<string, string> = {
  '0': 'not registered, not searching',
  '2': 'not registered, searching',
  '3': 'registration denied',
  '4': 'registration unknown',
};

export class Modem extends EventEmitter<ModemEvents> {
  readonly path: string;
  #state: ModemState = 'connecting';
  /** Why it is not ready; null while it is. */
  lastError: string | null = null;
  /** The SIM's own number (+CNUM), or '' when the SIM does not know it. */
  number = '';
  /** +CSQ's RSSI (0..31, 99 unknown), null before it is read. */
  signal: number | null = null;

  readonly #options: Required<Omit<ModemOptions, 'pin'>> & { pin?: string };
  readonly #handlers: ModemHandlers;
  #port: SerialPort | null = null;
  #session: AtSession | null = null;
  #pollTimer: NodeJS.Timeout | null = null;
  #reopenTimer: NodeJS.Timeout | null = null;
  readonly #backoff: Backoff;
  /** SIM indexes being read or handed over, so a second +CMTI or listing does not take them twice. */
  readonly #taking = new Set<number>();
  #generation = 0;
  /** Why the SIM refused the PIN, once it has: the same PIN is not offered again. */
  #pinRefused: string | null = null;

  constructor(options: ModemOptions, handlers: ModemHandlers) {
    super();
    this.path = options.path;
    this.#options = {
      commandTimeoutMs: 10_000,
      sendTimeoutMs: 60_000,
      pollMs: 30_000,
      reopen: { minMs: 1_000, maxMs: 60_000 },
      ...options,
    };
    this.#backoff = new Backoff(this.#options.reopen);
    this.#handlers = handlers;
  }

  get state(): ModemState {
    return this.#state;
  }

  start(): void {
    if (this.#state === 'stopped') this.#state = 'connecting';
    void this.#open();
  }

  async stop(): Promise<void> {
    this.#generation++;
    this.#setState('stopped');
    this.#clearTimers();
    await this.#close();
  }

  /** +CMGS in PDU mode (no SCA: the SIM's is used); resolves with the TP-MR the modem gave. */
  async send(tpdu: Buffer): Promise<number> {
    const session = this.#session;
    if (this.#state !== 'ready' || session === null)
      throw new AtError('closed', null, `modem is ${this.#state}`);
    const lines = await session.commandWithPdu(
      `AT+CMGS=${tpdu.length}`,
      `00${tpdu.toString('hex').toUpperCase()}`,
      this.#options.sendTimeoutMs,
    );
    const answer = lines.find((l) => l.startsWith('+CMGS:'));
    const reference = answer === undefined ? Number.NaN : Number(atFields(answer.slice(6))[0]);
    if (!Number.isInteger(reference)) throw new AtError('error', null, `+CMGS answered without a reference`);
    return reference & 0xff;
  }

  // ---- opening and setting up ----

  async #open(): Promise<void> {
    const generation = ++this.#generation;
    this.#setState('connecting');
    // Loaded with the first modem: the serial port's native binding is for this connector only.
    const { SerialPort } = await import('serialport');
    const port = new SerialPort({ path: this.path, baudRate: this.#options.baudRate, autoOpen: false });
    const session = new AtSession((data) => {
      this.emit('traffic', 'sent', data.replace(/^(AT\+CPIN=)[^\r]*/i, '$1"****"'));
      port.write(data);
    });
    this.#port = port;
    this.#session = session;
    let settling = true;
    let heardAt = 0;
    port.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      this.emit('traffic', 'received', text);
      heardAt = Date.now();
      if (!settling) session.receive(text);
    });
    port.on('error', (err) => this.#fail(generation, err.message));
    port.on('close', () => this.#fail(generation, 'the serial port closed'));
    session.on('timeout', (command) => this.#fail(generation, `no answer to ${commandName(command)}: reset`));
    session.on('urc', (name, value, pdu) => this.#onUrc(generation, name, value, pdu));
    try {
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    } catch (err) {
      this.#fail(generation, (err as Error).message);
      return;
    }
    if (generation !== this.#generation) {
      // Stopped (or failed) while it opened: #close found it not open yet, so it closes here.
      await new Promise<void>((resolve) => port.close(() => resolve()));
      return;
    }
    // What the modem wrote while nobody listened (late answers to the commands of before a
    // reset) would be read as answers to the commands to come: let it drain, then drop it.
    heardAt = Date.now();
    for (let waited = 0; Date.now() - heardAt < quietMs && waited < 10 * quietMs; waited += quietMs / 4)
      await new Promise((resolve) => setTimeout(resolve, quietMs / 4));
    await new Promise<void>((resolve) => port.flush(() => resolve()));
    settling = false;
    try {
      await this.#setUp(session);
    } catch (err) {
      const fatal = err instanceof FatalModemError;
      this.#fail(generation, (err as Error).message, fatal);
      return;
    }
    if (generation !== this.#generation) return;
    this.#backoff.reset();
    this.#poll(generation);
    await this.#readStored(generation);
  }

  async #setUp(session: AtSession): Promise<void> {
    const t = this.#options.commandTimeoutMs;
    // ESC first: a modem left waiting for a PDU (by a process that died mid-send) takes it as
    // a cancel. No answer here resets it, as any command's silence does.
    // Quickly given up on: a modem (or emulator) not there yet is tried again soon.
    await session.command('\x1bAT', Math.min(t, 2_000));
    await session.command('ATE0', t);
    await session.command('AT+CMEE=1', t).catch(() => {});
    await this.#unlock(session);
    await session.command('AT+CMGF=0', t);
    // Messages read, written and received on the SIM, where +CMTI's index points; a modem
    // with no choice keeps its own.
    await session.command('AT+CPMS="SM","SM","SM"', t).catch(() => {});
    // New messages stored with +CMTI, status reports routed as +CDS; else stored with +CDSI.
    await session.command('AT+CNMI=2,1,0,1,0', t).catch(() => session.command('AT+CNMI=2,1,0,2,0', t));
    const cnum = await session.command('AT+CNUM', t).catch(() => []);
    const own = cnum.find((l) => l.startsWith('+CNUM:'));
    this.number = own ? (atFields(own.slice(6))[1] ?? '') : '';
    await this.#readStatus(session);
  }

  async #unlock(session: AtSession): Promise<void> {
    const t = this.#options.commandTimeoutMs;
    const answer = (await session.command('AT+CPIN?', t)).find((l) => l.startsWith('+CPIN:'));
    const state = answer?.slice(6).trim().replace(/"/g, '') ?? '';
    if (state === 'READY') return;
    if (answer === undefined) throw new Error('AT+CPIN? answered without +CPIN');
    if (state !== 'SIM PIN') throw new FatalModemError(`SIM not usable: ${state}`);
    const pin = this.#options.pin;
    if (pin === undefined) throw new FatalModemError('SIM PIN required: set pin');
    // Never tried twice, not even after a stop and start: three wrong PINs lock the SIM.
    if (this.#pinRefused !== null) throw new FatalModemError(this.#pinRefused);
    try {
      await session.command(`AT+CPIN="${pin}"`, t);
    } catch (err) {
      if (err instanceof AtError && err.kind !== 'timeout') {
        this.#pinRefused = `SIM PIN refused (${err.message.replace(/^[^:]*: /, '')}); not tried again until the gateway restarts`;
        throw new FatalModemError(this.#pinRefused);
      }
      throw err;
    }
  }

  /** Registration and signal; ready while registered. */
  async #readStatus(session: AtSession): Promise<void> {
    const t = this.#options.commandTimeoutMs;
    const creg = (await session.command('AT+CREG?', t)).find((l) => l.startsWith('+CREG:'));
    if (creg === undefined) throw new Error('AT+CREG? answered without +CREG');
    const fields = atFields(creg.slice(6));
    // `+CREG: <n>,<stat>`, or `<stat>` alone as an unsolicited code would be.
    const stat = fields.length >= 2 ? fields[1]! : (fields[0] ?? '');
    const csq = (await session.command('AT+CSQ', t).catch(() => [])).find((l) => l.startsWith('+CSQ:'));
    if (csq) this.signal = Number(atFields(csq.slice(5))[0]);
    if (registeredStates.has(stat)) {
      this.lastError = null;
      this.#setState('ready');
    } else {
      this.lastError = `network: ${registrationWords[stat] ?? `+CREG ${stat || 'unanswered'}`}`;
      this.#setState('down');
    }
  }

  #poll(generation: number): void {
    this.#pollTimer = setTimeout(async () => {
      this.#pollTimer = null;
      const session = this.#session;
      if (generation !== this.#generation || session === null) return;
      try {
        await this.#readStatus(session);
      } catch {
        // A timeout resets it (see #open); another error waits for the next poll.
      }
      if (generation === this.#generation) this.#poll(generation);
    }, this.#options.pollMs);
  }

  // ---- what the network sends ----

  #onUrc(generation: number, name: string, value: string, pdu: string | undefined): void {
    if (generation !== this.#generation) return;
    const fields = atFields(value);
    switch (name) {
      case '+CMTI':
      case '+CDSI': {
        const index = Number(fields[1]);
        if (Number.isInteger(index)) void this.#readOne(generation, index);
        return;
      }
      case '+CDS':
      case '+CMT': {
        const decoded = this.#decode(pdu, Number(fields.at(-1)));
        if (decoded?.type === 'status-report') this.#handlers.report(decoded);
        else if (decoded?.type === 'deliver') this.#handlers.message(decoded, async () => {});
        return;
      }
    }
  }

  async #readOne(generation: number, index: number): Promise<void> {
    const session = this.#session;
    if (session === null || this.#taking.has(index)) return;
    this.#taking.add(index);
    try {
      const lines = await session.command(`AT+CMGR=${index}`, this.#options.commandTimeoutMs);
      const header = lines.findIndex((l) => l.startsWith('+CMGR:'));
      if (header < 0) return;
      const length = Number(atFields(lines[header]!.slice(6)).at(-1));
      this.#take(generation, index, this.#decode(lines[header + 1], length));
    } catch {
      this.#taking.delete(index);
    }
  }

  /** Every message on the SIM, read or not: those that came while it was down or not yet deleted. */
  async #readStored(generation: number): Promise<void> {
    const session = this.#session;
    if (session === null) return;
    let lines: string[];
    try {
      lines = await session.command('AT+CMGL=4', this.#options.commandTimeoutMs);
    } catch {
      return;
    }
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i]!.startsWith('+CMGL:')) continue;
      const fields = atFields(lines[i]!.slice(6));
      const index = Number(fields[0]);
      if (!Number.isInteger(index) || this.#taking.has(index)) continue;
      this.#taking.add(index);
      this.#take(generation, index, this.#decode(lines[i + 1], Number(fields.at(-1))));
    }
  }

  /** Hands a stored message or report over; its SIM copy goes once the owner has it. */
  #take(generation: number, index: number, decoded: DecodedTpdu | null): void {
    const remove = async () => {
      const session = this.#session;
      if (generation === this.#generation && session !== null)
        await session.command(`AT+CMGD=${index}`, this.#options.commandTimeoutMs).catch(() => {});
      this.#taking.delete(index);
    };
    if (decoded?.type === 'deliver') this.#handlers.message(decoded, remove);
    else {
      if (decoded?.type === 'status-report') this.#handlers.report(decoded);
      // Reports are not kept; what cannot be read is deleted so it does not fill the SIM.
      void remove();
    }
  }

  #decode(pdu: string | undefined, length: number): DecodedTpdu | null {
    if (pdu === undefined || !/^([0-9A-Fa-f]{2})+$/.test(pdu)) return null;
    try {
      return decodeTpdu(Buffer.from(pdu, 'hex'), Number.isInteger(length) ? length : undefined);
    } catch {
      return null;
    }
  }

  // ---- failures ----

  /** Closes it and, unless stopped or `fatal`, opens it again after the back-off. */
  #fail(generation: number, reason: string, fatal = false): void {
    if (generation !== this.#generation || this.#state === 'stopped') return;
    this.#generation++;
    this.lastError = reason;
    this.#setState('down');
    this.#clearTimers();
    void this.#close().then(() => {
      if (fatal || this.#state === 'stopped') return;
      const wait = this.#backoff.next();
      this.#reopenTimer = setTimeout(() => {
        this.#reopenTimer = null;
        if (this.#state !== 'stopped') void this.#open();
      }, wait);
    });
  }

  async #close(): Promise<void> {
    const port = this.#port;
    this.#session?.close();
    this.#session = null;
    this.#port = null;
    this.#taking.clear();
    if (port === null || !port.isOpen) return;
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  #clearTimers(): void {
    if (this.#pollTimer !== null) clearTimeout(this.#pollTimer);
    if (this.#reopenTimer !== null) clearTimeout(this.#reopenTimer);
    this.#pollTimer = null;
    this.#reopenTimer = null;
  }

  #setState(state: ModemState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.emit('state', state);
  }
}
