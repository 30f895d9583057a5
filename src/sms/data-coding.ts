// data_coding (SMPP 3.4 5.2.19 / SMPP 5.0 4.7.7) and the GSM Data Coding Scheme it embeds
// (3GPP TS 23.038 4): which text encoding and message class a value means, and which value
// to send for an encoding. 0x00-0x0F are SMPP's own values; from 0x10 up the octet is read as
// a GSM DCS, as SMSCs pass them through.
import type { Encoding } from './charsets.ts';
import { SmsError } from './errors.ts';

/** Message class (TS 23.038 4): 0 = flash (shown, not stored), 1 = ME, 2 = SIM, 3 = TE. */
export type MessageClass = 0 | 1 | 2 | 3;

export interface DataCodingInfo {
  encoding: Encoding;
  messageClass?: MessageClass;
  /** Compressed user data (TS 23.042); `encoding` is then what it decompresses to. */
  compressed?: boolean;
  /**
   * An SMPP alphabet this layer does not decode (JIS, Cyrillic, Hebrew, pictogram, ISO-2022-JP,
   * extended Kanji, KS C 5601, or a reserved value); `encoding` is then 'binary'.
   */
  charset?: string;
  /** Message waiting indication groups (0xC0-0xEF). */
  waitingIndication?: {
    /** false in the "discard message" group (0xC0-0xCF). */
    store: boolean;
    active: boolean;
    type: 'voicemail' | 'fax' | 'email' | 'other';
  };
}

const smppAlphabets: readonly (Encoding | string)[] = [
  'gsm7', // 0x00 SMSC default alphabet, taken to be GSM 7-bit
  'ascii', // 0x01 IA5 (CCITT T.50) / ASCII
  'binary', // 0x02 octet unspecified
  'latin1', // 0x03 ISO-8859-1
  'binary', // 0x04 octet unspecified
  'jis', // 0x05 JIS X 0208-1990
  'iso-8859-5', // 0x06 Cyrillic
  'iso-8859-8', // 0x07 Latin/Hebrew
  'ucs2', // 0x08 UCS-2
  'pictogram', // 0x09
  'iso-2022-jp', // 0x0A music codes
  'reserved', // 0x0B
  'reserved', // 0x0C
  'extended-kanji-jis', // 0x0D JIS X 0212-1990
  'ks-c-5601', // 0x0E
  'reserved', // 0x0F
];

const gsmAlphabets: readonly Encoding[] = ['gsm7', 'binary', 'ucs2', 'gsm7']; // 11: reserved, read as default
const indicationTypes = ['voicemail', 'fax', 'email', 'other'] as const;

export interface DataCodingOptions {
  /** What 0x00 (SMSC default alphabet) means on this link; GSM 7-bit unless configured. */
  smscDefault?: Encoding;
}

/** What a data_coding value means. Total: every octet value gives an answer. */
export function encodingFromDataCoding(dataCoding: number, options: DataCodingOptions = {}): DataCodingInfo {
  const dc = dataCoding & 0xff;
  if (dc === 0) return { encoding: options.smscDefault ?? 'gsm7' };
  if (dc < 0x10) {
    const alphabet = smppAlphabets[dc]!;
    return isKnown(alphabet) ? { encoding: alphabet } : { encoding: 'binary', charset: alphabet };
  }
  const group = dc >> 4;
  if (group <= 0x7) {
    // General data coding (00xx) and automatic deletion (01xx): bit 5 compressed, bit 4
    // class present, bits 3-2 alphabet, bits 1-0 class.
    const info: DataCodingInfo = { encoding: gsmAlphabets[(dc >> 2) & 3]! };
    if (dc & 0x20) info.compressed = true;
    if (dc & 0x10) info.messageClass = (dc & 3) as MessageClass;
    return info;
  }
  if (group <= 0xb) return { encoding: 'gsm7' }; // reserved groups: read as the default alphabet
  if (group <= 0xe) {
    return {
      encoding: group === 0xe ? 'ucs2' : 'gsm7',
      waitingIndication: { store: group !== 0xc, active: (dc & 8) !== 0, type: indicationTypes[dc & 3]! },
    };
  }
  // 0xF0-0xFF: message class control; bit 2 selects 8-bit data, bit 3 is reserved.
  return { encoding: dc & 4 ? 'binary' : 'gsm7', messageClass: (dc & 3) as MessageClass };
}

function isKnown(alphabet: string): alphabet is Encoding {
  return (
    alphabet === 'gsm7' ||
    alphabet === 'ascii' ||
    alphabet === 'binary' ||
    alphabet === 'latin1' ||
    alphabet === 'ucs2'
  );
}

export interface DataCodingFor {
  messageClass?: MessageClass;
  /** Class 0: shown at once and not stored. Same as messageClass: 0. */
  flash?: boolean;
}

/**
 * The data_coding to send `encoding` with. Without a class: 0x00 gsm7 (SMSC default), 0x01
 * ascii, 0x03 latin1, 0x04 binary, 0x08 ucs2. With one: 0xF0-0xF3 gsm7, 0xF4-0xF7 binary,
 * 0x18-0x1B ucs2; latin1 and ascii cannot carry a class (SmsError 'invalid_argument').
 */
export function dataCodingFor(encoding: Encoding, options: DataCodingFor = {}): number {
  const cls = options.flash ? 0 : options.messageClass;
  if (cls !== undefined && !(cls === 0 || cls === 1 || cls === 2 || cls === 3)) {
    throw new SmsError('invalid_argument', `message class must be 0-3, not ${String(cls)}`);
  }
  if (options.flash && options.messageClass !== undefined && options.messageClass !== 0) {
    throw new SmsError('invalid_argument', `flash means class 0, not class ${options.messageClass}`);
  }
  switch (encoding) {
    case 'gsm7':
      return cls === undefined ? 0x00 : 0xf0 | cls;
    case 'binary':
      return cls === undefined ? 0x04 : 0xf4 | cls;
    case 'ucs2':
      return cls === undefined ? 0x08 : 0x18 | cls;
    case 'latin1':
    case 'ascii':
      if (cls !== undefined) {
        throw new SmsError('invalid_argument', `no data_coding carries a message class with ${encoding}`);
      }
      return encoding === 'latin1' ? 0x03 : 0x01;
    default:
      throw new SmsError('invalid_argument', `unknown encoding ${String(encoding)}`);
  }
}
