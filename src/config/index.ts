export { ConfigError, loadConfigFile, parseConfig, validateConfig } from './load.ts';
export type * from './types.ts';
