// Cross-checks of the online number lookup and the accounts' sender pools (`services`),
// beyond what the schema says: each problem names its path.
import { isCountryCode, needsNetwork, normaliseNumber } from '../core/index.ts';
import type { GatewayConfig } from './types.ts';

export function lookupAndServiceProblems(config: GatewayConfig): string[] {
  const problems: string[] = [];
  const response = config.lookup?.response;
  if (response && !response.network && !(response.mcc && response.mnc))
    problems.push('lookup.response: give mcc and mnc, or network');
  // A `network` rule without a lookup would silently never match.
  for (const kind of ['mt', 'mo'] as const)
    config.routes[kind].forEach((r, i) => {
      if (needsNetwork(r.match) && !config.lookup)
        problems.push(
          `routes.${kind}[${i}].match.network: needs the online number lookup (\`lookup\` at the top level)`,
        );
    });
  const sids = new Set<string>();
  config.accounts.forEach((a, i) => {
    const ids = new Set<string>();
    a.services?.forEach((s, j) => {
      const path = `accounts[${i}].services[${j}]`;
      if (ids.has(s.id)) problems.push(`${path}.id: duplicate id '${s.id}'`);
      ids.add(s.id);
      if (s.sid !== undefined) {
        if (sids.has(s.sid.toUpperCase())) problems.push(`${path}.sid: already used by another service`);
        sids.add(s.sid.toUpperCase());
      }
      s.senders.forEach((sender, k) => {
        if (normaliseNumber(sender, 'international') === undefined)
          problems.push(`${path}.senders[${k}]: expected a number in E.164 (+447400123456) or a short code`);
      });
      s.alphanumericCountries?.forEach((c, k) => {
        if (!isCountryCode(c))
          problems.push(
            `${path}.alphanumericCountries[${k}]: expected an ISO 3166 alpha-2 country code (GB)`,
          );
      });
      if (s.senders.length === 0 && s.alphanumeric === undefined)
        problems.push(`${path}.senders: give at least one sender, or an alphanumeric id`);
    });
  });
  return problems;
}
