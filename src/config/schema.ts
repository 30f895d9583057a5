// The config file's JSON Schema (CONTRACT §2). Validation messages are built from it, so
// every bound a user can hit is written here once: type, range, pattern description.

const listen = {
  type: 'string',
  pattern: '^(\\[[0-9a-fA-F:.]+\\]|[^\\s:\\[\\]]+):([0-9]{1,5})$',
  description: 'host:port',
} as const;

/** pino's levels; `silent` logs nothing. */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const port = { type: 'integer', minimum: 1, maximum: 65535 } as const;
const nonEmpty = { type: 'string', minLength: 1 } as const;
const id = {
  type: 'string',
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$',
  description: 'an id of letters, digits, _ . -',
} as const;
const patternList = {
  type: 'array',
  items: { type: 'string', minLength: 1, maxLength: 256 },
  maxItems: 10_000,
} as const;

const tlsFiles = {
  type: 'object',
  additionalProperties: false,
  required: ['cert', 'key'],
  properties: { listen, cert: nonEmpty, key: nonEmpty, ca: nonEmpty },
} as const;

const simulatorConnector = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type'],
  properties: {
    id,
    type: { const: 'simulator' },
    deliveryDelayMs: { type: 'integer', minimum: 0, maximum: 86_400_000, default: 200 },
    outcomes: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['to', 'status'],
        properties: {
          to: nonEmpty,
          status: { enum: ['delivered', 'undelivered', 'expired', 'rejected', 'failed'] },
          error: { type: 'string', maxLength: 16 },
        },
      },
      default: [],
    },
    tps: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 },
  },
} as const;

const smppConnector = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'host', 'port', 'systemId', 'password'],
  properties: {
    id,
    type: { const: 'smpp' },
    host: nonEmpty,
    port,
    tls: { type: 'boolean', default: false },
    systemId: { type: 'string', minLength: 1, maxLength: 15 },
    password: { type: 'string', maxLength: 8 },
    systemType: { type: 'string', maxLength: 12, default: '' },
    interfaceVersion: { enum: ['3.4', '5.0'], default: '3.4' },
    bindType: { enum: ['transmitter', 'receiver', 'transceiver'], default: 'transceiver' },
    binds: { type: 'integer', minimum: 1, maximum: 64, default: 1 },
    window: { type: 'integer', minimum: 1, maximum: 4096, default: 64 },
    tps: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 },
    enquireLinkSeconds: { type: 'integer', minimum: 0, maximum: 3600, default: 30 },
    requestTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 600, default: 10 },
    longMessages: { enum: ['udh', 'sar', 'payload'], default: 'udh' },
    sourceTon: { type: 'integer', minimum: 0, maximum: 6 },
    sourceNpi: { type: 'integer', minimum: 0, maximum: 18 },
    destTon: { type: 'integer', minimum: 0, maximum: 6, default: 1 },
    destNpi: { type: 'integer', minimum: 0, maximum: 18, default: 1 },
    broadcast: { type: 'boolean', default: false },
    receiptIds: { enum: ['as-submitted', 'decimal', 'hex'], default: 'as-submitted' },
  },
} as const;

const mtRoute = {
  type: 'object',
  additionalProperties: false,
  required: ['connectors'],
  properties: {
    match: {
      type: 'object',
      additionalProperties: false,
      properties: { to: patternList, from: patternList, account: patternList },
    },
    connectors: { type: 'array', items: id, minItems: 1 },
    strategy: { enum: ['failover', 'roundrobin', 'weighted'], default: 'failover' },
    weights: { type: 'object', additionalProperties: { type: 'integer', minimum: 0, maximum: 1_000_000 } },
  },
} as const;

const httpUrl = { type: 'string', pattern: '^https?://', description: 'an http:// or https:// URL' } as const;
/** An SMS text to send back; {{from}} {{to}} {{text}} {{keyword}} {{args}} are filled in. */
const replyTemplate = { type: 'string', minLength: 1, maxLength: 1600 } as const;

export const moRoute = {
  type: 'object',
  additionalProperties: false,
  properties: {
    match: {
      type: 'object',
      additionalProperties: false,
      properties: { to: patternList, from: patternList, connector: patternList, keyword: patternList },
    },
    account: id,
    url: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: httpUrl,
        method: { enum: ['GET', 'POST'], default: 'GET' },
        format: { enum: ['kannel', 'json'], default: 'kannel' },
        replyWithBody: { type: 'boolean', default: false },
      },
    },
    reply: replyTemplate,
  },
} as const;

const wordList = {
  type: 'array',
  items: { type: 'string', minLength: 1, maxLength: 32, pattern: '^\\S+$', description: 'one word' },
  maxItems: 100,
} as const;

const optOut = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean', default: true },
    scope: { enum: ['account', 'sender'], default: 'account' },
    stopWords: wordList,
    startWords: wordList,
    helpWords: wordList,
    replies: {
      type: 'object',
      additionalProperties: false,
      properties: {
        stop: { anyOf: [replyTemplate, { type: 'null' }] },
        start: { anyOf: [replyTemplate, { type: 'null' }] },
        help: { anyOf: [replyTemplate, { type: 'null' }] },
      },
      default: {},
    },
    receiptErrors: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 16 }, default: [] },
  },
  default: {},
} as const;

const countryList = {
  type: 'array',
  items: { type: 'string', pattern: '^[A-Z]{2}$', description: 'an ISO 3166 country code (GB, US...)' },
  maxItems: 300,
} as const;
const verifyTemplate = {
  type: 'string',
  minLength: 1,
  maxLength: 480,
  pattern: '\\{\\{\\s*code\\s*\\}\\}',
  description: 'a text holding {{code}}',
} as const;

/** One-time passwords (src/apps/verify.ts); what is left out takes the defaults there. */
const verifySettings = {
  type: 'object',
  additionalProperties: false,
  properties: {
    codeLength: { type: 'integer', minimum: 4, maximum: 10 },
    ttlSeconds: { type: 'integer', minimum: 30, maximum: 86_400 },
    maxChecks: { type: 'integer', minimum: 1, maximum: 100 },
    maxSends: { type: 'integer', minimum: 1, maximum: 1000 },
    sendWindowSeconds: { type: 'integer', minimum: 60, maximum: 86_400 },
    prefixDigits: { type: 'integer', minimum: 2, maximum: 15 },
    maxPerPrefix: { type: 'integer', minimum: 0, maximum: 1_000_000 },
    maxPerAccount: { type: 'integer', minimum: 0, maximum: 10_000_000 },
    velocityWindowSeconds: { type: 'integer', minimum: 60, maximum: 86_400 },
    allowedCountries: countryList,
    blockedCountries: countryList,
    from: { type: 'string', minLength: 1, maxLength: 20 },
    template: verifyTemplate,
    templates: { type: 'object', additionalProperties: verifyTemplate },
  },
} as const;

const account = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: {
    id,
    apiKeys: { type: 'array', items: { type: 'string', minLength: 8, maxLength: 256 }, default: [] },
    twilio: {
      type: 'object',
      additionalProperties: false,
      required: ['accountSid'],
      properties: {
        accountSid: {
          type: 'string',
          pattern: '^AC[0-9a-fA-F]{32}$',
          description: 'AC followed by 32 hex digits',
        },
        smsUrl: { type: 'string', pattern: '^https?://', description: 'an http:// or https:// URL' },
      },
    },
    smpp: {
      type: 'object',
      additionalProperties: false,
      required: ['systemId', 'password'],
      properties: {
        systemId: { type: 'string', minLength: 1, maxLength: 15 },
        password: { type: 'string', minLength: 1, maxLength: 8 },
        maxBinds: { type: 'integer', minimum: 1, maximum: 1000, default: 4 },
      },
    },
    webhook: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: { type: 'string', pattern: '^https?://', description: 'an http:// or https:// URL' },
        secret: { type: 'string', minLength: 1 },
        // The message statuses reported as `message.status` (default: submitted and every final one).
        statuses: {
          type: 'array',
          items: {
            enum: ['submitted', 'delivered', 'undelivered', 'expired', 'rejected', 'failed', 'canceled'],
          },
          minItems: 1,
          uniqueItems: true,
        },
      },
    },
    defaultFrom: { type: 'string', minLength: 1, maxLength: 20 },
    mps: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 },
    verify: verifySettings,
  },
} as const;

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    http: {
      type: 'object',
      additionalProperties: false,
      properties: { listen: { ...listen, default: '127.0.0.1:8080' } },
      default: {},
    },
    smppServer: {
      type: 'object',
      additionalProperties: false,
      properties: { listen, tls: tlsFiles },
    },
    store: {
      type: 'string',
      pattern: '^(sqlite:|postgres(ql)?://)',
      description: 'sqlite:PATH or postgres://…',
      default: 'sqlite:./var/smsgw.db',
    },
    admin: {
      type: 'object',
      additionalProperties: false,
      properties: {
        apiKeys: { type: 'array', items: { type: 'string', minLength: 8, maxLength: 256 }, default: [] },
      },
      default: {},
    },
    accounts: { type: 'array', items: account, default: [] },
    connectors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type'],
        properties: { type: { enum: ['simulator', 'smpp'] } },
        if: { properties: { type: { const: 'smpp' } } },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else, not a thenable
        then: smppConnector,
        else: simulatorConnector,
      },
      default: [],
    },
    routes: {
      type: 'object',
      additionalProperties: false,
      properties: {
        mt: { type: 'array', items: mtRoute, default: [] },
        mo: { type: 'array', items: moRoute, default: [] },
      },
      default: {},
    },
    optOut,
    log: {
      type: 'object',
      additionalProperties: false,
      properties: { level: { enum: logLevels, default: 'info' } },
      default: {},
    },
    /** How long SIGTERM/SIGINT may take: draining, then whatever is left is cut. */
    shutdownGraceSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 10 },
  },
} as const;
