// Transport helpers shared by the protocol clients.
export { Backoff, type BackoffLimits, defaultReconnect } from './backoff.ts';
