export { ConfigError, loadConfigFile, parseConfig, validateConfig, validateMoRoutes } from './load.ts';
export { configReference } from './reference.ts';
export type * from './types.ts';
