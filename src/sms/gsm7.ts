// The GSM 7-bit alphabet (3GPP TS 23.038 6.2.1) with its extension and national language
// shift tables: text to septets and back, and septets to the packed form (TS 23.038 6.1.2.1)
// that modems and the air interface use. SMPP carries septets unpacked, one per octet.
//
// A character found in the locking-shift table costs one septet; one found only in the
// single-shift table costs two (escape 0x1B, then its code). Tables are picked per message
// (UDH IEs 0x25 and 0x24, TS 23.040 9.2.3.24.15-16); the default ones need no IE.
import { describeCharacters, SmsError } from './errors.ts';
import type { LockingShiftLanguage, NationalLanguage } from './gsm7-tables.ts';
import { LOCKING_SHIFT_TABLES, SINGLE_SHIFT_TABLES } from './gsm7-tables.ts';

/** The shift tables a GSM 7-bit text uses; an absent field means the default table. */
export interface Gsm7Shift {
  lockingShift?: LockingShiftLanguage;
  singleShift?: NationalLanguage;
}

const ESC = 0x1b;

// Encoder lookup per (locking, single) pair, indexed by UTF-16 code unit: 0 = not in the
// tables, 0x100 | septet = one septet, 0x200 | code = escape + code. Every table character
// is in the BMP, so a surrogate never maps.
const IN_LOCKING = 0x100;
const IN_SINGLE = 0x200;
const encoders = new Map<string, Uint16Array>();
const decoders = new Map<string, { locking: string; single: string }>();

function shiftKey(shift: Gsm7Shift | undefined): string {
  return `${shift?.lockingShift ?? 'default'}/${shift?.singleShift ?? 'default'}`;
}

function tablesOf(shift: Gsm7Shift | undefined): { locking: string; single: string } {
  const locking = LOCKING_SHIFT_TABLES[shift?.lockingShift ?? 'default'];
  const single = SINGLE_SHIFT_TABLES[shift?.singleShift ?? 'default'];
  if (locking === undefined || single === undefined) {
    throw new SmsError('invalid_argument', `no GSM 7-bit shift table for ${shiftKey(shift)}`);
  }
  return { locking, single };
}

function buildEncoder(shift: Gsm7Shift | undefined): Uint16Array {
  const { locking, single } = tablesOf(shift);
  const map = new Uint16Array(0x10000);
  // Single-shift first so that a character in both tables takes the one-septet locking form.
  // Where a table repeats a character, the later septet wins (see the Kannada note).
  for (let code = 0; code < 128; code++) {
    const ch = single.charCodeAt(code);
    if (ch !== 0 && code !== ESC) map[ch] = IN_SINGLE | code;
  }
  for (let code = 0; code < 128; code++) {
    const ch = locking.charCodeAt(code);
    if (ch !== 0 && code !== ESC) map[ch] = IN_LOCKING | code;
  }
  return map;
}

const defaultEncoder = buildEncoder(undefined);

/** The code-unit lookup for a shift-table pair (built once, then cached). */
export function gsm7Encoder(shift?: Gsm7Shift): Uint16Array {
  if (!shift?.lockingShift && !shift?.singleShift) return defaultEncoder;
  const key = shiftKey(shift);
  let map = encoders.get(key);
  if (!map) {
    map = buildEncoder(shift);
    encoders.set(key, map);
  }
  return map;
}

/**
 * Text to unpacked septets (one per octet), or undefined when some character is in neither
 * table. The hot path of splitting: no exception, one allocation.
 */
export function gsm7Septets(text: string, shift?: Gsm7Shift): Buffer | undefined {
  const map = gsm7Encoder(shift);
  const out = Buffer.allocUnsafe(text.length * 2);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const entry = map[text.charCodeAt(i)]!;
    if (entry & IN_LOCKING) out[n++] = entry & 0x7f;
    else if (entry & IN_SINGLE) {
      out[n++] = ESC;
      out[n++] = entry & 0x7f;
    } else return undefined;
  }
  return out.subarray(0, n);
}

/** Septets needed for `text`, or -1 when some character is in neither table. */
export function gsm7Length(text: string, shift?: Gsm7Shift): number {
  const map = gsm7Encoder(shift);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const entry = map[text.charCodeAt(i)]!;
    if (entry & IN_LOCKING) n++;
    else if (entry & IN_SINGLE) n += 2;
    else return -1;
  }
  return n;
}

export function isGsm7(text: string, shift?: Gsm7Shift): boolean {
  return gsm7Length(text, shift) >= 0;
}

/** The distinct characters (code points) of `text` that the tables cannot represent. */
export function unencodableGsm7Characters(text: string, shift?: Gsm7Shift): string[] {
  const map = gsm7Encoder(shift);
  const found = new Set<string>();
  for (const ch of text) if (ch.length > 1 || map[ch.charCodeAt(0)] === 0) found.add(ch);
  return [...found];
}

/** Text to unpacked septets; throws SmsError('unencodable') naming what does not fit. */
export function encodeGsm7(text: string, shift?: Gsm7Shift): Buffer {
  const septets = gsm7Septets(text, shift);
  if (septets) return septets;
  const bad = unencodableGsm7Characters(text, shift);
  throw new SmsError(
    'unencodable',
    `not representable in GSM 7-bit (${shiftKey(shift)}): ${describeCharacters(bad)}`,
  );
}

/**
 * Unpacked septets to text. Tolerant: an octet above 0x7F or a septet a table leaves
 * undefined reads as U+FFFD; an escape followed by a code the single-shift table lacks reads
 * as the locking-table character (TS 23.038 6.2.1.1), ESC ESC and a trailing ESC as a space.
 */
export function decodeGsm7(septets: Uint8Array, shift?: Gsm7Shift): string {
  const key = shiftKey(shift);
  let tables = decoders.get(key);
  if (!tables) {
    tables = tablesOf(shift);
    decoders.set(key, tables);
  }
  const { locking, single } = tables;
  let out = '';
  for (let i = 0; i < septets.length; i++) {
    let code = septets[i]!;
    if (code > 0x7f) {
      out += '\ufffd';
      continue;
    }
    if (code === ESC) {
      code = i + 1 < septets.length ? septets[++i]! : ESC;
      if (code === ESC || code > 0x7f) {
        out += ' ';
        continue;
      }
      const ch = single[code]!;
      if (ch !== '\0') {
        out += ch;
        continue;
      }
    }
    const ch = locking[code]!;
    out += ch === '\0' ? '\ufffd' : ch;
  }
  return out;
}

/**
 * Packs septets into octets, least significant bit first (TS 23.038 6.1.2.1.1). `fillBits`
 * zero bits come first, to start the text on a septet boundary after a UDH (see udhFillBits).
 */
export function packSeptets(septets: Uint8Array, fillBits = 0): Buffer {
  if (!Number.isInteger(fillBits) || fillBits < 0 || fillBits > 6) {
    throw new SmsError('invalid_argument', `fillBits must be 0..6, not ${fillBits}`);
  }
  const out = Buffer.alloc(Math.ceil((fillBits + septets.length * 7) / 8));
  let bit = fillBits;
  for (let i = 0; i < septets.length; i++) {
    const septet = septets[i]! & 0x7f;
    const at = bit >> 3;
    const shift = bit & 7;
    out[at] = out[at]! | ((septet << shift) & 0xff);
    if (shift > 1) out[at + 1] = septet >> (8 - shift);
    bit += 7;
  }
  return out;
}

/**
 * Unpacks `count` septets (default: as many as the octets hold) after `fillBits` leading
 * bits. Asking for more septets than the octets hold yields only those that fit.
 */
export function unpackSeptets(packed: Uint8Array, count?: number, fillBits = 0): Buffer {
  if (!Number.isInteger(fillBits) || fillBits < 0 || fillBits > 6) {
    throw new SmsError('invalid_argument', `fillBits must be 0..6, not ${fillBits}`);
  }
  const fits = Math.max(0, Math.floor((packed.length * 8 - fillBits) / 7));
  const n = count === undefined ? fits : Math.max(0, Math.min(count, fits));
  const out = Buffer.allocUnsafe(n);
  let bit = fillBits;
  for (let i = 0; i < n; i++) {
    const at = bit >> 3;
    const shift = bit & 7;
    let value = packed[at]! >> shift;
    if (shift > 1) value |= packed[at + 1]! << (8 - shift);
    out[i] = value & 0x7f;
    bit += 7;
  }
  return out;
}

/** Fill bits between a UDH of `udhLength` octets (UDHL included) and packed 7-bit text. */
export function udhFillBits(udhLength: number): number {
  return (7 - ((udhLength * 8) % 7)) % 7;
}
