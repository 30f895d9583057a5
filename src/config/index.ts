export { ConfigError, loadConfigFile, parseConfig, validateConfig, validateMoRoutes } from './load.ts';
export type * from './types.ts';
