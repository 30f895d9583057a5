// The web console at /console: static HTML, CSS and browser modules that use the REST API
// (/v1, /v1/admin, /metrics) with the key the user signs in with.
export { consolePlugin, consoleSecurityHeaders } from './serve.ts';
