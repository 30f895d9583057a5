// Public surface of the `http` connector: the connector, its push routes, and the pieces of
// a provider for those who test against one.
export {
  HttpConnector,
  type HttpConnectorOptions,
  providerFor,
  pushSecret,
  retryAfterMs,
} from './connector.ts';
export type { Provider, ProviderSms, Push, PushUrls } from './provider.ts';
export { httpPushRoutes } from './routes.ts';
