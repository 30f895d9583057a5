// The front doors: the HTTP API (REST, health, metrics, OpenAPI, admin) and the SMPP
// server for ESME accounts.
export {
  buildHttpApi,
  directionOf,
  type HttpApiOptions,
  type HttpPlugin,
  metricsRoute,
  objectBody,
} from './http.ts';
export { linkRedirectRoutes, messageLinkRoutes } from './links.ts';
export { gatewayMetrics, type Metrics } from './metrics.ts';
export { cursorRefused, maxPageSize, pageLimit } from './paging.ts';
export { type ConnectorReadiness, connectorReadiness, type ReadinessOptions, readyRoutes } from './ready.ts';
export { SmppFront, type SmppFrontOptions } from './smpp.ts';
