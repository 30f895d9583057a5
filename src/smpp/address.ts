// Addresses between the gateway's form (`+E164`, short code digits, alphanumeric sender) and
// SMPP's (digits with a TON and NPI). One rule set for every side that writes PDUs.
import { Ton } from './constants.ts';

export interface SmppAddress {
  ton: number;
  npi: number;
  address: string;
}

/** `+447700900123` → 1/1 `447700900123`; up to 8 digits → 3/0; `0…` → 2/1; letters → 5/0. */
export function toSmppAddress(value: string): SmppAddress {
  if (/^\+\d+$/.test(value)) return { ton: Ton.INTERNATIONAL, npi: 1, address: value.slice(1) };
  if (/^\d{1,8}$/.test(value)) return { ton: Ton.NETWORK_SPECIFIC, npi: 0, address: value };
  if (/^0\d+$/.test(value)) return { ton: Ton.NATIONAL, npi: 1, address: value };
  if (/^\d+$/.test(value)) return { ton: Ton.INTERNATIONAL, npi: 1, address: value };
  return { ton: Ton.ALPHANUMERIC, npi: 0, address: value };
}

/** An address as the gateway writes numbers: international ones with their `+`. */
export function fromSmppAddress(address: string, ton: number): string {
  return ton === Ton.INTERNATIONAL && /^\d+$/.test(address) ? `+${address}` : address;
}
