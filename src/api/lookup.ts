// GET /v1/lookup/{number}: what the offline number lookup (libphonenumber's metadata) says
// of a number — the country routing's `match.country` reads, whether it is valid, its
// line type — and, when an online lookup (`lookup` in the config) is configured, what it
// says now (`online`: the network `match.network` reads, whether the number was ported).
import type { FastifyInstance } from 'fastify';
import {
  destinationOf,
  GatewayError,
  isCountryCode,
  lookupNumber,
  type NetworkInfo,
  type NetworkLookup,
  type NumberLookup,
} from '../core/index.ts';

export interface FullLookup extends NumberLookup {
  /** Absent without an online lookup; null when it failed. */
  online?: (NetworkInfo & { cached: boolean }) | null;
}

/** Both lookups of a normalised number (the online one only for international numbers). */
export async function lookUpBoth(
  number: string,
  networkLookup: NetworkLookup | undefined,
): Promise<FullLookup> {
  const offline = lookupNumber(number);
  if (!networkLookup) return offline;
  const found = number.startsWith('+') ? await networkLookup.lookup(number) : null;
  return { ...offline, online: found ? { ...found.info, cached: found.cached } : null };
}

export function lookupRoutes(networkLookup: NetworkLookup | undefined) {
  return async (app: FastifyInstance) => {
    app.get('/v1/lookup/:number', async (req) => {
      const { number } = req.params as { number: string };
      const q = req.query as Record<string, string | undefined>;
      const country = q.country?.toUpperCase();
      if (country !== undefined && !isCountryCode(country))
        throw new GatewayError(
          'invalid_country',
          'country must be an ISO 3166 alpha-2 code such as GB',
          'country',
        );
      // Without `+`, read in the country asked for, else the account's (as `to` would be).
      return lookUpBoth(
        destinationOf(number, country ?? req.account.defaultCountry, 'number'),
        networkLookup,
      );
    });
  };
}
