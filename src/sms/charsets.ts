// The text encodings an SMS can use, as bytes on the wire: GSM 7-bit as unpacked septets (the
// SMPP form), UCS-2 as UTF-16BE (surrogate pairs pass through, as handsets expect), ISO-8859-1,
// IA5 (ASCII) and 8-bit binary. Encoding is strict; decoding is tolerant and never throws.
import { describeCharacters, SmsError } from './errors.ts';
import type { Gsm7Shift } from './gsm7.ts';
import { decodeGsm7, encodeGsm7, isGsm7 } from './gsm7.ts';

export const ENCODINGS = ['gsm7', 'ucs2', 'latin1', 'ascii', 'binary'] as const;
export type Encoding = (typeof ENCODINGS)[number];

export function isEncoding(value: unknown): value is Encoding {
  return typeof value === 'string' && (ENCODINGS as readonly string[]).includes(value);
}

const nonLatin1 = /[^\x00-\xff]/u;
const nonAscii = /[^\x00-\x7f]/u;

/** Whether every character of `text` has a representation in `encoding`. */
export function canEncode(text: string, encoding: Encoding, shift?: Gsm7Shift): boolean {
  switch (encoding) {
    case 'gsm7':
      return isGsm7(text, shift);
    case 'ucs2':
      return true;
    case 'latin1':
    case 'binary':
      return !nonLatin1.test(text);
    case 'ascii':
      return !nonAscii.test(text);
  }
}

/**
 * Text to the bytes of `encoding`: septets for gsm7 (one per octet), UTF-16BE for ucs2, one
 * octet per character otherwise ('binary' takes code points 0-255 as the octet values).
 * Throws SmsError('unencodable') when a character has no representation.
 */
export function encodeText(text: string, encoding: Encoding, shift?: Gsm7Shift): Buffer {
  switch (encoding) {
    case 'gsm7':
      return encodeGsm7(text, shift);
    case 'ucs2':
      return Buffer.from(text, 'utf16le').swap16();
    case 'latin1':
    case 'binary':
    case 'ascii': {
      const bad = encoding === 'ascii' ? nonAscii : nonLatin1;
      if (bad.test(text)) {
        const chars = [...new Set(Array.from(text).filter((c) => bad.test(c)))];
        throw new SmsError('unencodable', `not representable in ${encoding}: ${describeCharacters(chars)}`);
      }
      return Buffer.from(text, 'latin1');
    }
    default:
      throw new SmsError('invalid_argument', `unknown encoding ${String(encoding)}`);
  }
}

/**
 * Bytes of `encoding` to text. An odd trailing UCS-2 octet and an IA5 octet above 0x7F read
 * as U+FFFD; 'binary' reads each octet as the code point of the same value.
 */
export function decodeText(bytes: Uint8Array, encoding: Encoding, shift?: Gsm7Shift): string {
  switch (encoding) {
    case 'gsm7':
      return decodeGsm7(bytes, shift);
    case 'ucs2': {
      const even = bytes.length & ~1;
      const swapped = Buffer.from(bytes.subarray(0, even)).swap16();
      const text = swapped.toString('utf16le');
      return even === bytes.length ? text : `${text}\ufffd`;
    }
    case 'latin1':
    case 'binary':
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
    case 'ascii': {
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
      return nonAscii.test(text) ? text.replace(/[^\x00-\x7f]/gu, '\ufffd') : text;
    }
    default:
      throw new SmsError('invalid_argument', `unknown encoding ${String(encoding)}`);
  }
}
