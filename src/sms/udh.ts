// User Data Header (3GPP TS 23.040 9.2.3.24): a length octet (UDHL) then information elements,
// each identifier, length, data. Building is strict; parsing is tolerant: malformed input
// gives null, never an exception.
import { SmsError } from './errors.ts';
import type { LockingShiftLanguage, NationalLanguage } from './gsm7-tables.ts';
import { NATIONAL_LANGUAGE_ID, NATIONAL_LANGUAGES } from './gsm7-tables.ts';

/** Information element identifiers used here (TS 23.040 9.2.3.24). */
export const Iei = {
  CONCAT_8: 0x00,
  SPECIAL_SMS: 0x01,
  PORTS_8: 0x04,
  PORTS_16: 0x05,
  CONCAT_16: 0x08,
  NATIONAL_SINGLE_SHIFT: 0x24,
  NATIONAL_LOCKING_SHIFT: 0x25,
} as const;

export interface UdhIe {
  id: number;
  data: Uint8Array;
}

export interface ConcatInfo {
  reference: number;
  total: number;
  sequence: number;
  referenceBits: 8 | 16;
}

export interface ParsedUdh {
  ies: UdhIe[];
  /** Octets the header takes, UDHL included: the text starts here. */
  headerLength: number;
  /** From IE 0x00 or 0x08, when well formed (total ≥ 1, 1 ≤ sequence ≤ total). */
  concat?: ConcatInfo;
  /** From IEs 0x25 / 0x24, when they name a language TS 23.038 has tables for. */
  lockingShift?: LockingShiftLanguage;
  singleShift?: NationalLanguage;
  /** Application port addressing (IE 0x04 or 0x05). */
  ports?: { destination: number; source: number };
}

/** The UDH bytes (UDHL first) for `ies`; throws SmsError when they exceed 140 octets. */
export function buildUdh(ies: readonly UdhIe[]): Buffer {
  let length = 0;
  for (const ie of ies) {
    if (!Number.isInteger(ie.id) || ie.id < 0 || ie.id > 0xff || ie.data.length > 0xff) {
      throw new SmsError('invalid_argument', `bad information element ${ie.id}`);
    }
    length += 2 + ie.data.length;
  }
  if (length + 1 > 140)
    throw new SmsError('invalid_argument', `UDH of ${length + 1} octets does not fit an SMS`);
  const out = Buffer.allocUnsafe(length + 1);
  out[0] = length;
  let at = 1;
  for (const ie of ies) {
    out[at++] = ie.id;
    out[at++] = ie.data.length;
    out.set(ie.data, at);
    at += ie.data.length;
  }
  return out;
}

/** Octets a UDH with these IEs takes, UDHL included (0 for none). */
export function udhLength(ies: readonly UdhIe[]): number {
  if (ies.length === 0) return 0;
  let length = 1;
  for (const ie of ies) length += 2 + ie.data.length;
  return length;
}

/** Concatenated short message IE: 0x00 with an 8-bit reference, 0x08 with a 16-bit one. */
export function concatIe(
  reference: number,
  total: number,
  sequence: number,
  referenceBits: 8 | 16 = 8,
): UdhIe {
  if (!(total >= 1 && total <= 255 && sequence >= 1 && sequence <= total)) {
    throw new SmsError('invalid_argument', `part ${sequence} of ${total} is not a valid concatenation`);
  }
  if (referenceBits === 16) {
    return {
      id: Iei.CONCAT_16,
      data: Uint8Array.of((reference >> 8) & 0xff, reference & 0xff, total, sequence),
    };
  }
  return { id: Iei.CONCAT_8, data: Uint8Array.of(reference & 0xff, total, sequence) };
}

/** National language shift IEs (0x25 locking, 0x24 single) for the tables a text uses. */
export function nationalLanguageIes(shift: {
  lockingShift?: LockingShiftLanguage;
  singleShift?: NationalLanguage;
}): UdhIe[] {
  const ies: UdhIe[] = [];
  if (shift.lockingShift) {
    ies.push({
      id: Iei.NATIONAL_LOCKING_SHIFT,
      data: Uint8Array.of(NATIONAL_LANGUAGE_ID[shift.lockingShift]),
    });
  }
  if (shift.singleShift) {
    ies.push({ id: Iei.NATIONAL_SINGLE_SHIFT, data: Uint8Array.of(NATIONAL_LANGUAGE_ID[shift.singleShift]) });
  }
  return ies;
}

/** The language a national language identifier names, if TS 23.038 has tables for it. */
export function nationalLanguageFromId(id: number): NationalLanguage | undefined {
  return NATIONAL_LANGUAGES.find((lang) => NATIONAL_LANGUAGE_ID[lang] === id);
}

/**
 * Reads the UDH at the start of `message` (a short_message with UDHI set). Null when there is
 * none to read: empty input, a UDHL beyond the data, or an IE running past the header. IEs
 * that are well framed but malformed inside are kept in `ies` and otherwise ignored, as TS
 * 23.040 asks of a receiver.
 */
export function parseUdh(message: Uint8Array): ParsedUdh | null {
  if (!(message instanceof Uint8Array) || message.length < 1) return null;
  const headerLength = message[0]! + 1;
  if (headerLength > message.length) return null;
  const result: ParsedUdh = { ies: [], headerLength };
  let at = 1;
  while (at < headerLength) {
    if (at + 2 > headerLength) return null;
    const id = message[at]!;
    const length = message[at + 1]!;
    const start = at + 2;
    if (start + length > headerLength) return null;
    const data = message.subarray(start, start + length);
    result.ies.push({ id, data });
    readIe(result, id, data);
    at = start + length;
  }
  return result;
}

function readIe(result: ParsedUdh, id: number, data: Uint8Array): void {
  switch (id) {
    case Iei.CONCAT_8:
    case Iei.CONCAT_16: {
      const wide = id === Iei.CONCAT_16;
      if (data.length !== (wide ? 4 : 3)) return;
      const reference = wide ? (data[0]! << 8) | data[1]! : data[0]!;
      const total = data[wide ? 2 : 1]!;
      const sequence = data[wide ? 3 : 2]!;
      if (total < 1 || sequence < 1 || sequence > total) return;
      result.concat = { reference, total, sequence, referenceBits: wide ? 16 : 8 };
      return;
    }
    case Iei.NATIONAL_LOCKING_SHIFT:
    case Iei.NATIONAL_SINGLE_SHIFT: {
      if (data.length !== 1) return;
      const lang = nationalLanguageFromId(data[0]!);
      if (id === Iei.NATIONAL_SINGLE_SHIFT) {
        if (lang) result.singleShift = lang;
      } else if (lang && lang !== 'es') result.lockingShift = lang;
      return;
    }
    case Iei.PORTS_8:
      if (data.length === 2) result.ports = { destination: data[0]!, source: data[1]! };
      return;
    case Iei.PORTS_16:
      if (data.length === 4) {
        result.ports = { destination: (data[0]! << 8) | data[1]!, source: (data[2]! << 8) | data[3]! };
      }
      return;
  }
}
