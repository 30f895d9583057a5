// Reassembly of concatenated SMS (TS 23.040 9.2.3.24.1) from parts arriving in any order, with
// duplicates, and sometimes never complete. Sans-I/O: time comes from `now`, and sets whose
// time is up are handed over by expire() (also run on each add, or on a timer when
// `sweepIntervalMs` is set).
import type { Encoding } from './charsets.ts';
import { decodeText } from './charsets.ts';
import { encodingFromDataCoding } from './data-coding.ts';
import { SmsError } from './errors.ts';
import type { Gsm7Shift } from './gsm7.ts';
import { parseUdh } from './udh.ts';

export interface ConcatPart {
  reference: number;
  total: number;
  sequence: number;
  /** Kept apart from sets of another reference size; default 8 (UDH) or 16 (SAR). */
  referenceBits?: 8 | 16;
}

export interface ReassembledMessage {
  key: string;
  reference: number;
  total: number;
  /** Text of the parts that arrived, in sequence order. */
  text: string;
  encoding: Encoding;
  dataCoding: number;
  /** User data of the parts that arrived, in sequence order, without UDH. */
  payload: Buffer;
  /** How many distinct parts arrived. */
  parts: number;
  complete: boolean;
  /** Sequence numbers that never arrived (empty when complete). */
  missing: number[];
  shift?: Gsm7Shift;
  /** A UDH that could not be read: the whole short message was taken as text. */
  malformedUdh?: boolean;
}

export interface ReassemblerOptions {
  /** How long after its first part an incomplete set is given up; default 5 minutes. */
  timeoutMs?: number;
  /** Incomplete sets kept at most; past it the oldest is given up. Default 10 000. */
  maxPending?: number;
  /**
   * Bytes the incomplete sets' parts may hold; past it the oldest sets are given up (not
   * the one a part just came for, so that set alone may pass it). As much again for the
   * parts of recently completed sets (kept to spot late duplicates). Default 32 MiB: a
   * part's size is the peer's to choose (an SMPP message_payload is up to 64 KB, a set up
   * to 255 parts), so a count of sets alone bounds nothing.
   */
  maxBytes?: number;
  /** Receives every set given up (timed out or evicted), complete: false. */
  onExpire?: (message: ReassembledMessage) => void;
  /** Runs expire() on an unref'd timer at this interval until close(). */
  sweepIntervalMs?: number;
  /** Clock in milliseconds; default Date.now. */
  now?: () => number;
}

interface Piece {
  payload: Buffer;
  dataCoding: number;
  shift: Gsm7Shift | undefined;
}

interface PendingSet {
  key: string;
  reference: number;
  total: number;
  firstAt: number;
  pieces: (Piece | undefined)[];
  count: number;
  /** What its parts hold (partBytes each). */
  bytes: number;
}

/** About what a part keeps alive: its octets, its Buffer and piece objects, and a slot. */
function partBytes(payload: Buffer): number {
  return 160 + payload.length;
}

export class Reassembler {
  readonly #timeoutMs: number;
  readonly #maxPending: number;
  readonly #maxBytes: number;
  readonly #onExpire: ((message: ReassembledMessage) => void) | undefined;
  readonly #now: () => number;
  // Both maps keep insertion order, which is arrival order of first parts: the oldest is first.
  readonly #pending = new Map<string, PendingSet>();
  // Recently completed sets, so that a late duplicate of one does not start a ghost set.
  readonly #done = new Map<string, { at: number; payloads: Buffer[]; bytes: number }>();
  #pendingBytes = 0;
  #doneBytes = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: ReassemblerOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 300_000;
    this.#maxPending = options.maxPending ?? 10_000;
    this.#maxBytes = options.maxBytes ?? 32 * 2 ** 20;
    if (
      !(this.#timeoutMs > 0) ||
      !Number.isInteger(this.#maxPending) ||
      this.#maxPending < 1 ||
      !(this.#maxBytes > 0)
    ) {
      throw new SmsError(
        'invalid_argument',
        'timeoutMs and maxBytes must be positive and maxPending at least 1',
      );
    }
    this.#onExpire = options.onExpire;
    this.#now = options.now ?? Date.now;
    if (options.sweepIntervalMs !== undefined) {
      this.#timer = setInterval(() => this.expire(), options.sweepIntervalMs);
      this.#timer.unref();
    }
  }

  /** Incomplete sets being held. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * A short_message with UDHI set (UDH included). Without a concatenation IE it is a whole
   * message and comes straight back.
   */
  addUdhPart(key: string, shortMessage: Uint8Array, dataCoding: number): ReassembledMessage | undefined {
    const message = Buffer.from(shortMessage.buffer, shortMessage.byteOffset, shortMessage.byteLength);
    const udh = parseUdh(message);
    if (!udh) {
      const whole = single(key, message, dataCoding, undefined);
      whole.malformedUdh = true;
      return whole;
    }
    let shift: Gsm7Shift | undefined;
    if (udh.lockingShift || udh.singleShift) {
      shift = {};
      if (udh.lockingShift) shift.lockingShift = udh.lockingShift;
      if (udh.singleShift) shift.singleShift = udh.singleShift;
    }
    const payload = message.subarray(udh.headerLength);
    if (!udh.concat) return single(key, payload, dataCoding, shift);
    return this.#add(key, udh.concat, payload, dataCoding, shift);
  }

  /** A part that came with SMPP SAR TLVs (sar_msg_ref_num, sar_total_segments, sar_segment_seqnum). */
  addSarPart(
    key: string,
    payload: Uint8Array,
    dataCoding: number,
    sar: { reference: number; total: number; sequence: number },
  ): ReassembledMessage | undefined {
    return this.add(key, { referenceBits: 16, ...sar }, payload, dataCoding);
  }

  /** A part of any origin; `payload` is its user data without UDH. */
  add(
    key: string,
    concat: ConcatPart,
    payload: Uint8Array,
    dataCoding: number,
  ): ReassembledMessage | undefined {
    const data = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    const { total, sequence } = concat;
    if (
      !(
        Number.isInteger(total) &&
        Number.isInteger(sequence) &&
        total >= 1 &&
        sequence >= 1 &&
        sequence <= total
      )
    ) {
      // Not a usable concatenation (TS 23.040: ignore the IE): the part stands alone.
      return single(key, data, dataCoding, undefined);
    }
    return this.#add(key, concat, data, dataCoding, undefined);
  }

  #add(
    key: string,
    concat: ConcatPart,
    payload: Buffer,
    dataCoding: number,
    shift: Gsm7Shift | undefined,
  ): ReassembledMessage | undefined {
    const now = this.#now();
    this.expire(now);
    const { reference, total, sequence } = concat;
    if (total === 1) return single(key, payload, dataCoding, shift);
    const id = `${key}\u0000${concat.referenceBits ?? 8}\u0000${reference}\u0000${total}`;
    const done = this.#done.get(id);
    if (done) {
      if (done.payloads[sequence - 1]?.equals(payload)) return undefined; // a late duplicate
      this.#forgetDone(id, done); // the reference came round again: a new message
    }
    let set = this.#pending.get(id);
    if (!set) {
      set = { key, reference, total, firstAt: now, pieces: new Array(total), count: 0, bytes: 0 };
      this.#pending.set(id, set);
      if (this.#pending.size > this.#maxPending) {
        const [oldestId, oldest] = this.#pending.entries().next().value!;
        this.#giveUp(oldestId, oldest);
      }
    }
    if (set.pieces[sequence - 1]) return undefined; // duplicate
    const copy = Buffer.from(payload);
    set.pieces[sequence - 1] = { payload: copy, dataCoding, shift };
    set.count++;
    const bytes = partBytes(copy);
    set.bytes += bytes;
    this.#pendingBytes += bytes;
    if (set.count < total) {
      // The oldest others go, not this set: the part just taken is not handed over before
      // its caller has dealt with it (kept it durably, say). One set alone may pass the bound.
      for (const [otherId, other] of this.#pending) {
        if (this.#pendingBytes <= this.#maxBytes) break;
        if (otherId !== id) this.#giveUp(otherId, other);
      }
      return undefined;
    }
    this.#pending.delete(id);
    this.#pendingBytes -= set.bytes;
    const message = build(set);
    this.#done.set(id, { at: now, payloads: set.pieces.map((p) => p!.payload), bytes: set.bytes });
    this.#doneBytes += set.bytes;
    while (this.#done.size > this.#maxPending || this.#doneBytes > this.#maxBytes) {
      const [oldestId, oldest] = this.#done.entries().next().value!;
      this.#forgetDone(oldestId, oldest);
    }
    return message;
  }

  /** Hands an incomplete set over, as expire() would. */
  #giveUp(id: string, set: PendingSet): void {
    this.#pending.delete(id);
    this.#pendingBytes -= set.bytes;
    this.#onExpire?.(build(set));
  }

  #forgetDone(id: string, done: { bytes: number }): void {
    this.#done.delete(id);
    this.#doneBytes -= done.bytes;
  }

  /**
   * Gives up the sets whose first part is `timeoutMs` old at `now`: returns them (complete:
   * false, with what arrived) and passes each to onExpire.
   */
  expire(now: number = this.#now()): ReassembledMessage[] {
    const expired: ReassembledMessage[] = [];
    for (const [id, set] of this.#pending) {
      if (now - set.firstAt < this.#timeoutMs) break;
      this.#pending.delete(id);
      this.#pendingBytes -= set.bytes;
      const message = build(set);
      expired.push(message);
      this.#onExpire?.(message);
    }
    for (const [id, done] of this.#done) {
      if (now - done.at < this.#timeoutMs) break;
      this.#forgetDone(id, done);
    }
    return expired;
  }

  /** Gives up every pending set now (say at shutdown), as expire() does. */
  flush(): ReassembledMessage[] {
    return this.expire(Number.POSITIVE_INFINITY);
  }

  /** Forgets every pending and recently completed set without handing any over. */
  clear(): void {
    this.#pending.clear();
    this.#done.clear();
    this.#pendingBytes = 0;
    this.#doneBytes = 0;
  }

  /** Stops the sweep timer, if any. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

function single(
  key: string,
  payload: Buffer,
  dataCoding: number,
  shift: Gsm7Shift | undefined,
): ReassembledMessage {
  return build({
    key,
    reference: 0,
    total: 1,
    firstAt: 0,
    pieces: [{ payload, dataCoding, shift }],
    count: 1,
    bytes: 0,
  });
}

function sameDecoding(a: Piece, b: Piece): boolean {
  return (
    a.dataCoding === b.dataCoding &&
    a.shift?.lockingShift === b.shift?.lockingShift &&
    a.shift?.singleShift === b.shift?.singleShift
  );
}

function build(set: PendingSet): ReassembledMessage {
  const present: Piece[] = [];
  const missing: number[] = [];
  for (let i = 0; i < set.total; i++) {
    const piece = set.pieces[i];
    if (piece) present.push(piece);
    else missing.push(i + 1);
  }
  const first = present[0]!; // a set exists only once a piece has arrived
  const { encoding } = encodingFromDataCoding(first.dataCoding);
  const payload = present.length === 1 ? first.payload : Buffer.concat(present.map((p) => p.payload));
  // Decoding the joined user data mends a surrogate pair or escape another sender split;
  // parts that differ in coding are decoded one by one.
  const text = present.every((p) => sameDecoding(p, first))
    ? decodeText(payload, encoding, first.shift)
    : present
        .map((p) => decodeText(p.payload, encodingFromDataCoding(p.dataCoding).encoding, p.shift))
        .join('');
  const message: ReassembledMessage = {
    key: set.key,
    reference: set.reference,
    total: set.total,
    text,
    encoding,
    dataCoding: first.dataCoding,
    payload,
    parts: present.length,
    complete: missing.length === 0,
    missing,
  };
  if (first.shift) message.shift = first.shift;
  return message;
}
