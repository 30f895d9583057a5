export { AccountLimits } from './account-limits.ts';
export {
  type Account,
  AccountRegistry,
  hashApiKey,
  hashPassword,
  secretEquals,
  verifyPassword,
} from './accounts.ts';
export { AuthGuard, type AuthGuardOptions } from './auth-guard.ts';
export { BoundedMap } from './bounded-map.ts';
export { GatewayError, RateLimitedError, StoreUnavailableError } from './errors.ts';
export {
  type AcceptHooks,
  Gateway,
  type GatewayOptions,
  refuseFarFuture,
  type StoreHealth,
  type SubmitOptions,
  type SubmitRequest,
} from './gateway.ts';
export { newId } from './ids.ts';
export * from './message.ts';
export { fromMicros, toMicros } from './money.ts';
export type { CountryCode, NumberReading } from './numbers.ts';
export {
  countryOfNumber,
  destinationOf,
  internationalDigits,
  isCountryCode,
  normaliseNumber,
  normaliseSender,
  senderOf,
} from './numbers.ts';
export { compilePattern, compilePatterns, type Matcher } from './pattern.ts';
export { TokenBucket } from './rate.ts';
export { firstWord, foldKeyword, inboundOwner, systemAccountId } from './router.ts';
export { type Suppression, type SuppressionSource, Suppressions } from './suppressions.ts';
export { fillKannelEscapes, fillTemplate, templateNames } from './template.ts';
export { type VelocityBudget, VelocityLimits } from './velocity.ts';
