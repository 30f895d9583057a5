// The front doors: the HTTP API (REST, health, metrics, OpenAPI, admin) and the SMPP
// server for ESME accounts.

export { bodiesHeld } from './body-bytes.ts';
export { csvCell, csvParser, csvRefusal } from './csv.ts';
export { refuseUnknownItemFields } from './fields.ts';
export {
  bodyNestedTooDeep,
  buildHttpApi,
  type HttpApiOptions,
  type HttpPlugin,
  maxBodyDepth,
  metricsRoute,
  objectBody,
} from './http.ts';
export { linkRedirectRoutes, messageLinkRoutes } from './links.ts';
export { type FullLookup, lookUpBoth } from './lookup.ts';
export { directionOf } from './message-search.ts';
export { gatewayMetrics, type Metrics } from './metrics.ts';
export { cursorRefused, maxPageSize, pageLimit, timeParam } from './paging.ts';
export { type ConnectorReadiness, connectorReadiness, type ReadinessOptions, readyRoutes } from './ready.ts';
export { SmppFront, type SmppFrontOptions } from './smpp.ts';
export {
  readJsonUploads,
  type UploadSlots,
  uploadSlots,
  uploadStream,
  uploadsRunning,
  wholeJsonParser,
} from './uploads.ts';
