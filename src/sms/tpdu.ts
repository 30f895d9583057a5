// The SMS transfer-layer PDUs a GSM modem speaks in PDU mode (3GPP TS 23.040 9.2): SMS-SUBMIT
// out, SMS-DELIVER and SMS-STATUS-REPORT in. Sans-I/O: octets in, octets out. Addresses are
// semi-octets (9.1.2.5), time stamps swapped semi-octets (9.2.3.11), the data coding scheme
// a GSM DCS (TS 23.038 4), user data septets packed after an optional UDH (9.2.3.24).
import type { Encoding } from './charsets.ts';
import { encodingFromDataCoding } from './data-coding.ts';
import { SmsError } from './errors.ts';
import { decodeGsm7, packSeptets, udhFillBits, unpackSeptets } from './gsm7.ts';
import { parseUdh } from './udh.ts';

/** TP-MTI, the two low bits of the first octet; its meaning depends on the direction. */
const MTI_DELIVER = 0b00;
const MTI_SUBMIT = 0b01;
const MTI_STATUS_REPORT = 0b10;

const TP_UDHI = 0x40;
const TP_SRR = 0x20;
const VPF_RELATIVE = 0x10;

/** Type of address: international (TON 001) and unknown (TON 000), both ISDN numbering. */
const TOA_INTERNATIONAL = 0x91;
const TOA_UNKNOWN = 0x81;
const TON_MASK = 0x70;
const TON_INTERNATIONAL = 0x10;
const TON_ALPHANUMERIC = 0x50;

/** Semi-octet digits: 0-9, then `*`, `#`, and the letters a, b, c (TS 24.008 10.5.4.7). */
const semiOctetDigits = '0123456789*#abc';

export interface SmsSubmit {
  /** `+` then digits for an international number; digits alone are sent as TON unknown. */
  to: string;
  /** TP-MR, 0..255. */
  reference: number;
  /** TP-SRR: ask the service centre for an SMS-STATUS-REPORT. */
  statusReport: boolean;
  /** TP-VP as a relative period, rounded up to what the field can say (5 min .. 63 weeks). */
  validitySeconds?: number;
  /** TP-DCS, a GSM data coding scheme (TS 23.038 4). */
  dcs: number;
  /** The UDH, UDHL first, when the part has one (TP-UDHI is then set). */
  udh?: Uint8Array;
  /** User data without the UDH: unpacked septets when the DCS means GSM 7-bit, else octets. */
  userData: Uint8Array;
}

export interface UserData {
  dcs: number;
  encoding: Encoding;
  /** The UDH, UDHL first, or null. */
  udh: Buffer | null;
  /** Unpacked septets (gsm7) or octets, without the UDH. */
  payload: Buffer;
}

export interface SmsDeliver extends UserData {
  type: 'deliver';
  from: string;
  protocolId: number;
  /** TP-SCTS: when the service centre took the message. */
  serviceCentreTime: Date;
  /** TP-SRI: the sender asked for a status report. */
  statusReportIndication: boolean;
}

export interface SmsStatusReport {
  type: 'status-report';
  /** TP-MR of the SMS-SUBMIT it reports on. */
  reference: number;
  /** TP-RA: whom that message was for. */
  recipient: string;
  serviceCentreTime: Date;
  /** TP-DT: when the status below was reached. */
  dischargeTime: Date;
  /** TP-ST (TS 23.040 9.2.3.15). */
  status: number;
}

export type DecodedTpdu = SmsDeliver | SmsStatusReport;

/** The alphabet a GSM DCS (not an SMPP data_coding) names; also what its user data holds. */
export function encodingOfDcs(dcs: number): Encoding {
  // Group 00xx: bits 3-2 the alphabet, whether or not bit 4 gives a class. SMPP reads
  // 0x01-0x0F otherwise (IA5, Latin-1 ...), so the low values are read here.
  if (dcs < 0x40) return (['gsm7', 'binary', 'ucs2', 'gsm7'] as const)[(dcs >> 2) & 3];
  const { encoding } = encodingFromDataCoding(dcs);
  return encoding === 'gsm7' || encoding === 'ucs2' ? encoding : 'binary';
}

/** The SMS-SUBMIT TPDU (no service centre address before it). Throws SmsError on what cannot be sent. */
export function encodeSubmit(submit: SmsSubmit): Buffer {
  const { reference, userData } = submit;
  if (!Number.isInteger(reference) || reference < 0 || reference > 0xff)
    throw new SmsError('invalid_argument', `TP-MR must be 0..255, not ${reference}`);
  const udh = submit.udh && submit.udh.length > 0 ? Buffer.from(submit.udh) : null;
  const relative = submit.validitySeconds === undefined ? null : relativeValidity(submit.validitySeconds);
  let firstOctet = MTI_SUBMIT;
  if (relative !== null) firstOctet |= VPF_RELATIVE;
  if (submit.statusReport) firstOctet |= TP_SRR;
  if (udh) firstOctet |= TP_UDHI;
  const { length: udl, octets: ud } = packUserData(encodingOfDcs(submit.dcs), udh, userData);
  const head = [firstOctet, reference];
  const tail = [0x00, submit.dcs & 0xff, ...(relative === null ? [] : [relative]), udl];
  return Buffer.concat([Buffer.from(head), encodeAddress(submit.to), Buffer.from(tail), ud]);
}

/** TP-UDL and TP-UD: septets count the header's septets and fill bits; the rest counts octets. */
function packUserData(
  encoding: Encoding,
  udh: Buffer | null,
  payload: Uint8Array,
): { length: number; octets: Buffer } {
  const headerLength = udh?.length ?? 0;
  if (encoding === 'gsm7') {
    const fill = udhFillBits(headerLength);
    const septets = Math.ceil((headerLength * 8) / 7) + payload.length;
    if (septets > 160) throw new SmsError('invalid_argument', `${septets} septets do not fit one SMS`);
    const packed = packSeptets(payload, fill);
    return { length: septets, octets: udh ? Buffer.concat([udh, packed]) : packed };
  }
  const octets = headerLength + payload.length;
  if (octets > 140) throw new SmsError('invalid_argument', `${octets} octets do not fit one SMS`);
  return { length: octets, octets: udh ? Buffer.concat([udh, payload]) : Buffer.from(payload) };
}

/** TP-VP, relative format (TS 23.040 9.2.3.12.1): the smallest period not shorter than asked. */
export function relativeValidity(seconds: number): number {
  const minutes = Math.max(5, Math.ceil(seconds / 60));
  if (minutes <= 720) return Math.ceil(minutes / 5) - 1;
  if (minutes <= 1440) return 143 + Math.ceil((minutes - 720) / 30);
  const days = Math.ceil(minutes / 1440);
  if (days <= 30) return 166 + days;
  return Math.min(255, 192 + Math.ceil(days / 7));
}

/** Address-Length (digits), Type-of-Address, then the digits in swapped semi-octets. */
function encodeAddress(number: string): Buffer {
  const international = number.startsWith('+');
  const digits = international ? number.slice(1) : number;
  if (!/^[0-9*#abc]{1,20}$/i.test(digits))
    throw new SmsError('invalid_argument', `'${number}' is not a number a TP-DA can carry`);
  return Buffer.concat([
    Buffer.of(digits.length, international ? TOA_INTERNATIONAL : TOA_UNKNOWN),
    semiOctets(digits.toLowerCase()),
  ]);
}

function semiOctets(digits: string): Buffer {
  const out = Buffer.alloc(Math.ceil(digits.length / 2), 0xff);
  for (let i = 0; i < digits.length; i++) {
    const value = semiOctetDigits.indexOf(digits[i]!);
    const at = i >> 1;
    out[at] = i & 1 ? (out[at]! & 0x0f) | (value << 4) : (out[at]! & 0xf0) | value;
  }
  return out;
}

/**
 * An SMS-DELIVER or SMS-STATUS-REPORT as a modem gives it in PDU mode: `tpduLength` is the
 * `<length>` of `+CMGR`/`+CMGL`/`+CMT`/`+CDS`, which counts the TPDU alone, so the octets
 * before it (the service centre address, when the modem includes one) are skipped. Throws
 * SmsError('invalid_pdu') on anything malformed.
 */
export function decodeTpdu(pdu: Uint8Array, tpduLength?: number): DecodedTpdu {
  let at = 0;
  if (tpduLength !== undefined && pdu.length > tpduLength) at = pdu.length - tpduLength;
  const reader = new Reader(Buffer.from(pdu.buffer, pdu.byteOffset, pdu.byteLength), at);
  const firstOctet = reader.octet();
  switch (firstOctet & 0x03) {
    case MTI_DELIVER:
      return decodeDeliver(reader, firstOctet);
    case MTI_STATUS_REPORT:
      return decodeStatusReport(reader);
    default:
      throw new SmsError(
        'invalid_pdu',
        `TP-MTI ${firstOctet & 3} is not an SMS-DELIVER or SMS-STATUS-REPORT`,
      );
  }
}

function decodeDeliver(reader: Reader, firstOctet: number): SmsDeliver {
  const from = reader.address();
  const protocolId = reader.octet();
  const dcs = reader.octet();
  const serviceCentreTime = reader.timestamp();
  const userData = reader.userData(dcs, (firstOctet & TP_UDHI) !== 0);
  return {
    type: 'deliver',
    from,
    protocolId,
    serviceCentreTime,
    statusReportIndication: (firstOctet & TP_SRR) !== 0,
    ...userData,
  };
}

function decodeStatusReport(reader: Reader): SmsStatusReport {
  // Optional TP-PI, TP-PID, TP-DCS, TP-UD may follow TP-ST; nothing here needs them.
  return {
    type: 'status-report',
    reference: reader.octet(),
    recipient: reader.address(),
    serviceCentreTime: reader.timestamp(),
    dischargeTime: reader.timestamp(),
    status: reader.octet(),
  };
}

class Reader {
  readonly #bytes: Buffer;
  #at: number;

  constructor(bytes: Buffer, at: number) {
    this.#bytes = bytes;
    this.#at = at;
  }

  take(n: number): Buffer {
    if (this.#at + n > this.#bytes.length)
      throw new SmsError('invalid_pdu', `the PDU ends ${this.#at + n - this.#bytes.length} octets early`);
    const out = this.#bytes.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }

  octet(): number {
    return this.take(1)[0]!;
  }

  /** TP-OA / TP-RA: digits (with `+` when international) or an alphanumeric name. */
  address(): string {
    const length = this.octet();
    const toa = this.octet();
    if (length > 20) throw new SmsError('invalid_pdu', `an address of ${length} semi-octets`);
    const octets = this.take(Math.ceil(length / 2));
    if ((toa & TON_MASK) === TON_ALPHANUMERIC)
      return decodeGsm7(unpackSeptets(octets, Math.floor((length * 4) / 7)));
    let digits = '';
    for (let i = 0; i < length; i++) {
      const value = i & 1 ? octets[i >> 1]! >> 4 : octets[i >> 1]! & 0x0f;
      if (value === 0x0f) break;
      digits += semiOctetDigits[value];
    }
    return (toa & TON_MASK) === TON_INTERNATIONAL ? `+${digits}` : digits;
  }

  /** Seven swapped semi-octets: year, month, day, hour, minute, second, zone in quarter hours. */
  timestamp(): Date {
    const o = this.take(7);
    const swapped = (v: number) => (v & 0x0f) * 10 + (v >> 4);
    const [year, month, day, hour, minute, second] = [...o.subarray(0, 6)].map(swapped) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    // The zone's sign is bit 3 of its first (low) semi-octet.
    const zone = o[6]!;
    const quarters = ((zone & 0x07) * 10 + (zone >> 4)) * (zone & 0x08 ? -1 : 1);
    const local = Date.UTC(2000 + year, month - 1, day, hour, minute, second);
    if (Number.isNaN(local) || month < 1 || month > 12 || day < 1 || day > 31)
      throw new SmsError('invalid_pdu', 'a time stamp that is no date');
    return new Date(local - quarters * 15 * 60_000);
  }

  userData(dcs: number, hasHeader: boolean): UserData {
    const encoding = encodingOfDcs(dcs);
    const udl = this.octet();
    const octets = encoding === 'gsm7' ? Math.ceil((udl * 7) / 8) : udl;
    if (octets > 140) throw new SmsError('invalid_pdu', `a TP-UDL of ${udl} is more than an SMS holds`);
    const ud = this.take(octets);
    let udh: Buffer | null = null;
    if (hasHeader) {
      const parsed = parseUdh(ud);
      if (parsed === null) throw new SmsError('invalid_pdu', 'a UDH that runs past the user data');
      udh = ud.subarray(0, parsed.headerLength);
    }
    const headerLength = udh?.length ?? 0;
    if (encoding !== 'gsm7') return { dcs, encoding, udh, payload: ud.subarray(headerLength) };
    const septets = udl - Math.ceil((headerLength * 8) / 7);
    if (septets < 0) throw new SmsError('invalid_pdu', 'a TP-UDL shorter than its UDH');
    const payload = unpackSeptets(ud.subarray(headerLength), septets, udhFillBits(headerLength));
    return { dcs, encoding, udh, payload };
  }
}
