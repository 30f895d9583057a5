// CIMD2 packets, sans I/O: `<STX>OO:NNN<TAB>PPP:value<TAB>...<TAB>[CC]<ETX>` — a two-digit
// operation code, a three-digit packet number, parameters each ended by a TAB, and an
// optional checksum (the sum of every octet from STX through the last TAB, mod 256, in two
// hex digits). Values are kept as the octets came (latin1 strings); the user data's
// character conversion is in charset.ts.

export const STX = 0x02;
export const ETX = 0x03;

export interface Cimd2Packet {
  operation: number;
  packetNumber: number;
  /** In the order they travel; a code may repeat (several destinations). */
  params: Array<[code: number, value: string]>;
}

export class Cimd2DecodeError extends Error {
  /** The packet number, when the header could be read (to answer with a NACK or error). */
  readonly packetNumber: number | undefined;
  readonly operation: number | undefined;
  /** A checksum that does not add up: the sender is asked again with a NACK. */
  readonly badChecksum: boolean;

  constructor(message: string, header?: { operation: number; packetNumber: number }, badChecksum = false) {
    super(message);
    this.name = 'Cimd2DecodeError';
    this.operation = header?.operation;
    this.packetNumber = header?.packetNumber;
    this.badChecksum = badChecksum;
  }
}

export class Cimd2EncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Cimd2EncodeError';
  }
}

/** The first value of a parameter, or undefined. */
export function param(packet: Cimd2Packet, code: number): string | undefined {
  for (const [c, v] of packet.params) if (c === code) return v;
  return undefined;
}

/** An integer parameter, or undefined when absent or not an integer. */
export function intParam(packet: Cimd2Packet, code: number): number | undefined {
  const v = param(packet, code);
  if (v === undefined || !/^-?\d{1,9}$/.test(v)) return undefined;
  return Number(v);
}

function checksumOf(bytes: Buffer, end: number): number {
  let sum = 0;
  for (let i = 0; i < end; i++) sum = (sum + bytes[i]!) & 0xff;
  return sum;
}

/** The packet's octets; with `checksum` the two hex digits go before ETX. */
export function encodePacket(packet: Cimd2Packet, options: { checksum?: boolean } = {}): Buffer {
  const { operation, packetNumber } = packet;
  if (!Number.isInteger(operation) || operation < 0 || operation > 99)
    throw new Cimd2EncodeError(`operation code ${operation} is not 0..99`);
  if (!Number.isInteger(packetNumber) || packetNumber < 0 || packetNumber > 999)
    throw new Cimd2EncodeError(`packet number ${packetNumber} is not 0..999`);
  let body = `${String(operation).padStart(2, '0')}:${String(packetNumber).padStart(3, '0')}\t`;
  for (const [code, value] of packet.params) {
    if (!Number.isInteger(code) || code < 0 || code > 999)
      throw new Cimd2EncodeError(`parameter code ${code} is not 0..999`);
    // The separators may not appear inside a value: they would end the packet or parameter.
    if (/[\x00\x02\x03\t]/.test(value) || /[^\x00-\xff]/.test(value))
      throw new Cimd2EncodeError(
        `parameter ${String(code).padStart(3, '0')} has a character it cannot carry`,
      );
    body += `${String(code).padStart(3, '0')}:${value}\t`;
  }
  const head = Buffer.from(`\x02${body}`, 'latin1');
  if (!options.checksum) return Buffer.concat([head, Buffer.of(ETX)]);
  const sum = checksumOf(head, head.length).toString(16).toUpperCase().padStart(2, '0');
  return Buffer.concat([head, Buffer.from(sum, 'latin1'), Buffer.of(ETX)]);
}

/** One packet, STX through ETX. Throws Cimd2DecodeError naming what is wrong. */
export function decodePacket(frame: Buffer): Cimd2Packet {
  if (frame[0] !== STX || frame[frame.length - 1] !== ETX)
    throw new Cimd2DecodeError('a packet runs from STX to ETX');
  const text = frame.toString('latin1', 1, frame.length - 1);
  const header = /^(\d\d):(\d\d\d)\t/.exec(text);
  if (!header) throw new Cimd2DecodeError('the header is not OO:NNN followed by a TAB');
  const head = { operation: Number(header[1]), packetNumber: Number(header[2]) };
  const lastTab = text.lastIndexOf('\t');
  const trailer = text.slice(lastTab + 1);
  if (trailer !== '') {
    if (!/^[0-9A-Fa-f]{2}$/.test(trailer))
      throw new Cimd2DecodeError('what follows the last TAB is not a two-digit checksum', head);
    // lastTab is an index into text, which starts after STX: the sum runs through that TAB.
    if (checksumOf(frame, lastTab + 2) !== Number.parseInt(trailer, 16))
      throw new Cimd2DecodeError('the checksum does not add up', head, true);
  }
  const params: Array<[number, string]> = [];
  const fields = text.slice(header[0].length, lastTab + 1);
  let start = 0;
  while (start < fields.length) {
    const end = fields.indexOf('\t', start);
    const field = fields.slice(start, end);
    const m = /^(\d\d\d):/.exec(field);
    if (!m) throw new Cimd2DecodeError(`parameter '${field.slice(0, 12)}' is not PPP:value`, head);
    params.push([Number(m[1]), field.slice(4)]);
    start = end + 1;
  }
  return { ...head, params };
}

/**
 * Cuts a byte stream into packets. Octets outside STX...ETX are ignored (the spec says so);
 * a packet longer than `maxLength` without its ETX loses the stream.
 */
export class Cimd2Framer {
  readonly #maxLength: number;
  #held: Buffer = Buffer.alloc(0);

  constructor(maxLength = 4096) {
    this.#maxLength = maxLength;
  }

  /** The complete frames (STX...ETX) in what came so far; throws when one grows too long. */
  push(chunk: Buffer): Buffer[] {
    let data = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk]);
    const frames: Buffer[] = [];
    for (;;) {
      const stx = data.indexOf(STX);
      if (stx < 0) {
        data = Buffer.alloc(0);
        break;
      }
      const etx = data.indexOf(ETX, stx + 1);
      if (etx < 0) {
        data = data.subarray(stx);
        break;
      }
      // An STX before the ETX: the earlier packet lost its end; start again at the later one.
      const restart = data.indexOf(STX, stx + 1);
      if (restart >= 0 && restart < etx) {
        data = data.subarray(restart);
        continue;
      }
      frames.push(Buffer.from(data.subarray(stx, etx + 1)));
      data = data.subarray(etx + 1);
    }
    if (data.length > this.#maxLength) {
      this.#held = Buffer.alloc(0);
      throw new Cimd2DecodeError(`no ETX within ${this.#maxLength} octets`);
    }
    this.#held = Buffer.from(data);
    return frames;
  }
}
