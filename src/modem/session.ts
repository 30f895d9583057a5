// One conversation with a modem: commands written one at a time, each answered by its lines
// and a final result code, a PDU written after the `> ` prompt, and unsolicited result codes
// handed on as they come. The transport is whatever calls `receive` and takes `write`.
import { EventEmitter } from 'node:events';
import type { FinalResult } from './at.ts';
import { AtReader, commandName } from './at.ts';

/** A command that ended in ERROR, +CME ERROR or +CMS ERROR, or got no answer in time. */
export class AtError extends Error {
  readonly kind: 'error' | 'cme' | 'cms' | 'no-carrier' | 'timeout' | 'closed';
  /** The number of +CME ERROR / +CMS ERROR, when the modem gave one. */
  readonly code: number | null;

  constructor(kind: AtError['kind'], code: number | null, message: string) {
    super(message);
    this.name = 'AtError';
    this.kind = kind;
    this.code = code;
  }
}

export interface AtSessionEvents {
  urc: [name: string, value: string, pdu: string | undefined];
  /** A command got no answer in time: the modem may have hung. */
  timeout: [command: string];
}

interface Pending {
  command: string;
  pdu: string | null;
  timeoutMs: number;
  resolve: (lines: string[]) => void;
  reject: (err: AtError) => void;
}

export class AtSession extends EventEmitter<AtSessionEvents> {
  readonly #write: (data: string) => void;
  readonly #reader = new AtReader();
  readonly #queue: Pending[] = [];
  #current: Pending | null = null;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(write: (data: string) => void) {
    super();
    this.#write = write;
  }

  /** Text the modem wrote. */
  receive(text: string): void {
    for (const event of this.#reader.push(text)) {
      if (event.type === 'urc') this.emit('urc', event.name, event.value, event.pdu);
      else if (event.type === 'prompt') this.#prompted();
      else this.#answered(event.lines, event.final);
    }
  }

  /** Writes `command` (without CR) once those before it are answered; resolves with its lines. */
  command(command: string, timeoutMs: number): Promise<string[]> {
    return this.#enqueue(command, null, timeoutMs);
  }

  /** AT+CMGS=<length> (or the like), then `pdu` (hex) after the prompt. */
  commandWithPdu(command: string, pdu: string, timeoutMs: number): Promise<string[]> {
    return this.#enqueue(command, pdu, timeoutMs);
  }

  /** Fails every command open or queued; nothing more is written. */
  close(): void {
    this.#closed = true;
    this.#clearTimer();
    const failed = [...(this.#current ? [this.#current] : []), ...this.#queue.splice(0)];
    this.#current = null;
    for (const p of failed) p.reject(new AtError('closed', null, 'the modem was closed'));
  }

  #enqueue(command: string, pdu: string | null, timeoutMs: number): Promise<string[]> {
    if (this.#closed) return Promise.reject(new AtError('closed', null, 'the modem was closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ command, pdu, timeoutMs, resolve, reject });
      this.#next();
    });
  }

  #next(): void {
    if (this.#current !== null || this.#closed) return;
    const next = this.#queue.shift();
    if (!next) return;
    this.#current = next;
    this.#reader.expect(next.command);
    this.#timer = setTimeout(() => this.#timedOut(), next.timeoutMs);
    this.#write(`${next.command}\r`);
  }

  #prompted(): void {
    const current = this.#current;
    if (current?.pdu == null) return;
    // Ctrl-Z sends it (ESC would cancel).
    this.#write(`${current.pdu}\x1a`);
    current.pdu = null;
  }

  #answered(lines: string[], final: FinalResult): void {
    const current = this.#current;
    if (!current) return;
    this.#finish();
    if (final.ok) current.resolve(lines);
    else
      current.reject(new AtError(final.kind, final.code, `${commandName(current.command)}: ${final.line}`));
    this.#next();
  }

  #timedOut(): void {
    const current = this.#current;
    if (!current) return;
    this.#timer = null;
    this.#current = null;
    // Whatever the modem says later about it is not an answer to the next command.
    this.#reader.reset();
    const what = commandName(current.command);
    current.reject(new AtError('timeout', null, `${what}: no answer in ${current.timeoutMs} ms`));
    this.emit('timeout', current.command);
    this.#next();
  }

  #finish(): void {
    this.#clearTimer();
    this.#current = null;
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
