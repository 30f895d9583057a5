export { AccountLimits } from './account-limits.ts';
export {
  type Account,
  type AccountLoadOptions,
  AccountRegistry,
  type ApiKeyInfo,
  apiKeyId,
  hashApiKey,
  hashPassword,
  secretEquals,
  verifyPassword,
} from './accounts.ts';
export { AuthGuard, type AuthGuardOptions } from './auth-guard.ts';
export { BoundedMap, stringBytes } from './bounded-map.ts';
export { GatewayError, RateLimitedError, StoreUnavailableError } from './errors.ts';
export {
  type AcceptHooks,
  checkedTags,
  Gateway,
  type GatewayOptions,
  refuseFarFuture,
  type StoreHealth,
  type SubmitOptions,
  type SubmitRequest,
} from './gateway.ts';
export { derivedId, newId } from './ids.ts';
export {
  type InterceptedMessage,
  type InterceptorChange,
  type InterceptorOutcome,
  InterceptorRefusal,
  type InterceptorReport,
  Interceptors,
  interceptorLoadProblems,
} from './interceptors.ts';
export { type LinkData, linkCodePattern, linkRecordKind, shortenLinks } from './links.ts';
export { isTimeZone, type LocalTime, localTime, minuteOfDay } from './local-time.ts';
export * from './message.ts';
export { fromMicros, toMicros } from './money.ts';
export type { NetworkInfo, NetworkLookup, NetworkLookupCounts } from './network.ts';
export type { CountryCode, NumberLookup, NumberReading } from './numbers.ts';
export {
  countryOfNumber,
  destinationOf,
  internationalDigits,
  isCountryCode,
  lookupNumber,
  nationalFormat,
  normaliseNumber,
  normaliseSender,
  senderOf,
} from './numbers.ts';
export { compilePattern, compilePatterns, type Matcher, patternProblem } from './pattern.ts';
export { TokenBucket } from './rate.ts';
export { matchProblems, needsNetwork } from './route-match.ts';
export { type QualityFigures, qualityWindow, RouteQuality } from './route-quality.ts';
export {
  firstWord,
  foldKeyword,
  inboundOwner,
  type MtRouteExplanation,
  type MtRouteInput,
  systemAccountId,
  tagsOf,
} from './router.ts';
export { type Suppression, type SuppressionSource, Suppressions } from './suppressions.ts';
export { fillKannelEscapes, fillTemplate, templateNames } from './template.ts';
export { type VelocityBudget, VelocityLimits } from './velocity.ts';
