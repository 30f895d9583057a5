// The validated config (defaults filled in). Mirrors schema.ts.

export interface GatewayConfig {
  http: { listen: string };
  smppServer?: { listen?: string; tls?: { listen?: string; cert: string; key: string; ca?: string } };
  store: string;
  admin: { apiKeys: string[] };
  accounts: AccountConfig[];
  connectors: ConnectorConfig[];
  routes: { mt: MtRouteConfig[]; mo: MoRouteConfig[] };
}

export interface AccountConfig {
  id: string;
  apiKeys: string[];
  twilio?: { accountSid: string };
  smpp?: { systemId: string; password: string; maxBinds: number };
  webhook?: { url: string; secret?: string };
  defaultFrom?: string;
  mps: number;
}

export type ConnectorConfig = SimulatorConnectorConfig | SmppConnectorConfig;

export interface SimulatorConnectorConfig {
  id: string;
  type: 'simulator';
  deliveryDelayMs: number;
  outcomes: Array<{
    to: string;
    status: 'delivered' | 'undelivered' | 'expired' | 'rejected' | 'failed';
    error?: string;
  }>;
  tps: number;
}

export interface SmppConnectorConfig {
  id: string;
  type: 'smpp';
  host: string;
  port: number;
  tls: boolean;
  systemId: string;
  password: string;
  systemType: string;
  interfaceVersion: '3.4' | '5.0';
  bindType: 'transmitter' | 'receiver' | 'transceiver';
  binds: number;
  window: number;
  tps: number;
  enquireLinkSeconds: number;
  requestTimeoutSeconds: number;
  longMessages: 'udh' | 'sar' | 'payload';
  sourceTon?: number;
  sourceNpi?: number;
  destTon: number;
  destNpi: number;
  broadcast: boolean;
}

export interface MtRouteConfig {
  match?: { to?: string[]; from?: string[]; account?: string[] };
  connectors: string[];
  strategy: 'failover' | 'roundrobin' | 'weighted';
  weights?: Record<string, number>;
}

export interface MoRouteConfig {
  match?: { to?: string[]; from?: string[]; connector?: string[]; keyword?: string[] };
  account: string;
}
