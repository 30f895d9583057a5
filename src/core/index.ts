export { AccountLimits } from './account-limits.ts';
export {
  type Account,
  AccountRegistry,
  hashApiKey,
  hashPassword,
  secretEquals,
  verifyPassword,
} from './accounts.ts';
export { GatewayError, StoreUnavailableError } from './errors.ts';
export {
  Gateway,
  type GatewayOptions,
  type StoreHealth,
  type SubmitOptions,
  type SubmitRequest,
} from './gateway.ts';
export { newId } from './ids.ts';
export * from './message.ts';
export { countryOfNumber, normaliseNumber, normaliseSender, senderOf } from './numbers.ts';
export { compilePattern, compilePatterns, type Matcher } from './pattern.ts';
export { TokenBucket } from './rate.ts';
export { firstWord, foldKeyword } from './router.ts';
export { type Suppression, type SuppressionSource, Suppressions } from './suppressions.ts';
export { fillKannelEscapes, fillTemplate, templateNames } from './template.ts';
