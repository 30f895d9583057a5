// The validated config (defaults filled in). Mirrors schema.ts.

export interface GatewayConfig {
  /** `tls`: HTTPS on `listen` with these PEM files. */
  http: {
    listen: string;
    tls?: { cert: string; key: string };
    /** Where providers reach this gateway (http connectors' receipt and inbound URLs). */
    publicUrl?: string;
    maxConnections?: number;
    maxConnectionsPerAddress?: number;
    maxPipelined?: number;
    writeStallSeconds?: number;
    maxUploads?: number;
    maxUploadMegabytes?: number;
    maxBodyMegabytes?: number;
    bodyIdleSeconds?: number;
    bodyMinBytesPerSecond?: number;
  };
  smppServer?: {
    listen?: string;
    tls?: { listen: string; cert: string; key: string; ca?: string };
    maxConnections?: number;
    maxConnectionsPerAddress?: number;
    bindTimeoutSeconds?: number;
    writeStallSeconds?: number;
  };
  store: string;
  admin: { apiKeys: string[] };
  accounts: AccountConfig[];
  connectors: ConnectorConfig[];
  routes: { mt: MtRouteConfig[]; mo: MoRouteConfig[] };
  optOut: OptOutConfig;
  pricing?: PriceConfig[];
  /** Every account's SMS-pumping limits, unless its `policy.pumping` sets its own. */
  pumping?: PumpingConfig;
  /**
   * `allow`: loopback/private/reserved ranges and hosts client callbacks may reach;
   * `concurrency`, `receiverConcurrency`: webhook requests in flight, in all and to one receiver.
   */
  callbacks?: { allow: string[]; concurrency: number; receiverConcurrency: number };
  /** `apiKey`: /metrics asks for it (or an admin key); `listen`: /metrics served there only. */
  metrics?: { apiKey?: string; listen?: string };
  /** JSON log lines on stdout at this level and above (SMSGW_LOG_LEVEL overrides it). */
  log?: { level: LogLevel };
  /** Seconds a SIGTERM/SIGINT may take before what is left is cut (default 10). */
  shutdownGraceSeconds?: number;
  /** The online number lookup, for `network` matches and GET /v1/lookup/{number}. */
  lookup?: NumberLookupConfig;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** STOP/START/HELP handling of inbound messages (the defaults fill what is not given). */
export interface OptOutConfig {
  enabled: boolean;
  /** A STOP suppresses the number for the whole account, or only for the number it was sent to. */
  scope: 'account' | 'sender';
  /** Words added to the built-in lists (other languages...). */
  stopWords?: string[];
  startWords?: string[];
  helpWords?: string[];
  /** Confirmation texts; null sends none. */
  replies: { stop?: string | null; start?: string | null; help?: string | null };
  /** Error codes of undelivered receipts that suppress the number (e.g. unknown subscriber). */
  receiptErrors: string[];
}

export interface AccountConfig {
  id: string;
  apiKeys: string[];
  /** Twilio compatibility: the account's SID; inbound messages POSTed to smsUrl as Twilio does. */
  twilio?: { accountSid: string; smsUrl?: string };
  smpp?: { systemId: string; password: string; maxBinds: number; allowIps?: string[] };
  /** `statuses`: which message statuses are reported (default: submitted and every final one). */
  webhook?: { url: string; secret?: string; statuses?: string[] };
  defaultFrom?: string;
  /** ISO 3166 alpha-2: numbers written without `+` are read in this country. */
  defaultCountry?: string;
  mps: number;
  verify?: VerifySettingsConfig;
  /** `senders`: the only senders (patterns) the account may use, and no other account. */
  policy?: AccountPolicyConfig;
  /** Sender pools: a message naming one gets its sender from it. */
  services?: SenderServiceConfig[];
  /** Absent: never refused for money. Amounts in the currency's main unit. */
  billing?: {
    type: 'prepaid' | 'postpaid';
    currency: string;
    creditLimit?: number;
    lowBalance?: number;
    plan?: string;
  };
  /** URLs in its messages' text become short links served by the gateway (`/l/{code}`), clicks counted. */
  links?: { shorten: boolean; baseUrl?: string };
}

/** What an account may send (see src/billing). */
export interface AccountPolicyConfig {
  senders?: string[];
  /** Patterns or ISO 3166 alpha-2 codes. */
  destinations?: { allow?: string[]; deny?: string[] };
  dailyQuota?: number;
  monthlyQuota?: number;
  /** Addresses or CIDR ranges its API keys are taken from. */
  allowIps?: string[];
  /**
   * Per API key (by the key), addresses it is taken from, instead of `allowIps`: written in
   * the file as `apiKeys: [{key, allowIps}]`, which the loader turns into plain keys and this.
   */
  keyAllowIps?: Record<string, string[]>;
  pumping?: PumpingConfig;
  /** Refuse (`not_mobile`) numbers the offline lookup does not call mobile. */
  mobileOnly?: boolean;
}

/** SMS-pumping limits: messages to numbers sharing their first `prefixDigits` digits, per window. */
export interface PumpingConfig {
  prefixDigits: number;
  maxPerPrefix: number;
  windowSeconds: number;
}

/** A price per part; the first entry that matches a message prices it. */
export interface PriceConfig {
  match?: { to?: string[]; account?: string | string[]; plan?: string };
  price: number;
  currency: string;
}

/** One-time passwords per account; what is absent takes the defaults of src/apps/verify.ts. */
export interface VerifySettingsConfig {
  codeLength?: number;
  ttlSeconds?: number;
  /** Wrong checks before the verification is `max_attempts_reached`. */
  maxChecks?: number;
  /** Codes sent to one number within sendWindowSeconds. */
  maxSends?: number;
  sendWindowSeconds?: number;
  /** SMS pumping defence: sends to numbers sharing their first prefixDigits digits... */
  prefixDigits?: number;
  /** ...at most this many per velocityWindowSeconds (0: no limit), */
  maxPerPrefix?: number;
  /** and for the whole account (0: no limit). */
  maxPerAccount?: number;
  velocityWindowSeconds?: number;
  /** ISO 3166 codes; empty or absent: every country not blocked. */
  allowedCountries?: string[];
  blockedCountries?: string[];
  from?: string;
  /** The text sent; `{{code}}` and `{{minutes}}` are filled in. */
  template?: string;
  /** Texts by locale (`fr`, `pt-BR`), picked by the request's `locale`. */
  templates?: Record<string, string>;
}

export type ConnectorConfig =
  | SimulatorConnectorConfig
  | SmppConnectorConfig
  | Cimd2ConnectorConfig
  | UcpConnectorConfig
  | HttpConnectorConfig
  | ModemConnectorConfig;

/** GSM modems on serial ports, one bind each (AT commands, PDU mode). */
export interface ModemConnectorConfig {
  id: string;
  type: 'modem';
  /** Serial devices, e.g. /dev/ttyUSB0. */
  devices: string[];
  /** The SIM PIN, when the SIMs ask for one. */
  pin?: string;
  baudRate: number;
  commandTimeoutSeconds: number;
  sendTimeoutSeconds: number;
  pollSeconds: number;
  costs?: ConnectorCostConfig[];
}

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
  costs?: ConnectorCostConfig[];
}

/** What a part sent through a connector costs for destinations matching `to` (first match wins). */
export interface ConnectorCostConfig {
  to: string[];
  cost: number;
}

export interface SmppConnectorConfig {
  id: string;
  type: 'smpp';
  host: string;
  port: number;
  /** `true`: TLS verified against the system's CAs; `ca` a PEM file path. */
  tls: boolean | { ca?: string; servername?: string; rejectUnauthorized?: boolean };
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
  /** How the SMSC writes message ids in receipt texts (see ReceiptIdForm in src/smpp). */
  receiptIds: 'as-submitted' | 'decimal' | 'hex';
  costs?: ConnectorCostConfig[];
}

/** Conditions MT and MO rules share beyond address patterns (see src/core/route-match.ts). */
export interface RuleConditionsConfig {
  /** A weekly window: `hours` "HH:MM-HH:MM" and `days` (mon..sun), read in `tz` (default UTC). */
  time?: { days?: Array<'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun'>; hours?: string; tz?: string };
  /** Periods: dates YYYY-MM-DD (whole days, inclusive) or timestamps with an offset. */
  dates?: Array<{ from?: string; to?: string }>;
  /** A pattern (or patterns) on the text: `re:(?i)^promo`. */
  text?: string | string[];
  /** ISO 3166 codes of the recipient's (MT) or sender's (MO) number. */
  country?: string[];
  /** Line types of that number (`mobile`, `fixed_line`...), from the offline lookup. */
  lineType?: string[];
  /** MCC+MNC (`23415`, `234-15`) or MCCs of that number's network, from the online lookup. */
  network?: string[];
}

/** The online number lookup (HLR / number portability) over HTTP (see src/connectors/http/number-lookup.ts). */
export interface NumberLookupConfig {
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: Record<string, string>;
  /** Dotted paths into the JSON answer. */
  response: { mcc?: string; mnc?: string; network?: string; ported?: string; carrier?: string };
  ttlSeconds: number;
  timeoutMs: number;
  cacheSize: number;
  onError: 'skip' | 'refuse';
}

/** A sender pool (Twilio's Messaging Service) of an account. */
export interface SenderServiceConfig {
  id: string;
  /** Twilio's MessagingServiceSid for it (MG…). */
  sid?: string;
  senders: string[];
  sticky: boolean;
  geomatch: boolean;
  alphanumeric?: string;
  alphanumericCountries?: string[];
}

/** What the SMSC clients over their own TCP protocols (CIMD2, UCP/EMI) share. */
interface SmscClientConfig {
  id: string;
  costs?: ConnectorCostConfig[];
  host: string;
  port: number;
  username: string;
  password: string;
  binds: number;
  window: number;
  tps: number;
  requestTimeoutSeconds: number;
}

export interface Cimd2ConnectorConfig extends SmscClientConfig {
  type: 'cimd2';
  aliveSeconds: number;
  /** Put a checksum on every packet sent. */
  checksum: boolean;
}

/** A UCP/EMI client (SMT) to an SMSC. */
export interface UcpConnectorConfig extends SmscClientConfig {
  type: 'ucp';
  /** Sent as OAdC of the login (operation 60). */
  username: string;
  keepAliveSeconds: number;
}

/** An upstream provider over HTTP: a preset's credentials, or generic request and mapping settings. */
export interface HttpConnectorConfig {
  id: string;
  type: 'http';
  costs?: ConnectorCostConfig[];
  preset?: 'twilio' | 'kannel' | 'smsgw' | 'vonage';
  url?: string;
  username?: string;
  password?: string;
  accountSid?: string;
  authToken?: string;
  apiKey?: string;
  apiSecret?: string;
  /** Authenticates pushed receipts and inbound; absent: derived from the credentials. */
  secret?: string;
  method: 'POST' | 'GET';
  format: 'json' | 'form';
  headers?: Record<string, string>;
  auth?: {
    type: 'basic' | 'bearer' | 'hmac';
    username?: string;
    password?: string;
    token?: string;
    secret?: string;
    header?: string;
  };
  /** Field → template (`{{to}}`, `{{text}}`...). */
  body?: Record<string, string>;
  accepted: { status?: number[]; idPath?: string; errorPath?: string };
  receipts?: {
    /** Where a push holds a list of receipts; the other paths are read in each. */
    listPath?: string;
    idPath: string;
    statusPath: string;
    errorPath?: string;
    statuses?: Record<
      string,
      'delivered' | 'undelivered' | 'expired' | 'rejected' | 'failed' | 'accepted' | 'unknown'
    >;
  };
  inbound?: { fromPath: string; toPath: string; textPath: string };
  /** whole: the provider splits long text; parts: one request per part. */
  longMessages: 'whole' | 'parts';
  tps: number;
  concurrency: number;
  timeoutSeconds: number;
}

export interface MtRouteConfig {
  match?: { to?: string[]; from?: string[]; account?: string[]; tags?: string[] } & RuleConditionsConfig;
  connectors: string[];
  strategy: 'failover' | 'roundrobin' | 'weighted' | 'least-cost';
  /** least-cost only: weigh costs by measured delivery (see MtRouter's ordering cost). */
  quality?: { minReceipts?: number; latencyCost?: number };
  weights?: Record<string, number>;
  interceptor?: InterceptorConfig;
}

/** A JavaScript module that sees each message its rule takes (src/core/interceptors.ts). */
export interface InterceptorConfig {
  /** Path of the module (relative to the working directory). */
  module: string;
  timeoutMs: number;
  /** What a failure (error, timeout) does: let the message through unchanged, or refuse it. */
  onError: 'accept' | 'refuse';
}

export interface MoRouteConfig {
  match?: { to?: string[]; from?: string[]; connector?: string[]; keyword?: string[] } & RuleConditionsConfig;
  /** The account that owns the message: its webhook and SMPP receiver binds get it. */
  account?: string;
  /** Forward to a URL (Kannel-style escapes, or the JSON webhook); its body may be the reply. */
  url?: { url: string; method: 'GET' | 'POST'; format: 'kannel' | 'json'; replyWithBody: boolean };
  /** Auto-reply template, sent from the number the message came to, over its connector. */
  reply?: string;
  interceptor?: InterceptorConfig;
}
