// GET /v1/lookup/{number}: what the offline number lookup (libphonenumber's metadata) says
// of a number — the country routing's `match.country` reads, whether it is valid, its
// line type. No carrier is asked; ported numbers keep the country and type of their range.
import type { FastifyInstance } from 'fastify';
import { destinationOf, GatewayError, isCountryCode, lookupNumber } from '../core/index.ts';

export function lookupRoutes() {
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
      return lookupNumber(destinationOf(number, country ?? req.account.defaultCountry, 'number'));
    });
  };
}
