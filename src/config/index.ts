export { type ConfigCheck, type ConfigFinding, checkConfigText, type ExtraCheck } from './check.ts';
export {
  addressEntryProblem,
  ConfigError,
  isCredentialHeader,
  loadConfigFile,
  parseConfig,
  validateConfig,
  validateMoRoutes,
} from './load.ts';
export { configReference } from './reference.ts';
export type * from './types.ts';
