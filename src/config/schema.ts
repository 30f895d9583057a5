// The config file's JSON Schema (CONTRACT §2). Validation messages are built from it, so
// every bound a user can hit is written here once: type, range, pattern description.
import { getCountries } from 'libphonenumber-js/min';

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

/** SMS-pumping limits: messages to numbers sharing their first `prefixDigits` digits, per window. */
const pumping = {
  type: 'object',
  additionalProperties: false,
  description: 'SMS-pumping defence: messages to numbers sharing a prefix, per window',
  required: ['maxPerPrefix'],
  properties: {
    prefixDigits: { type: 'integer', minimum: 8, maximum: 15, default: 8 },
    maxPerPrefix: { type: 'integer', minimum: 1 },
    windowSeconds: { type: 'integer', minimum: 1, maximum: 86_400, default: 3600 },
  },
} as const;

/** An amount of money in the currency's main unit (2.50 is two and a half euros). */
const money = {
  type: 'number',
  minimum: 0,
  maximum: 1_000_000_000,
  description: 'an amount in the main unit',
} as const;
const currency = {
  type: 'string',
  pattern: '^[A-Z]{3}$',
  description: 'an ISO 4217 currency code (EUR, USD...)',
} as const;
/** CIDR ranges or addresses a credential may be used from (absent: anywhere). */
const addressList = {
  type: 'array',
  items: { type: 'string', minLength: 1, maxLength: 64 },
  maxItems: 1_000,
  description: 'addresses or CIDR ranges (10.0.0.0/8, 2001:db8::/32)',
} as const;

/** PEM files, paths from the working directory; load.ts checks that they read and parse. */
const certificateFiles = {
  type: 'object',
  additionalProperties: false,
  required: ['cert', 'key'],
  properties: { cert: nonEmpty, key: nonEmpty },
} as const;

const tlsFiles = {
  type: 'object',
  additionalProperties: false,
  required: ['listen', 'cert', 'key'],
  properties: { listen, cert: nonEmpty, key: nonEmpty, ca: nonEmpty },
} as const;

/** `true` verifies the SMSC against the system's CAs; the object narrows or relaxes that. */
const connectorTls = {
  type: ['boolean', 'object'],
  description: 'true, false or { ca, servername, rejectUnauthorized }',
  additionalProperties: false,
  properties: { ca: nonEmpty, servername: nonEmpty, rejectUnauthorized: { type: 'boolean' } },
  default: false,
} as const;

const simulatorConnector = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type'],
  properties: {
    id,
    type: { const: 'simulator' },
    deliveryDelayMs: {
      type: 'integer',
      minimum: 0,
      maximum: 86_400_000,
      default: 200,
      description: 'Time from a submit to its delivery receipt, in ms',
    },
    outcomes: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['to', 'status'],
        properties: {
          to: { ...nonEmpty, description: 'Recipient pattern: `+1555*`, `*`, `re:^\\+1...`' },
          status: {
            enum: ['delivered', 'undelivered', 'expired', 'rejected', 'failed'],
            description: "The receipt's final status",
          },
          error: { type: 'string', maxLength: 16, description: "The receipt's `err:` code" },
        },
      },
      default: [],
      description: 'Receipts other than delivered, by recipient; first match wins',
    },
    tps: {
      type: 'integer',
      minimum: 0,
      maximum: 1_000_000,
      default: 0,
      description: 'Submits per second it takes (0 = no limit)',
    },
  },
} as const;

const smppConnector = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'host', 'port', 'systemId', 'password'],
  properties: {
    id,
    type: { const: 'smpp' },
    host: { ...nonEmpty, description: "The SMSC's host name or address" },
    port,
    tls: connectorTls,
    systemId: { type: 'string', minLength: 1, maxLength: 15 },
    password: { type: 'string', maxLength: 8, description: 'password of the bind' },
    systemType: { type: 'string', maxLength: 12, default: '', description: 'system_type of the bind' },
    interfaceVersion: {
      enum: ['3.4', '5.0'],
      default: '3.4',
      description: 'SMPP version of the bind (5.0 for broadcast)',
    },
    bindType: {
      enum: ['transmitter', 'receiver', 'transceiver'],
      default: 'transceiver',
      description: 'Bind type; receipts and inbound need receiver or transceiver',
    },
    binds: { type: 'integer', minimum: 1, maximum: 64, default: 1, description: 'Parallel sessions' },
    window: {
      type: 'integer',
      minimum: 1,
      maximum: 4096,
      default: 64,
      description: 'Requests outstanding per session',
    },
    tps: {
      type: 'integer',
      minimum: 0,
      maximum: 1_000_000,
      default: 0,
      description: 'submit_sm per second for the whole connector (0 = no limit)',
    },
    enquireLinkSeconds: {
      type: 'integer',
      minimum: 0,
      maximum: 3600,
      default: 30,
      description: 'enquire_link interval (0 = never)',
    },
    requestTimeoutSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 600,
      default: 10,
      description: 'Wait for a response this long; then the message is retried',
    },
    longMessages: {
      enum: ['udh', 'sar', 'payload'],
      default: 'udh',
      description: 'How long text goes: parts with a UDH, parts with SAR TLVs, or whole in message_payload',
    },
    sourceTon: {
      type: 'integer',
      minimum: 0,
      maximum: 6,
      description:
        'source_addr_ton (default: guessed from the sender — alphanumeric, international, short code)',
    },
    sourceNpi: {
      type: 'integer',
      minimum: 0,
      maximum: 18,
      description: 'source_addr_npi (default: guessed)',
    },
    destTon: { type: 'integer', minimum: 0, maximum: 6, default: 1, description: 'dest_addr_ton' },
    destNpi: { type: 'integer', minimum: 0, maximum: 18, default: 1, description: 'dest_addr_npi' },
    broadcast: {
      type: 'boolean',
      default: false,
      description: 'Send cell broadcast alerts here (broadcast_sm; needs interfaceVersion 5.0)',
    },
    receiptIds: {
      enum: ['as-submitted', 'decimal', 'hex'],
      default: 'as-submitted',
      description:
        "How receipt texts write the submit_sm_resp id: as it is, or in decimal or hex (Kannel's msg-id-type)",
    },
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
      description:
        'Conditions, all of which must hold; each a list of patterns (`+44*`, `+15550100`, `*`, `re:^\\+1..`), any of which may match. No match: the rule takes every message',
      properties: { to: patternList, from: patternList, account: patternList },
    },
    connectors: {
      type: 'array',
      items: id,
      minItems: 1,
      description: 'Connector ids, in the order failover tries them',
    },
    strategy: { enum: ['failover', 'roundrobin', 'weighted'], default: 'failover' },
    weights: {
      type: 'object',
      additionalProperties: { type: 'integer', minimum: 0, maximum: 1_000_000 },
      description: 'Connector id → weight, for strategy weighted (0 excludes one)',
    },
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
      description:
        'Conditions, all of which must hold; each a list of patterns. `keyword`: the first word, case and accents folded. No match: the rule takes every message',
      properties: { to: patternList, from: patternList, connector: patternList, keyword: patternList },
    },
    account: id,
    url: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      description: "Forward to a URL, as Kannel's get-url does",
      properties: {
        url: httpUrl,
        method: { enum: ['GET', 'POST'], default: 'GET', description: 'HTTP method' },
        format: {
          enum: ['kannel', 'json'],
          default: 'kannel',
          description:
            "kannel: Kannel's escapes in the URL and X-Kannel-* headers; json: the signed message.inbound webhook",
        },
        replyWithBody: {
          type: 'boolean',
          default: false,
          description: "Send the answer's text/plain body back to the sender as the reply",
        },
      },
    },
    reply: {
      ...replyTemplate,
      description: 'Auto-reply text; {{from}} {{to}} {{text}} {{keyword}} {{args}} are filled in',
    },
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
    enabled: { type: 'boolean', default: true, description: 'Act on STOP, START and HELP' },
    scope: {
      enum: ['account', 'sender'],
      default: 'account',
      description: 'A STOP suppresses the number for the whole account, or only for the number written to',
    },
    stopWords: {
      ...wordList,
      description: 'Words that opt out, besides STOP STOPALL UNSUBSCRIBE CANCEL END QUIT',
    },
    startWords: { ...wordList, description: 'Words that opt back in, besides START UNSTOP' },
    helpWords: { ...wordList, description: 'Words answered with the help text, besides HELP INFO' },
    replies: {
      type: 'object',
      additionalProperties: false,
      description: 'The confirmations sent back (null: none)',
      properties: {
        stop: { anyOf: [replyTemplate, { type: 'null' }], description: 'Sent after an opt-out' },
        start: { anyOf: [replyTemplate, { type: 'null' }], description: 'Sent after an opt-in' },
        help: { anyOf: [replyTemplate, { type: 'null' }], description: 'The answer to HELP' },
      },
      default: {},
    },
    receiptErrors: {
      type: 'array',
      items: { type: 'string', minLength: 1, maxLength: 16 },
      default: [],
      description: 'Receipt error codes that put the recipient on the suppression list',
    },
  },
  default: {},
  description: 'Opt-out keywords (STOP/START/HELP) on inbound messages',
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
  description: 'One-time passwords: codes and their limits',
  type: 'object',
  additionalProperties: false,
  properties: {
    codeLength: { type: 'integer', minimum: 4, maximum: 10, description: 'Digits in a code (default 6)' },
    ttlSeconds: {
      type: 'integer',
      minimum: 30,
      maximum: 86_400,
      description: 'Lifetime of a code (default 600)',
    },
    maxChecks: {
      type: 'integer',
      minimum: 1,
      maximum: 100,
      description: 'Wrong checks before max_attempts_reached (default 5)',
    },
    maxSends: {
      type: 'integer',
      minimum: 1,
      maximum: 1000,
      description: 'Codes to one number per sendWindowSeconds (default 5)',
    },
    sendWindowSeconds: { type: 'integer', minimum: 60, maximum: 86_400, description: 'Default 600' },
    prefixDigits: {
      type: 'integer',
      minimum: 2,
      maximum: 15,
      description: 'Digits of the number prefix that maxPerPrefix counts by (default 8)',
    },
    maxPerPrefix: {
      type: 'integer',
      minimum: 0,
      maximum: 1_000_000,
      description: 'Codes to numbers sharing a prefix per velocityWindowSeconds (default 30)',
    },
    maxPerAccount: {
      type: 'integer',
      minimum: 0,
      maximum: 10_000_000,
      description: 'Codes per velocityWindowSeconds (default 10000)',
    },
    velocityWindowSeconds: { type: 'integer', minimum: 60, maximum: 86_400, description: 'Default 3600' },
    allowedCountries: { ...countryList, description: 'Only numbers of these countries' },
    blockedCountries: { ...countryList, description: 'Never numbers of these countries' },
    from: { type: 'string', minLength: 1, maxLength: 20, description: 'Sender of the codes' },
    template: verifyTemplate,
    templates: {
      type: 'object',
      additionalProperties: verifyTemplate,
      description: 'Locale → text with {{code}} (and {{minutes}}); built in: en, fr, de, es',
    },
  },
} as const;

const account = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: {
    id,
    apiKeys: {
      type: 'array',
      // A key, or `{key, allowIps}`: the key works only from those addresses.
      items: {
        type: ['string', 'object'],
        description: 'a key of 8..256 characters, or { key, allowIps }',
        minLength: 8,
        maxLength: 256,
        additionalProperties: false,
        required: ['key'],
        properties: { key: { type: 'string', minLength: 8, maxLength: 256 }, allowIps: addressList },
      },
      default: [],
      description: 'Bearer tokens for /v1 (also the Twilio auth token and the Kannel/Jasmin password)',
    },
    twilio: {
      description: 'The Twilio-compatible API for this account',
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
      description: 'Binds to the SMPP server for this account',
      type: 'object',
      additionalProperties: false,
      required: ['systemId', 'password'],
      properties: {
        systemId: { type: 'string', minLength: 1, maxLength: 15, description: 'system_id to bind with' },
        password: { type: 'string', minLength: 1, maxLength: 8, description: 'password to bind with' },
        maxBinds: {
          type: 'integer',
          minimum: 1,
          maximum: 1000,
          default: 4,
          description: 'Binds open at once',
        },
        // The addresses binds are taken from (absent: any).
        allowIps: addressList,
      },
    },
    webhook: {
      description: 'Where message.status, message.inbound and the other events are POSTed',
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: { type: 'string', pattern: '^https?://', description: 'an http:// or https:// URL' },
        secret: { type: 'string', minLength: 1, description: 'Signs each request (Smsgw-Signature)' },
        // The message statuses reported as `message.status` (default: submitted and every final one).
        statuses: {
          type: 'array',
          items: {
            enum: ['submitted', 'delivered', 'undelivered', 'expired', 'rejected', 'failed', 'canceled'],
          },
          minItems: 1,
          uniqueItems: true,
          description: 'The statuses reported (default: submitted and every final one)',
        },
      },
    },
    defaultFrom: { type: 'string', minLength: 1, maxLength: 20 },
    // The country a number written without `+` is read in; without one such numbers are refused.
    defaultCountry: {
      type: 'string',
      enum: getCountries().sort(),
      description: 'an ISO 3166 alpha-2 country code in capitals (GB, US...)',
    },
    mps: {
      type: 'integer',
      minimum: 0,
      maximum: 1_000_000,
      default: 0,
      description: 'Messages per second over REST and SMPP together (0 = no limit)',
    },
    verify: verifySettings,
    // Prepaid (refused below zero) or postpaid (refused past the credit limit, if any).
    billing: {
      description: 'How the account pays: prepaid from a balance, or postpaid up to a credit limit',
      type: 'object',
      additionalProperties: false,
      required: ['type', 'currency'],
      properties: {
        type: { enum: ['prepaid', 'postpaid'] },
        currency,
        creditLimit: {
          ...money,
          description: 'Postpaid: how far below zero the balance may go (absent: no limit)',
        },
        lowBalance: {
          ...money,
          description: 'An account.balance_low webhook when the balance falls below this',
        },
        // A price plan: pricing entries with this match.plan apply to the account.
        plan: id,
      },
    },
    // What the account may send (CONTRACT §8.1): senders (no other account may use them),
    // destinations, quotas, the addresses its API keys work from, SMS-pumping limits.
    policy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        senders: patternList,
        destinations: {
          type: 'object',
          additionalProperties: false,
          description: 'Numbers (patterns, or ISO country codes such as GB) it may send to',
          properties: { allow: patternList, deny: patternList },
        },
        dailyQuota: { type: 'integer', minimum: 0, description: 'Messages accepted per UTC day' },
        monthlyQuota: { type: 'integer', minimum: 0, description: 'Messages accepted per UTC month' },
        allowIps: { ...addressList, description: 'Addresses its API keys are taken from (absent: any)' },
        pumping,
      },
    },
  },
} as const;

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    http: {
      description: 'The HTTP server: REST API, compatibility APIs, /health, /metrics, /openapi.json, console',
      type: 'object',
      additionalProperties: false,
      properties: {
        listen: { ...listen, default: '127.0.0.1:8080' },
        tls: certificateFiles,
        // Limits against clients that hold connections or pipeline requests without reading
        // (defaults: src/api/http-limits.ts).
        maxConnections: { type: 'integer', minimum: 1, maximum: 1_000_000 },
        maxPipelined: { type: 'integer', minimum: 1, maximum: 1_000 },
        writeStallSeconds: { type: 'integer', minimum: 1, maximum: 3_600 },
      },
      default: {},
    },
    smppServer: {
      description: 'The SMPP server for ESME clients (leave out to have none)',
      type: 'object',
      additionalProperties: false,
      properties: {
        listen,
        tls: tlsFiles,
        // Defaults: serverLimitDefaults in src/smpp/server.ts, SessionOptions in src/smpp/session.ts.
        maxConnections: { type: 'integer', minimum: 1, maximum: 1_000_000 },
        maxConnectionsPerAddress: { type: 'integer', minimum: 1, maximum: 1_000_000 },
        bindTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 3_600 },
        writeStallSeconds: { type: 'integer', minimum: 1, maximum: 3_600 },
      },
    },
    store: {
      type: 'string',
      pattern: '^(sqlite:|postgres(ql)?://)',
      description: 'sqlite:PATH or postgres://…',
      default: 'sqlite:./var/smsgw.db',
    },
    admin: {
      description: 'Access to /v1/admin/* and the console as an admin',
      type: 'object',
      additionalProperties: false,
      properties: {
        apiKeys: {
          type: 'array',
          items: { type: 'string', minLength: 8, maxLength: 256 },
          default: [],
          description: 'Admin keys (Bearer tokens)',
        },
      },
      default: {},
    },
    accounts: {
      type: 'array',
      items: account,
      default: [],
      description: 'Who may send, and how they authenticate',
    },
    connectors: {
      description: 'Carrier connections (one entry per connector; its `type` decides its settings)',
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
      description: 'Which connectors send a message (mt), whom an inbound message goes to (mo)',
      type: 'object',
      additionalProperties: false,
      properties: {
        mt: {
          type: 'array',
          items: mtRoute,
          default: [],
          description: 'Outbound rules; the first that matches wins',
        },
        mo: {
          type: 'array',
          items: moRoute,
          default: [],
          description: 'Inbound rules; the first that matches wins',
        },
      },
      default: {},
    },
    optOut,
    // Every account's SMS-pumping limits, unless its policy.pumping sets its own.
    pumping,
    pricing: {
      description: 'What messages cost their accounts, per part; the first entry that matches wins',
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['price', 'currency'],
        properties: {
          match: {
            description: 'The messages the entry prices: every filter given must hold (absent: all)',
            type: 'object',
            additionalProperties: false,
            properties: {
              to: { ...patternList, description: 'Destination patterns or ISO country codes (GB)' },
              account: {
                ...patternList,
                type: ['string', 'array'],
                description: 'An account id, or a list of account id patterns',
              },
              // Accounts whose billing.plan is this.
              plan: id,
            },
          },
          price: money,
          currency,
        },
      },
      default: [],
    },
    // Addresses and hosts client-supplied callback URLs may reach although they are
    // loopback, private or reserved (CONTRACT §8): CIDR ranges, addresses, host names.
    callbacks: {
      type: 'object',
      additionalProperties: false,
      properties: {
        allow: {
          type: 'array',
          items: { type: 'string', minLength: 1, maxLength: 256 },
          maxItems: 10_000,
          default: [],
        },
      },
      default: {},
    },
    // /metrics behind a key of its own (the admin keys work too), or on a listener of its own.
    metrics: {
      type: 'object',
      additionalProperties: false,
      properties: { apiKey: { type: 'string', minLength: 8, maxLength: 256 }, listen },
    },
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
