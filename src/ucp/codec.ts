// UCP/EMI frames, sans I/O (EMI - UCP Interface Specification 4.6, CMG): STX, then
// `TRN/LEN/O|R/OT/field/…/field/CHECKSUM`, then ETX. LEN counts every character between
// STX and ETX; the checksum is the sum of the characters from TRN through the last `/`,
// modulo 256, as two upper-case hex digits. Fields are printable text: what is not
// (message octets, passwords, alphanumeric senders) travels hex-encoded inside them.

export const STX = 0x02;
export const ETX = 0x03;
/** The largest LEN there is (five digits), plus STX and ETX. */
export const maxFrameLength = 99_999 + 2;
/** TRNs run 00..99, so at most this many operations can be outstanding on one connection. */
export const maxWindow = 100;

export type UcpKind = 'O' | 'R';

export interface UcpFrame {
  /** Transaction reference number 0..99: a result carries its operation's. */
  trn: number;
  kind: UcpKind;
  /** Operation type: 31 alert, 51 submit, 52 deliver, 53 notification, 60 session management. */
  ot: number;
  fields: string[];
}

export class UcpDecodeError extends Error {
  /** UCP error code to answer with: 01 checksum error, 02 syntax error. */
  readonly ec: string;
  /** What of the header could be read, so a NAck can carry the TRN and OT. */
  readonly header: { trn: number; kind: UcpKind; ot: number } | null;

  constructor(ec: string, message: string, header: UcpDecodeError['header'] = null) {
    super(message);
    this.name = 'UcpDecodeError';
    this.ec = ec;
    this.header = header;
  }
}

export class UcpEncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UcpEncodeError';
  }
}

/** Sum of the characters modulo 256, as two upper-case hex digits. */
export function checksum(text: string): string {
  let sum = 0;
  for (let i = 0; i < text.length; i++) sum = (sum + text.charCodeAt(i)) & 0xff;
  return sum.toString(16).toUpperCase().padStart(2, '0');
}

const fieldPattern = /^[\x20-\x2e\x30-\x7e]*$/;

/** The frame with its STX and ETX. */
export function encodeFrame(frame: UcpFrame): Buffer {
  if (!Number.isInteger(frame.trn) || frame.trn < 0 || frame.trn > 99)
    throw new UcpEncodeError(`TRN must be 0..99, not ${frame.trn}`);
  if (!Number.isInteger(frame.ot) || frame.ot < 0 || frame.ot > 99)
    throw new UcpEncodeError(`OT must be 0..99, not ${frame.ot}`);
  for (const field of frame.fields) {
    if (!fieldPattern.test(field))
      throw new UcpEncodeError(`field '${field}' holds '/' or a control character`);
  }
  const data = frame.fields.map((f) => `${f}/`).join('');
  // TRN/ + LEN/ + O/ + OT/ + data + 2 checksum digits.
  const length = 3 + 6 + 2 + 3 + data.length + 2;
  if (length > 99_999) throw new UcpEncodeError(`frame of ${length} characters is over LEN's 99999`);
  const head = `${two(frame.trn)}/${String(length).padStart(5, '0')}/${frame.kind}/${two(frame.ot)}/${data}`;
  const text = head + checksum(head);
  const out = Buffer.allocUnsafe(text.length + 2);
  out[0] = STX;
  out.write(text, 1, 'latin1');
  out[out.length - 1] = ETX;
  return out;
}

/** A frame's text, between (not including) STX and ETX. */
export function decodeFrame(body: Buffer | string): UcpFrame {
  const text = typeof body === 'string' ? body : body.toString('latin1');
  const m = /^(\d{2})\/(\d{5})\/([OR])\/(\d{2})\//.exec(text);
  if (!m) throw new UcpDecodeError('02', `not a UCP header: '${text.slice(0, 16)}'`);
  const header = { trn: Number(m[1]), kind: m[3] as UcpKind, ot: Number(m[4]) };
  if (Number(m[2]) !== text.length)
    throw new UcpDecodeError('02', `LEN says ${Number(m[2])}, the frame has ${text.length}`, header);
  const summed = text.slice(0, -2);
  const given = text.slice(-2).toUpperCase();
  if (!summed.endsWith('/')) throw new UcpDecodeError('02', 'no / before the checksum', header);
  if (given !== checksum(summed))
    throw new UcpDecodeError('01', `checksum ${given}, expected ${checksum(summed)}`, header);
  const fields = summed.slice(m[0].length, -1).split('/');
  // No fields at all reads as one empty field; an operation always has some.
  return { ...header, fields: summed.length === m[0].length ? [] : fields };
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}
