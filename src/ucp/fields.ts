// How values are written inside UCP fields: IRA text hex-encoded (AMsg, PWD), alphanumeric
// senders packed as GSM 7-bit (OTOA 5039), extra services (XSer: type, length, data, all in
// hex), timestamps DDMMYYhhmm[ss], and the body of a message (MT 3 text or MT 4 octets,
// with the UDH and data coding in XSer).
import { decodeGsm7, encodeGsm7, gsm7Septets, packSeptets, unpackSeptets } from '../sms/index.ts';
import type { Op5x } from './operations.ts';

export class UcpFieldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UcpFieldError';
  }
}

export function toHex(octets: Uint8Array): string {
  return Buffer.from(octets.buffer, octets.byteOffset, octets.byteLength).toString('hex').toUpperCase();
}

export function fromHex(hex: string, what: string): Buffer {
  if (hex.length % 2 !== 0 || !/^[0-9A-Fa-f]*$/.test(hex))
    throw new UcpFieldError(`${what} is not hex: '${hex.slice(0, 20)}'`);
  return Buffer.from(hex, 'hex');
}

/** Whether every character has an IRA (ISO 8859-1) code, so the text can go as MT 3. */
export function isIraText(text: string): boolean {
  return /^[\u0000-\u00ff]*$/.test(text);
}

/** Text as AMsg: each character's IRA (ISO 8859-1) code, in hex. */
export function encodeIra(text: string): string {
  if (!isIraText(text)) throw new UcpFieldError('text has characters outside IRA');
  return toHex(Buffer.from(text, 'latin1'));
}

export function decodeIra(hex: string): string {
  return fromHex(hex, 'IRA text').toString('latin1');
}

/**
 * An alphanumeric OAdC (OTOA 5039): its GSM 7-bit septets packed, behind one octet that
 * counts the useful semi-octets, all in hex. At most 11 characters.
 */
export function encodeAlphanumericAddress(name: string): string {
  const septets = encodeGsm7(name.slice(0, 11));
  const packed = packSeptets(septets);
  return toHex(Buffer.concat([Buffer.of(Math.ceil((septets.length * 7) / 4)), packed]));
}

export function decodeAlphanumericAddress(hex: string): string {
  const octets = fromHex(hex, 'alphanumeric OAdC');
  if (octets.length < 1) throw new UcpFieldError('alphanumeric OAdC is empty');
  const septets = Math.floor((octets[0]! * 4) / 7);
  return decodeGsm7(unpackSeptets(octets.subarray(1), septets));
}

export interface XSerEntry {
  type: number;
  data: Buffer;
}

export const XSerType = { UDH: 0x01, DCS: 0x02 } as const;

export function encodeXSer(entries: readonly XSerEntry[]): string {
  return entries
    .map((e) => {
      if (e.data.length > 0xff) throw new UcpFieldError(`XSer ${e.type} data over 255 octets`);
      return toHex(Buffer.concat([Buffer.of(e.type, e.data.length), e.data]));
    })
    .join('');
}

export function decodeXSer(hex: string): XSerEntry[] {
  const octets = fromHex(hex, 'XSer');
  const entries: XSerEntry[] = [];
  for (let at = 0; at < octets.length; ) {
    if (at + 2 > octets.length) throw new UcpFieldError('XSer ends inside a service header');
    const type = octets[at]!;
    const length = octets[at + 1]!;
    if (at + 2 + length > octets.length) throw new UcpFieldError(`XSer ${type} runs past its field`);
    entries.push({ type, data: Buffer.from(octets.subarray(at + 2, at + 2 + length)) });
    at += 2 + length;
  }
  return entries;
}

/** DDMMYYhhmmss (SCTS, DSCTS) or, without seconds, DDMMYYhhmm (VP, DDT), in UTC. */
export function formatUcpTime(date: Date, seconds = true): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const base = `${p(date.getUTCDate())}${p(date.getUTCMonth() + 1)}${p(date.getUTCFullYear() % 100)}${p(date.getUTCHours())}${p(date.getUTCMinutes())}`;
  return seconds ? base + p(date.getUTCSeconds()) : base;
}

/** A UCP timestamp read as UTC (years 2000..2099); null when it is not one. */
export function parseUcpTime(text: string): Date | null {
  const m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$/.exec(text);
  if (!m) return null;
  const [day, month, year, hour, minute, second] = m.slice(1).map((v) => Number(v ?? 0)) as number[];
  const date = new Date(Date.UTC(2000 + year!, month! - 1, day!, hour!, minute!, second!));
  if (
    date.getUTCDate() !== day ||
    date.getUTCMonth() !== month! - 1 ||
    hour! > 23 ||
    minute! > 59 ||
    second! > 59
  )
    return null;
  return date;
}

/** What a 5x operation carries, whichever way it was written. */
export interface MessageBody {
  /** The user data header (UDHL included), from XSer 01; null without one. */
  udh: Buffer | null;
  /**
   * SMPP/GSM data coding of `payload`: for MT 3 text 0x00 (GSM 7-bit) when GSM can write
   * it, else 0x03 (Latin-1); for MT 4 XSer 02's (default 0x04, 8-bit data).
   */
  dataCoding: number;
  /** The user data after the header: GSM septets one per octet (as SMPP carries them), or octets. */
  payload: Buffer;
}

/** MT 3: IRA text, with a header (the SMSC packs the text behind it) when one is given. */
export function textBody(text: string, udh: Buffer | null): Op5x {
  const op: Op5x = { MT: '3', Msg: encodeIra(text) };
  if (udh !== null) op.XSer = encodeXSer([{ type: XSerType.UDH, data: udh }]);
  return op;
}

/** MT 4: octets (UCS-2, 8-bit data) with their bit count, data coding and header in XSer. */
export function dataBody(octets: Buffer, dataCoding: number, udh: Buffer | null): Op5x {
  const xser: XSerEntry[] = [];
  if (udh !== null) xser.push({ type: XSerType.UDH, data: udh });
  xser.push({ type: XSerType.DCS, data: Buffer.of(dataCoding) });
  return {
    MT: '4',
    NB: String(octets.length * 8).padStart(4, '0'),
    Msg: toHex(octets),
    XSer: encodeXSer(xser),
  };
}

/** The body of a 51 or 52, for the reassembler or the simulator. */
export function readBody(op: Op5x): MessageBody {
  const xser = op.XSer ? decodeXSer(op.XSer) : [];
  const udh = xser.find((e) => e.type === XSerType.UDH)?.data ?? null;
  const dcs = xser.find((e) => e.type === XSerType.DCS)?.data[0];
  const msg = op.Msg ?? '';
  switch (op.MT) {
    case '3': {
      // IRA text, which a handset most likely sent as GSM 7-bit: handed on as such if it can be.
      const text = decodeIra(msg);
      const septets = gsm7Septets(text);
      return septets
        ? { udh, dataCoding: 0x00, payload: septets }
        : { udh, dataCoding: 0x03, payload: Buffer.from(text, 'latin1') };
    }
    case '4': {
      const octets = fromHex(msg, 'TMsg');
      const dataCoding = dcs ?? 0x04;
      // The GSM default alphabet, when a sender says so, comes packed: NB counts its bits.
      if ((dataCoding & 0xcc) === 0 || (dataCoding & 0xf4) === 0xf0) {
        const bits = Number(op.NB ?? octets.length * 8);
        return { udh, dataCoding, payload: unpackSeptets(octets, Math.floor(bits / 7)) };
      }
      return { udh, dataCoding, payload: octets };
    }
    default:
      throw new UcpFieldError(`MT ${op.MT ?? '(none)'} is not text (3) or transparent data (4)`);
  }
}
