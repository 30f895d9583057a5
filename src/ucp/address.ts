// Addresses between the gateway's form (`+E164`, short code digits, alphanumeric sender) and
// UCP's: digits in AdC/OAdC (an international number without its `+`, OTOA 1139), or an
// alphanumeric OAdC packed as GSM 7-bit with OTOA 5039.
import { decodeAlphanumericAddress, encodeAlphanumericAddress } from './fields.ts';

export const Otoa = { INTERNATIONAL: '1139', ALPHANUMERIC: '5039' } as const;

/** The sender as OAdC and OTOA (OTOA empty: the SMSC's default numbering). */
export function toUcpOriginator(from: string): { OAdC: string; OTOA: string } {
  if (/^\+\d+$/.test(from)) return { OAdC: from.slice(1), OTOA: Otoa.INTERNATIONAL };
  if (/^\d+$/.test(from)) return { OAdC: from, OTOA: '' };
  return { OAdC: encodeAlphanumericAddress(from), OTOA: Otoa.ALPHANUMERIC };
}

/** A recipient as AdC: digits, an international number without its `+`. */
export function toUcpRecipient(to: string): string {
  return to.replace(/^\+(?=\d)/, '');
}

/**
 * An address as the gateway writes numbers: international ones (OTOA 1139, a `00` prefix,
 * or nine digits or more not starting with 0) with their `+`; short codes and national
 * numbers as they are; an OTOA 5039 sender decoded.
 */
export function fromUcpAddress(address: string, otoa = ''): string {
  if (otoa === Otoa.ALPHANUMERIC) return decodeAlphanumericAddress(address);
  if (!/^\d+$/.test(address)) return address;
  if (otoa === Otoa.INTERNATIONAL) return `+${address}`;
  if (address.startsWith('00') && address.length > 4) return `+${address.slice(2)}`;
  if (address.length > 8 && !address.startsWith('0')) return `+${address}`;
  return address;
}
