// Public surface of the `http` connector: the connector, the routes providers push to, and
// the shape of a push (for tests that push without a server).
export { HttpConnector, type HttpConnectorOptions } from './connector.ts';
export { HttpNumberLookup } from './number-lookup.ts';
export type { Push } from './provider.ts';
export { httpPushRoutes } from './routes.ts';
