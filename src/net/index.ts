// Transport helpers shared by the protocol clients and the listeners.
export { Backoff, type BackoffLimits, defaultReconnect } from './backoff.ts';
export { ConnectionsPerAddress } from './per-address.ts';
