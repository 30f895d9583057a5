// A GSM modem emulator on a serial port (or one end of a pseudo-terminal pair): it answers
// the AT dialect of common modems (verbose results, +CMEE numeric errors, PDU mode), keeps
// a SIM store of received messages, and sends +CDS status reports when asked. It can be told
// to misbehave: answer late, refuse +CMGS with a +CMS ERROR, or stop answering at all.
//
// The SMS-SUBMIT it receives is read here by code of its own — not by src/sms's TPDU codec —
// so that the gateway's encoder is checked by an independent reading; a PDU it cannot read is
// refused with +CMS ERROR: 304, as a modem refuses an invalid PDU mode parameter.
import { EventEmitter } from 'node:events';
import type { SerialPort } from 'serialport';
import { decodeText, encodeGsm7, splitMessage } from '../sms/index.ts';
import { SimulatorTimers } from './timers.ts';

export interface ModemEmulatorOptions {
  path: string;
  baudRate?: number;
  /** The SIM asks for this PIN before SMS commands work. */
  pin?: string;
  /** The SIM's own number, as +CNUM gives it. */
  number?: string;
  /** Wait before each answer. */
  responseDelayMs?: number;
  /** Time from an accepted +CMGS to its +CDS. */
  reportDelayMs?: number;
  /** TP-ST of the status reports (0: received by the recipient). */
  reportStatus?: number;
}

/** A message the emulator took with +CMGS, as it read it. */
export interface EmulatedSubmit {
  reference: number;
  to: string;
  dcs: number;
  statusReport: boolean;
  /** The concatenation header's reference, total and sequence, when there was one. */
  concat: { reference: number; total: number; sequence: number } | null;
  text: string;
}

export interface ModemEmulatorStats {
  /** SMS-SUBMITs accepted by +CMGS. */
  sent: number;
  /** Messages injected (by /inbound or injectInbound), whatever their parts. */
  received: number;
  /** +CDS status reports sent. */
  reports: number;
}

export interface ModemEmulatorEvents {
  command: [command: string];
}

interface Stored {
  /** 0 received unread, 1 received read (TS 27.005 <stat>). */
  stat: number;
  hex: string;
  /** TPDU octets, the <length> of +CMGR / +CMGL (the SCA is not counted). */
  length: number;
}

const SCA = '07911326040000F0'; // a service centre address put before stored PDUs, as modems do
const ESC = '\x1b';

export class ModemEmulator extends EventEmitter<ModemEmulatorEvents> {
  readonly stats: ModemEmulatorStats = { sent: 0, received: 0, reports: 0 };
  readonly submits: EmulatedSubmit[] = [];
  /** The SMS-DELIVER TPDUs (hex) of the last injected message, one per part. */
  injected: string[] = [];
  /** While true, everything written to it is ignored: a hung modem. */
  hung = false;
  /** When set, every +CMGS is answered +CMS ERROR: this. */
  failSends: number | null = null;
  responseDelayMs: number;

  readonly #options: ModemEmulatorOptions;
  #port: SerialPort | null = null;
  #input = '';
  /** Set between AT+CMGS=<n> and the PDU's Ctrl-Z. */
  #pduLength: number | null = null;
  #echo = true;
  #pinOk: boolean;
  #pinTries = 0;
  #newMessages = 1; // +CNMI <mt>
  #reportsTo = 0; // +CNMI <ds>
  #mr = 0;
  readonly #store = new Map<number, Stored>();
  readonly #timers = new SimulatorTimers();
  #chain: Promise<void> = Promise.resolve();

  constructor(options: ModemEmulatorOptions) {
    super();
    this.#options = options;
    this.#pinOk = options.pin === undefined;
    this.responseDelayMs = options.responseDelayMs ?? 0;
  }

  /** Messages and reports on its SIM. */
  get stored(): number {
    return this.#store.size;
  }

  async open(): Promise<void> {
    const { SerialPort } = await import('serialport');
    const port = new SerialPort({
      path: this.#options.path,
      baudRate: this.#options.baudRate ?? 115_200,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    // Like a modem switched on: what was written to the line before is not heard.
    await new Promise<void>((resolve) => port.flush(() => resolve()));
    port.on('data', (chunk: Buffer) => this.#receive(chunk.toString('latin1')));
    port.on('error', () => {});
    this.#port = port;
  }

  async close(): Promise<void> {
    this.#timers.clear();
    const port = this.#port;
    this.#port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  /**
   * An inbound message from `from` to this modem's SIM: split into parts (GSM 7-bit or UCS-2,
   * a concatenation header when long), each stored and announced with +CMTI. Returns the parts.
   */
  injectInbound(message: { from: string; text: string }): number {
    const split = splitMessage(message.text, { mode: 'udh', maxParts: 255 });
    this.injected = split.parts.map((part) =>
      deliverPdu(message.from, split.encoding === 'ucs2' ? 0x08 : 0x00, part.udh ?? null, part.payload),
    );
    for (const hex of this.injected) this.injectTpdu(hex);
    this.stats.received++;
    return split.parts.length;
  }

  /** Writes `text` as it is: a late answer, line noise. */
  writeRaw(text: string): void {
    this.#write(text);
  }

  /** One SMS-DELIVER (hex) as the network would deliver it: stored and announced. */
  injectTpdu(hex: string): void {
    const index = this.#free();
    this.#store.set(index, { stat: 0, hex: `${SCA}${hex}`, length: hex.length / 2 });
    if (this.#newMessages === 2) this.#unsolicited(`+CMT: ,${hex.length / 2}\r\n${SCA}${hex}`);
    else if (this.#newMessages !== 0) this.#unsolicited(`+CMTI: "SM",${index}`);
  }

  #free(): number {
    let index = 1;
    while (this.#store.has(index)) index++;
    return index;
  }

  #receive(text: string): void {
    if (this.hung) return;
    this.#input += text;
    for (;;) {
      if (this.#pduLength !== null) {
        const end = this.#input.search(/[\x1a\x1b]/);
        if (end < 0) return;
        const pdu = this.#input.slice(0, end).trim();
        const cancelled = this.#input[end] === ESC;
        this.#input = this.#input.slice(end + 1);
        const length = this.#pduLength;
        this.#pduLength = null;
        if (!cancelled) this.#answerLater(() => this.#submit(pdu, length));
        continue;
      }
      const end = this.#input.indexOf('\r');
      if (end < 0) return;
      const line = this.#input
        .slice(0, end)
        .replace(/^[\n\x1b]+/, '')
        .trim();
      this.#input = this.#input.slice(end + 1);
      if (line === '') continue;
      if (this.#echo) this.#write(`${line}\r`);
      this.emit('command', line);
      const prompt = /^AT\+CMGS=(\d+)$/i.exec(line);
      if (prompt) {
        // The prompt comes at once; the PDU that follows is answered after it.
        if (!this.#pinOk) this.#answerLater(() => '+CMS ERROR: 311');
        else {
          this.#pduLength = Number(prompt[1]);
          this.#write('\r\n> ');
        }
        continue;
      }
      this.#answerLater(() => this.#command(line));
    }
  }

  /** Answers in order, each after the response delay; nothing while hung. */
  #answerLater(answer: () => string): void {
    this.#chain = this.#chain.then(async () => {
      if (this.responseDelayMs > 0) await new Promise((r) => setTimeout(r, this.responseDelayMs));
      if (this.hung) return;
      this.#write(`\r\n${answer()}\r\n`);
    });
  }

  #unsolicited(text: string): void {
    this.#chain = this.#chain.then(() => {
      if (!this.hung) this.#write(`\r\n${text}\r\n`);
    });
  }

  #write(text: string): void {
    this.#port?.write(Buffer.from(text, 'latin1'));
  }

  /** The answer to one command line: its lines, then the final result code. */
  #command(line: string): string {
    const upper = line.toUpperCase();
    if (upper === 'AT') return 'OK';
    if (/^ATE[01]$/.test(upper)) {
      this.#echo = upper === 'ATE1';
      return 'OK';
    }
    if (/^AT(I|\+CGMI|\+GMI)$/.test(upper)) return 'smsgw\r\nOK';
    if (/^AT\+CGMM$/.test(upper)) return 'smsgw modem emulator\r\nOK';
    if (/^AT\+CGSN$/.test(upper)) return '356938035643809\r\nOK';
    if (/^AT\+CMEE=[012]$/.test(upper)) return 'OK';
    if (upper === 'AT+CPIN?') {
      if (this.#pinOk) return '+CPIN: READY\r\nOK';
      return this.#pinTries >= 3 ? '+CPIN: SIM PUK\r\nOK' : '+CPIN: SIM PIN\r\nOK';
    }
    const pin = /^AT\+CPIN="?(\d+)"?$/.exec(upper);
    if (pin) {
      if (this.#pinOk) return 'OK';
      if (this.#pinTries >= 3) return '+CME ERROR: 12'; // SIM PUK required
      if (pin[1] === this.#options.pin) {
        this.#pinOk = true;
        return 'OK';
      }
      this.#pinTries++;
      return '+CME ERROR: 16'; // incorrect password
    }
    if (upper === 'AT+CREG?') return '+CREG: 0,1\r\nOK';
    if (upper === 'AT+CSQ') return '+CSQ: 21,99\r\nOK';
    if (!this.#pinOk && /^AT\+C(MG|NM|NU|SCA|PMS)/.test(upper)) return '+CMS ERROR: 311';
    if (upper === 'AT+CMGF=0' || upper === 'AT+CMGF?') return upper.endsWith('?') ? '+CMGF: 0\r\nOK' : 'OK';
    if (upper === 'AT+CMGF=1') return '+CMS ERROR: 303'; // text mode is not emulated
    const cnmi = /^AT\+CNMI=(\d)?(?:,(\d)?)?(?:,(\d)?)?(?:,(\d)?)?(?:,(\d)?)?$/.exec(upper);
    if (cnmi) {
      this.#newMessages = Number(cnmi[2] ?? this.#newMessages);
      this.#reportsTo = Number(cnmi[4] ?? this.#reportsTo);
      return 'OK';
    }
    if (/^AT\+CPMS=("SM",?){1,3}$/.test(upper))
      return `+CPMS: ${this.#store.size},30,${this.#store.size},30,${this.#store.size},30\r\nOK`;
    if (upper === 'AT+CNUM') {
      const number = this.#options.number ?? '';
      return `+CNUM: "","${number}",${number.startsWith('+') ? 145 : 129}\r\nOK`;
    }
    const read = /^AT\+CMGR=(\d+)$/.exec(upper);
    if (read) {
      const stored = this.#store.get(Number(read[1]));
      if (!stored) return '+CMS ERROR: 321'; // invalid memory index
      const answer = `+CMGR: ${stored.stat},,${stored.length}\r\n${stored.hex}\r\nOK`;
      stored.stat = 1;
      return answer;
    }
    const list = /^AT\+CMGL(?:=(\d))?$/.exec(upper);
    if (list) {
      const which = Number(list[1] ?? 0);
      const lines: string[] = [];
      for (const [index, stored] of [...this.#store].sort((a, b) => a[0] - b[0])) {
        if (which !== 4 && stored.stat !== which) continue;
        lines.push(`+CMGL: ${index},${stored.stat},,${stored.length}`, stored.hex);
        stored.stat = 1;
      }
      return [...lines, 'OK'].join('\r\n');
    }
    const del = /^AT\+CMGD=(\d+)(?:,(\d))?$/.exec(upper);
    if (del) {
      if (del[2] === '4') this.#store.clear();
      else if (!this.#store.delete(Number(del[1]))) return '+CMS ERROR: 321';
      return 'OK';
    }
    return 'ERROR';
  }

  /** The PDU after the prompt: read, checked against <length>, accepted or refused. */
  #submit(pdu: string, length: number): string {
    if (this.failSends !== null) return `+CMS ERROR: ${this.failSends}`;
    const submit = readSubmit(pdu, length);
    if (submit === null) return '+CMS ERROR: 304';
    this.#mr = (this.#mr + 1) & 0xff;
    const reference = this.#mr;
    this.submits.push({ ...submit, reference });
    this.stats.sent++;
    if (submit.statusReport && this.#reportsTo !== 0) {
      this.#timers.after(this.#options.reportDelayMs ?? 100, () => this.#report(reference, submit.to));
    }
    return `+CMGS: ${reference}\r\nOK`;
  }

  #report(reference: number, to: string): void {
    const now = stamp(new Date());
    const hex =
      hexOf([0x06, reference]) + addressHex(to) + now + now + hexOf([this.#options.reportStatus ?? 0]);
    this.stats.reports++;
    if (this.#reportsTo === 1) {
      this.#unsolicited(`+CDS: ${hex.length / 2}\r\n${hex}`);
      return;
    }
    const index = this.#free();
    this.#store.set(index, { stat: 0, hex: `${SCA}${hex}`, length: hex.length / 2 });
    this.#unsolicited(`+CDSI: "SM",${index}`);
  }
}

// ---- reading an SMS-SUBMIT, independently of src/sms/tpdu.ts ----

/** The SMS-SUBMIT in `pdu` (hex, SCA first), or null when it is not a well-formed one. */
export function readSubmit(pdu: string, length: number): Omit<EmulatedSubmit, 'reference'> | null {
  if (!/^([0-9A-Fa-f]{2})+$/.test(pdu)) return null;
  const octets = [...Buffer.from(pdu, 'hex')];
  const scaLength = octets[0]!;
  const tpdu = octets.slice(1 + scaLength);
  if (tpdu.length !== length) return null;
  let at = 0;
  const next = (): number => {
    if (at >= tpdu.length) throw new RangeError('short');
    return tpdu[at++]!;
  };
  try {
    const first = next();
    if ((first & 3) !== 1) return null;
    next(); // TP-MR: the modem's own is used
    const digits = next();
    const toa = next();
    let to = '';
    for (let i = 0; i < Math.ceil(digits / 2); i++) {
      const o = next();
      to += `${o & 15}${o >> 4}`;
    }
    to = to.slice(0, digits);
    if (!/^\d+$/.test(to)) return null;
    if (toa === 0x91) to = `+${to}`;
    next(); // TP-PID
    const dcs = next();
    const vpf = (first >> 3) & 3;
    at += vpf === 2 ? 1 : vpf === 0 ? 0 : 7;
    const udl = next();
    const rest = tpdu.slice(at);
    const sevenBit = (dcs & 0xcc) === 0 || (dcs & 0xf4) === 0xf0;
    const ucs2 = !sevenBit && (dcs & 0x0c) === 0x08;
    if (rest.length !== (sevenBit ? Math.ceil((udl * 7) / 8) : udl)) return null;
    // A bit string, least significant bit of each octet first: the septets are its 7-bit slices.
    const bits = rest.map((o) => o.toString(2).padStart(8, '0').split('').reverse().join('')).join('');
    let headerOctets = 0;
    let concat: EmulatedSubmit['concat'] = null;
    if (first & 0x40) {
      headerOctets = rest[0]! + 1;
      if (headerOctets > rest.length) return null;
      for (let i = 1; i < headerOctets; i += 2 + rest[i + 1]!) {
        if (i + 1 >= headerOctets || i + 2 + rest[i + 1]! > headerOctets) return null;
        if (rest[i] === 0 && rest[i + 1] === 3)
          concat = { reference: rest[i + 2]!, total: rest[i + 3]!, sequence: rest[i + 4]! };
      }
    }
    let text: string;
    if (sevenBit) {
      const skip = Math.ceil((headerOctets * 8) / 7);
      const septets: number[] = [];
      for (let i = skip; i < udl; i++) septets.push(lsbFirst(bits.slice(i * 7, i * 7 + 7)));
      text = decodeText(Uint8Array.from(septets), 'gsm7');
    } else {
      const body = Uint8Array.from(rest.slice(headerOctets));
      if (ucs2 && body.length % 2 !== 0) return null;
      text = decodeText(body, ucs2 ? 'ucs2' : 'binary');
    }
    return { to, dcs, statusReport: (first & 0x20) !== 0, concat, text };
  } catch {
    return null;
  }
}

/** A value from its bits written least significant first. */
function lsbFirst(bits: string): number {
  return Number.parseInt(bits.split('').reverse().join(''), 2);
}

// ---- writing what the network sends ----

/** Septets packed least significant bit first, after `skip` zero septets. */
function packed(septets: Iterable<number>, skip = 0): number[] {
  let bits = '0'.repeat(skip * 7);
  for (const septet of septets) bits += septet.toString(2).padStart(7, '0').split('').reverse().join('');
  const octets: number[] = [];
  for (let i = 0; i < bits.length; i += 8) {
    const octet = bits
      .slice(i, i + 8)
      .padEnd(8, '0')
      .split('')
      .reverse()
      .join('');
    octets.push(Number.parseInt(octet, 2));
  }
  return octets;
}

/** An SMS-DELIVER (TS 23.040 9.2.2.1) from `from` with this user data, as hex. */
function deliverPdu(from: string, dcs: number, udh: Buffer | null, payload: Buffer): string {
  let ud: number[];
  let udl: number;
  if (dcs === 0) {
    // The header, then the septets from the first septet boundary after it.
    const headerSeptets = udh ? Math.ceil((udh.length * 8) / 7) : 0;
    ud = packed(payload, headerSeptets);
    if (udh) ud.splice(0, udh.length, ...udh);
    udl = headerSeptets + payload.length;
  } else {
    ud = [...(udh ?? []), ...payload];
    udl = ud.length;
  }
  const first = 0x04 | (udh ? 0x40 : 0); // no more messages; UDHI
  return hexOf([first]) + addressHex(from) + hexOf([0, dcs]) + stamp(new Date()) + hexOf([udl, ...ud]);
}

/** A number in swapped semi-octets, or a name (TON alphanumeric, GSM 7-bit packed). */
function addressHex(from: string): string {
  if (!/^\+?\d+$/.test(from)) {
    const septets = encodeGsm7(from);
    return hexOf([Math.ceil((septets.length * 7) / 4), 0xd0, ...packed(septets)]);
  }
  const digits = from.replace(/^\+/, '');
  let swapped = '';
  for (let i = 0; i < digits.length; i += 2) swapped += (digits[i + 1] ?? 'F') + digits[i];
  return hexOf([digits.length, from.startsWith('+') ? 0x91 : 0x81]) + swapped;
}

/** A service centre time stamp for `date` in UTC (zone 00). */
function stamp(date: Date): string {
  const parts = [
    date.getUTCFullYear() % 100,
    date.getUTCMonth() + 1,
    date.getUTCDate(),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
    0,
  ];
  return parts.map((n) => String(n).padStart(2, '0').split('').reverse().join('')).join('');
}

function hexOf(octets: number[]): string {
  return Buffer.from(octets).toString('hex').toUpperCase();
}
