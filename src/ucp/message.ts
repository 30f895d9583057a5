// A message as the bodies of its 50-series operations, one per part: text that IRA can
// write goes as MT 3 (the SMSC packs it into GSM 7-bit), other GSM text (€, Greek capitals)
// as UCS-2, and UCS-2 or binary content as MT 4 octets; a long one in parts with a
// concatenation UDH in XSer.
import type { Encoding, SplitResult } from '../sms/index.ts';
import { decodeText, splitBinary, splitMessage } from '../sms/index.ts';
import { dataBody, isIraText, textBody } from './fields.ts';
import type { Op5x } from './operations.ts';

export interface BodyOptions {
  /** Concatenation reference (8-bit) of a long message; default: splitMessage's counter. */
  reference?: number;
  flash?: boolean;
}

const textEncodings = new Set<Encoding>(['gsm7', 'ascii', 'latin1']);

export function textBodies(text: string, encoding: Encoding | 'auto', options: BodyOptions): Op5x[] {
  const chosen = !isIraText(text) && (encoding === 'auto' || encoding === 'gsm7') ? 'ucs2' : encoding;
  const split = splitMessage(text, { ...layout(options), encoding: chosen });
  if (textEncodings.has(split.encoding) && isIraText(text))
    return split.parts.map((part) => textBody(decodeText(part.payload, split.encoding), part.udh ?? null));
  return dataBodies(split);
}

export function binaryBodies(octets: Buffer, options: BodyOptions): Op5x[] {
  return dataBodies(splitBinary(octets, layout(options)));
}

function dataBodies(split: SplitResult): Op5x[] {
  return split.parts.map((part) => dataBody(part.payload, split.dataCoding, part.udh ?? null));
}

function layout(options: BodyOptions) {
  return {
    mode: 'udh',
    reference: options.reference,
    referenceBits: 8,
    maxParts: 255,
    flash: options.flash ?? false,
  } as const;
}
