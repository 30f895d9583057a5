// The config file's JSON Schema (CONTRACT §2). Validation messages are built from it, so
// every bound a user can hit is written here once: type, range, pattern description.
import { getCountries } from 'libphonenumber-js/min';
import { webhookConcurrencyDefaults } from '../webhooks/index.ts';

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

/** The days of a routing rule's time window. */
const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** Conditions MT and MO rules share beyond address patterns (src/core/route-match.ts). */
const ruleConditions = {
  time: {
    type: 'object',
    additionalProperties: false,
    description:
      'A weekly window read in `tz`: `days` (mon..sun) and `hours` "HH:MM-HH:MM" (start inclusive, end exclusive; an end before the start runs past midnight)',
    properties: {
      days: { type: 'array', items: { enum: weekdays }, minItems: 1, uniqueItems: true },
      hours: { type: 'string', description: '"HH:MM-HH:MM"' },
      tz: { type: 'string', description: 'An IANA time zone (Europe/London); default UTC' },
    },
  },
  dates: {
    type: 'array',
    minItems: 1,
    maxItems: 1000,
    description:
      'Periods, any of which may hold: `from`/`to` a date YYYY-MM-DD (whole days, inclusive, in time.tz or UTC) or a timestamp with its offset (`to` exclusive); either may be left out',
    items: {
      type: 'object',
      additionalProperties: false,
      properties: { from: { type: 'string' }, to: { type: 'string' } },
    },
  },
  text: {
    type: ['string', 'array'],
    minLength: 1,
    maxLength: 1024,
    items: { type: 'string', minLength: 1, maxLength: 1024 },
    maxItems: 100,
    description: 'a pattern on the text (`re:(?i)^promo`), or a list of them, any of which may match',
  },
  country: {
    type: 'array',
    minItems: 1,
    maxItems: 300,
    // Codes libphonenumber does not know are refused by the cross-check (src/core/route-match.ts).
    items: {
      type: 'string',
      pattern: '^[A-Z]{2}$',
      description: 'an ISO 3166 alpha-2 country code in capitals (GB, US...)',
    },
    description: "The number's country (offline lookup): the recipient's (MT), the sender's (MO)",
  },
  lineType: {
    type: 'array',
    minItems: 1,
    uniqueItems: true,
    items: {
      enum: [
        'mobile',
        'fixed_line',
        'fixed_line_or_mobile',
        'toll_free',
        'premium_rate',
        'shared_cost',
        'voip',
        'personal_number',
        'pager',
        'uan',
        'voicemail',
      ],
    },
    description:
      "The number's line type (offline lookup, as GET /v1/lookup/{number} says): the recipient's (MT), the sender's (MO)",
  },
  network: {
    type: 'array',
    minItems: 1,
    maxItems: 10_000,
    items: {
      type: 'string',
      pattern: '^[0-9]{3}(-?[0-9]{2,3})?$',
      description: 'MCC+MNC (`23415`, `234-15`, `310260`), or an MCC alone (`234`: any of its networks)',
    },
    description:
      "The number's mobile network from the online lookup (`lookup`): the recipient's (MT), the sender's (MO); a number it gives none for never matches",
  },
} as const;

/** The online number lookup (HLR / number portability) over HTTP, configured as data. */
const numberLookup = {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'response'],
  description:
    'An online number lookup (HLR, number portability) over HTTP, for `network` matches and GET /v1/lookup/{number}',
  properties: {
    url: {
      type: 'string',
      pattern: '^https?://',
      description: 'an http:// or https:// URL; {{number}} (+E.164) and {{digits}} (without +) are filled in',
    },
    method: { enum: ['GET', 'POST'], default: 'GET', description: 'GET, or POST with `body` as JSON' },
    headers: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'extra request headers (Authorization...); secrets may come from the environment',
    },
    body: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'POST: field → template ({{number}}, {{digits}}); a dotted name nests',
    },
    response: {
      type: 'object',
      additionalProperties: false,
      description:
        'Where the JSON answer holds each field (dotted paths: `result.mcc`); give mcc and mnc, or network',
      properties: {
        mcc: { type: 'string', minLength: 1, maxLength: 256, description: 'the mobile country code' },
        mnc: { type: 'string', minLength: 1, maxLength: 256, description: 'the mobile network code' },
        network: {
          type: 'string',
          minLength: 1,
          maxLength: 256,
          description: 'MCC and MNC in one (`23415` or `234-15`), instead of mcc and mnc',
        },
        ported: {
          type: 'string',
          minLength: 1,
          maxLength: 256,
          description: 'whether the number was ported (true/false)',
        },
        carrier: { type: 'string', minLength: 1, maxLength: 256, description: "the network's name" },
      },
    },
    ttlSeconds: {
      type: 'integer',
      minimum: 0,
      maximum: 30 * 86_400,
      default: 86_400,
      description: 'How long an answer is kept (0: asked every time)',
    },
    timeoutMs: {
      type: 'integer',
      minimum: 10,
      maximum: 60_000,
      default: 2_000,
      description: 'Wait for an answer at most this long',
    },
    cacheSize: {
      type: 'integer',
      minimum: 1,
      maximum: 10_000_000,
      default: 100_000,
      description: 'Numbers kept in memory at most',
    },
    onError: {
      enum: ['skip', 'refuse'],
      default: 'skip',
      description:
        'When the lookup fails: skip (routing goes on without a network; `network` rules do not match) or refuse the message (503 lookup_unavailable)',
    },
  },
} as const;

/** What sending through a connector costs, by destination (strategy least-cost orders by it). */
const connectorCosts = {
  type: 'array',
  maxItems: 10_000,
  description:
    'Cost per part by destination, first match wins (strategy least-cost orders by it; kept on each message as `cost`)',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['to', 'cost'],
    properties: {
      to: { ...patternList, minItems: 1, description: 'Destination patterns (`+44*`, `re:^\\+1..`)' },
      cost: { type: 'number', minimum: 0, maximum: 1_000_000, description: "In the currency's main unit" },
    },
  },
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
    costs: connectorCosts,
  },
} as const;

const modemConnector = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'devices'],
  description: 'GSM modems on serial ports (AT commands, PDU mode); each device is one bind',
  properties: {
    id,
    type: { const: 'modem' },
    devices: {
      type: 'array',
      items: nonEmpty,
      minItems: 1,
      maxItems: 64,
      description: 'Serial devices of the modems, e.g. `/dev/ttyUSB0`; the messages are spread over them',
    },
    pin: {
      type: 'string',
      pattern: '^[0-9]{4,8}$',
      description: 'SIM PIN (4 to 8 digits), when the SIMs ask for one',
    },
    baudRate: {
      type: 'integer',
      minimum: 300,
      maximum: 4_000_000,
      default: 115_200,
      description: 'Serial line speed',
    },
    commandTimeoutSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 600,
      default: 10,
      description:
        'An AT command unanswered this long means the modem hung: it is closed, reopened and set up again',
    },
    sendTimeoutSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 600,
      default: 60,
      description: 'The same for +CMGS, which waits for the network; the message is then sent again',
    },
    pollSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 3600,
      default: 30,
      description: 'How often registration (+CREG) and signal (+CSQ) are read',
    },
    costs: connectorCosts,
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
    costs: connectorCosts,
  },
} as const;

const cimd2Connector = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'host', 'port', 'username', 'password'],
  properties: {
    id,
    type: { const: 'cimd2' },
    costs: connectorCosts,
    host: { ...nonEmpty, description: "The SMS centre's host name or address" },
    port,
    username: {
      type: 'string',
      minLength: 1,
      maxLength: 32,
      description: 'User identity of the login (010)',
    },
    password: { type: 'string', maxLength: 32, description: 'Password of the login (011)' },
    binds: { type: 'integer', minimum: 1, maximum: 64, default: 1, description: 'Parallel sessions' },
    window: {
      type: 'integer',
      minimum: 1,
      maximum: 128,
      default: 1,
      description: 'Requests outstanding per session (1 unless the SMS centre allows windowing)',
    },
    tps: {
      type: 'integer',
      minimum: 0,
      maximum: 1_000_000,
      default: 0,
      description: 'Submits per second for the whole connector (0 = no limit)',
    },
    aliveSeconds: {
      type: 'integer',
      minimum: 0,
      maximum: 3600,
      default: 60,
      description: 'Alive (40) after this long without a packet from the SMS centre (0 = never)',
    },
    requestTimeoutSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 600,
      default: 30,
      description: 'Wait for a response this long; then the message is retried',
    },
    checksum: { type: 'boolean', default: false, description: 'Put a checksum on every packet sent' },
  },
} as const;

const ucpConnector = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'host', 'port', 'username', 'password'],
  properties: {
    id,
    type: { const: 'ucp' },
    costs: connectorCosts,
    host: { ...nonEmpty, description: "The SMSC's host name or address" },
    port,
    username: {
      type: 'string',
      minLength: 1,
      maxLength: 16,
      description: 'OAdC of the login (operation 60)',
    },
    password: { type: 'string', maxLength: 16, description: 'PWD of the login' },
    binds: { type: 'integer', minimum: 1, maximum: 64, default: 1, description: 'Parallel sessions' },
    window: {
      type: 'integer',
      minimum: 1,
      maximum: 100,
      default: 32,
      description: 'Operations outstanding per session (TRNs 00-99 allow 100 at most)',
    },
    tps: {
      type: 'integer',
      minimum: 0,
      maximum: 1_000_000,
      default: 0,
      description: 'Submits (operation 51) per second for the whole connector (0 = no limit)',
    },
    keepAliveSeconds: {
      type: 'integer',
      minimum: 0,
      maximum: 3600,
      default: 30,
      description: 'An alert (operation 31) after this long without sending (0 = never)',
    },
    requestTimeoutSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 600,
      default: 10,
      description: 'Wait for a result this long; then the message is retried and the link dropped',
    },
  },
} as const;

/** `fields` are required with `preset: value` (null: with no preset, the generic settings). */
function presetNeeds(value: string | null, fields: string[]) {
  const when =
    value === null
      ? { not: { required: ['preset'] } }
      : { required: ['preset'], properties: { preset: { const: value } } };
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else, not a thenable
  return { if: when, then: { required: fields } };
}

/** A path into a provider's JSON (or form/query) answer: `messages.0.message-id`. */
const fieldPath = {
  type: 'string',
  minLength: 1,
  maxLength: 256,
  description: 'a dotted path: `messages.0.id`',
} as const;

const httpConnector = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type'],
  description:
    'An upstream SMS provider over HTTP: a preset (twilio, kannel, smsgw, vonage) or generic settings',
  properties: {
    id,
    type: { const: 'http' },
    costs: connectorCosts,
    preset: {
      enum: ['twilio', 'kannel', 'smsgw', 'vonage'],
      description: 'twilio, kannel, smsgw or vonage (leave out for generic settings)',
    },
    url: {
      type: 'string',
      pattern: '^https?://',
      description:
        "an http:// or https:// URL: the provider's send URL (kannel: its /cgi-bin/sendsms; twilio, smsgw, vonage: the API origin)",
    },
    username: { ...nonEmpty, description: 'kannel: the sendsms-user' },
    password: { ...nonEmpty, description: "kannel: the sendsms-user's password" },
    accountSid: { ...nonEmpty, description: 'twilio: the Account SID' },
    authToken: { ...nonEmpty, description: 'twilio: the auth token (also verifies its callbacks)' },
    apiKey: { ...nonEmpty, description: "smsgw: the account's API key; vonage: api_key" },
    apiSecret: { ...nonEmpty, description: 'vonage: api_secret' },
    secret: {
      type: 'string',
      minLength: 8,
      description:
        'Authenticates receipts and inbound pushed to /v1/connectors/{id}/… (default: derived from the credentials)',
    },
    method: {
      enum: ['POST', 'GET'],
      default: 'POST',
      description: 'generic: POST or GET (GET puts the fields in the query)',
    },
    format: { enum: ['json', 'form'], default: 'json', description: 'generic: the body as JSON or a form' },
    headers: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'generic: extra request headers',
    },
    auth: {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      description: 'generic: basic (username, password), bearer (token) or hmac (secret, header)',
      properties: {
        type: { enum: ['basic', 'bearer', 'hmac'] },
        username: { type: 'string' },
        password: { type: 'string' },
        token: nonEmpty,
        secret: nonEmpty,
        header: {
          ...nonEmpty,
          default: 'X-Signature',
          description: 'hmac: the header carrying the hex HMAC-SHA256 of the body',
        },
      },
    },
    body: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description:
        'generic: field → template; {{to}} {{from}} {{text}} {{id}} {{toDigits}} {{fromDigits}} {{receiptUrl}} {{inboundUrl}}; in JSON a dotted name (`messages.0.to`) nests',
    },
    accepted: {
      type: 'object',
      additionalProperties: false,
      description: 'generic: what counts as accepted',
      properties: {
        status: {
          type: 'array',
          items: { type: 'integer', minimum: 100, maximum: 599 },
          minItems: 1,
          description: 'HTTP statuses that mean accepted (default: any 2xx)',
        },
        idPath: { ...fieldPath, description: "where the answer holds the provider's message id" },
        errorPath: {
          ...fieldPath,
          description: 'where a 2xx answer holds an error (present and not empty: refused)',
        },
      },
      default: {},
    },
    receipts: {
      type: 'object',
      additionalProperties: false,
      required: ['idPath', 'statusPath'],
      description: 'generic: how a pushed receipt reads (JSON body, form or query)',
      properties: {
        listPath: {
          ...fieldPath,
          description: 'where a push holds a list of receipts (the other paths are then read in each)',
        },
        idPath: {
          ...fieldPath,
          description: "where the provider's message id is (as its send answer gave it)",
        },
        statusPath: { ...fieldPath, description: "where the provider's status word is" },
        errorPath: { ...fieldPath, description: "where the provider's error code is" },
        statuses: {
          type: 'object',
          additionalProperties: {
            enum: ['delivered', 'undelivered', 'expired', 'rejected', 'failed', 'accepted', 'unknown'],
          },
          description:
            "the provider's status words → delivered, undelivered, expired, rejected, failed, accepted",
        },
      },
    },
    inbound: {
      type: 'object',
      additionalProperties: false,
      required: ['fromPath', 'toPath', 'textPath'],
      description: 'generic: how a pushed inbound message reads',
      properties: {
        fromPath: { ...fieldPath, description: "where the sender's number is" },
        toPath: { ...fieldPath, description: 'where the number it was sent to is' },
        textPath: { ...fieldPath, description: 'where the text is' },
      },
    },
    longMessages: {
      enum: ['whole', 'parts'],
      description: 'whole: the provider splits long text (all presets do); parts: one request per part',
      default: 'whole',
    },
    tps: {
      type: 'integer',
      minimum: 0,
      maximum: 1_000_000,
      default: 0,
      description: 'Requests per second (0 = no limit)',
    },
    concurrency: {
      type: 'integer',
      minimum: 1,
      maximum: 1024,
      default: 32,
      description: 'Requests outstanding at once',
    },
    timeoutSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 600,
      default: 10,
      description: 'Wait for an answer this long; then the message is retried',
    },
  },
  allOf: [
    presetNeeds('twilio', ['accountSid', 'authToken']),
    presetNeeds('kannel', ['url', 'username', 'password']),
    presetNeeds('smsgw', ['url', 'apiKey']),
    presetNeeds('vonage', ['apiKey', 'apiSecret']),
    presetNeeds(null, ['url', 'body']),
  ],
} as const;

/** Each connector type's settings; a type not listed here is the simulator. */
const connectorSettings = {
  smpp: smppConnector,
  cimd2: cimd2Connector,
  ucp: ucpConnector,
  http: httpConnector,
  modem: modemConnector,
} as const;
const connectorTypes = ['simulator', ...Object.keys(connectorSettings)];

/**
 * The connector's settings chosen by its `type`, as a chain of if/then/else (the form that
 * keeps Ajv's defaults and error paths to the one schema that applies).
 */
const settingsByType = Object.entries(connectorSettings).reduceRight<Record<string, unknown>>(
  (otherwise, [type, settings]) => ({
    if: { properties: { type: { const: type } } },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else, not a thenable
    then: settings,
    else: otherwise,
  }),
  simulatorConnector,
);

const interceptor = {
  type: 'object',
  additionalProperties: false,
  required: ['module'],
  description:
    'A JavaScript module that sees each message the rule takes and may change from, to, text or tags, or refuse it (docs/routing.md)',
  properties: {
    module: {
      type: 'string',
      minLength: 1,
      maxLength: 1024,
      description: 'Path of the module (relative to the working directory); its default export is called',
    },
    timeoutMs: {
      type: 'integer',
      minimum: 1,
      maximum: 60_000,
      default: 50,
      description: 'Time budget per message; past it, onError applies',
    },
    onError: {
      enum: ['accept', 'refuse'],
      default: 'accept',
      description:
        'accept or refuse: what a failure (the module throws, times out or answers wrongly) does: the message goes on unchanged, or is refused (503 interceptor_failed)',
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
      properties: {
        to: patternList,
        from: patternList,
        account: patternList,
        tags: { ...patternList, description: 'The message carries one of these tags (patterns)' },
        ...ruleConditions,
      },
    },
    connectors: {
      type: 'array',
      items: id,
      minItems: 1,
      description: 'Connector ids, in the order failover tries them',
    },
    strategy: {
      enum: ['failover', 'roundrobin', 'weighted', 'least-cost'],
      default: 'failover',
      description:
        "failover, roundrobin, weighted or least-cost (cheapest first by the connectors' `costs` for the destination)",
    },
    quality: {
      type: 'object',
      additionalProperties: false,
      description:
        'For strategy least-cost: order by the cost per delivered message (cost ÷ the delivery ratio of the last 100 receipts for the destination country) plus latencyCost per second of receipt latency',
      properties: {
        minReceipts: {
          type: 'integer',
          minimum: 1,
          maximum: 100,
          default: 20,
          description: 'Receipts a connector needs for the country before its figures count',
        },
        latencyCost: {
          type: 'number',
          minimum: 0,
          maximum: 1_000_000,
          default: 0,
          description: 'Cost added per second of mean receipt latency',
        },
      },
    },
    weights: {
      type: 'object',
      additionalProperties: { type: 'integer', minimum: 0, maximum: 1_000_000 },
      description: 'Connector id → weight, for strategy weighted (0 excludes one)',
    },
    interceptor,
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
      properties: {
        to: patternList,
        from: patternList,
        connector: patternList,
        keyword: patternList,
        ...ruleConditions,
      },
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
    interceptor,
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
    links: {
      description:
        'Link shortening: URLs in the text of its messages become short links served by the gateway (`{baseUrl}/l/{code}`); each click is counted and reported with a message.clicked webhook',
      type: 'object',
      additionalProperties: false,
      required: ['shorten'],
      properties: {
        shorten: { type: 'boolean', description: 'Replace the URLs of its messages with short links' },
        baseUrl: {
          ...httpUrl,
          description: 'Where the short links point, without a trailing / (default http.publicUrl)',
        },
      },
    },
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
        mobileOnly: {
          type: 'boolean',
          description:
            'Refuse (400 not_mobile) numbers the offline lookup does not call mobile (or fixed_line_or_mobile)',
        },
      },
    },
    // Sender pools (Twilio's Messaging Services): a message names a service instead of `from`.
    services: {
      type: 'array',
      maxItems: 1_000,
      description:
        'Sender pools: a message that names one (`service`, Twilio MessagingServiceSid) gets a sender from it',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id'],
        properties: {
          id,
          sid: {
            type: 'string',
            pattern: '^MG[0-9a-fA-F]{32}$',
            description: "Twilio's MessagingServiceSid for it: MG followed by 32 hex digits",
          },
          senders: {
            type: 'array',
            items: { type: 'string', minLength: 1, maxLength: 20 },
            maxItems: 10_000,
            default: [],
            description: 'The numbers (E.164) the pool sends from',
          },
          sticky: {
            type: 'boolean',
            default: true,
            description: 'A recipient keeps the sender it got first (stored: it survives restarts)',
          },
          geomatch: {
            type: 'boolean',
            default: true,
            description: "Prefer a sender of the recipient's country",
          },
          alphanumeric: {
            type: 'string',
            pattern: "^(?=.*[A-Za-z])[A-Za-z0-9 _.&'-]{1,11}$",
            description:
              'An alphanumeric sender id for countries that allow one, when no number of the pool fits (geomatch)',
          },
          alphanumericCountries: {
            type: 'array',
            items: { type: 'string', pattern: '^[A-Z]{2}$' },
            maxItems: 300,
            description:
              'ISO 3166 codes of the countries the alphanumeric id may go to (default: the built-in list, see docs/routing.md)',
          },
        },
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
        publicUrl: {
          type: 'string',
          pattern: '^https?://',
          description:
            'an http:// or https:// URL: where providers reach this gateway (the receipt and inbound URLs of http connectors; default http:// + listen)',
        },
        tls: certificateFiles,
        // Limits against clients that hold connections or pipeline requests without reading
        // (defaults: src/api/http-limits.ts).
        maxConnections: { type: 'integer', minimum: 1, maximum: 1_000_000 },
        maxConnectionsPerAddress: {
          type: 'integer',
          minimum: 1,
          maximum: 1_000_000,
          description:
            'HTTP connections at once from one remote address; more are closed as they arrive (default: no limit but maxConnections, as a proxy in front shares one address among all its clients)',
        },
        maxPipelined: { type: 'integer', minimum: 1, maximum: 1_000 },
        writeStallSeconds: { type: 'integer', minimum: 1, maximum: 3_600 },
        maxUploads: {
          type: 'integer',
          minimum: 1,
          maximum: 10_000,
          description:
            'Uploads (batches, contact and suppression imports, alerts) read or worked on at once, all accounts together (default 16; each account also has 4 per kind); one more gets 429 too_many_uploads',
        },
        maxUploadMegabytes: {
          type: 'integer',
          minimum: 1,
          maximum: 1_048_576,
          description:
            "MiB of request body the uploads running at once may have read, all accounts together (default 64): past it, an upload waits, its client held back, until one ends, unless it is the oldest, or its account has read less than an even share of this between the accounts uploading; an upload's first MiB never waits; CSV contact and suppression imports (stored as read) are not counted",
        },
        maxBodyMegabytes: {
          type: 'integer',
          minimum: 1,
          maximum: 1_048_576,
          description:
            "MiB of request body that requests over 16 KiB (uploads aside) may hold at once, each its Content-Length (or its route's limit when chunked) from before its body is read until it is answered (default 32): past it, one more is refused 503 server_busy with Retry-After and its connection closed, unless its account holds less than an even share of it between the holders (requests not yet known to be an account's hold for their remote address)",
        },
        bodyIdleSeconds: {
          type: 'integer',
          minimum: 1,
          maximum: 3_600,
          description:
            'A request whose client sends less of its body than bodyMinBytesPerSecond for this long, while the gateway could read it, is answered 408 body_timeout and its connection closed (default 60)',
        },
        bodyMinBytesPerSecond: {
          type: 'integer',
          minimum: 0,
          maximum: 1_073_741_824,
          description:
            'The slowest a request body may come, averaged over each bodyIdleSeconds the gateway could read it (default 500; 0: any byte within bodyIdleSeconds will do)',
        },
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
      description:
        "sqlite:PATH or postgres://… SQLite takes ?synchronous=FULL (default; NORMAL, EXTRA or OFF: SQLite's own), busy_timeout=MS (5000) and writer=auto (default: commits on the event loop while they take under 5% of its time, on a writer thread of their own under load, which stops once a minute's commits took under half of that: about 9 MB less resident while idle; writes over a batch's messages or more than 100 rows always on the thread), thread (always on the writer thread) or main (always on the event loop, for small hosts); PostgreSQL pool_size and lease_ms (cluster mode) besides what pg reads itself",
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
        properties: { type: { enum: connectorTypes } },
        ...settingsByType,
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
    callbacks: {
      description: 'Webhooks and other callbacks the gateway sends',
      type: 'object',
      additionalProperties: false,
      properties: {
        allow: {
          description:
            'Loopback, private or reserved addresses and hosts that client-supplied callback URLs may reach: CIDR ranges, addresses, host names (`*.` for a whole domain)',
          type: 'array',
          items: { type: 'string', minLength: 1, maxLength: 256 },
          maxItems: 10_000,
          default: [],
        },
        concurrency: {
          description: 'Requests in flight at most, over all receivers',
          type: 'integer',
          minimum: 1,
          maximum: 4096,
          default: webhookConcurrencyDefaults.concurrency,
        },
        receiverConcurrency: {
          description:
            "Requests in flight at most to one receiver (a URL's scheme, host and port), and as many kept-alive connections; at most `concurrency`",
          type: 'integer',
          minimum: 1,
          maximum: 1024,
          default: webhookConcurrencyDefaults.receiverConcurrency,
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
    lookup: numberLookup,
    /** How long SIGTERM/SIGINT may take: draining, then whatever is left is cut. */
    shutdownGraceSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 10 },
  },
} as const;
