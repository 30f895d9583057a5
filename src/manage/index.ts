// Live management: accounts, keys, SMPP credentials and MT routes changed at run time,
// the config file reloaded, every change audited.
export { adminActor, managementRoutes } from './http.ts';
export {
  type AuditEntry,
  accountView,
  type EffectiveConfig,
  type ManagedAccount,
  Management,
  type ManagementOptions,
} from './management.ts';
