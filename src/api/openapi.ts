// GET /openapi.json: the REST API described for client generators and the console.
import { messageStatuses, priorities } from '../core/index.ts';

const error = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
    },
  },
};
const message = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: [...messageStatuses] },
    direction: { type: 'string', enum: ['outbound', 'inbound'] },
    to: { type: 'string' },
    from: { type: 'string' },
    text: { type: ['string', 'null'] },
    segments: { type: 'integer' },
    encoding: { type: 'string' },
    connector: { type: ['string', 'null'] },
    tags: { type: 'array', items: { type: 'string' } },
    service: { type: 'string', description: 'The sender pool (accounts[].services) its sender came from' },
    network: {
      type: 'string',
      description: "The destination's network (MCC+MNC) from the online lookup, when routing asked it",
    },
    error: {
      oneOf: [
        { type: 'null' },
        { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
      ],
    },
    createdAt: { type: 'string', format: 'date-time' },
    submittedAt: { type: ['string', 'null'], format: 'date-time' },
    doneAt: { type: ['string', 'null'], format: 'date-time' },
    price: {
      type: ['number', 'null'],
      description: 'What it costs the account (per-part price × parts), fixed when accepted',
    },
    currency: { type: ['string', 'null'], description: 'ISO 4217 code of price' },
    events: { type: 'array', items: { type: 'object' } },
  },
};
const batchSettings = {
  from: { type: 'string' },
  text: { type: 'string', description: "May hold {{variables}}: a recipient's vars or a CSV column" },
  sendAt: { type: 'string', format: 'date-time' },
  priority: { type: 'string', enum: [...priorities], default: 'bulk' },
  dryRun: { type: 'boolean', description: 'Counts, encodings, segments and routes; nothing stored' },
  name: { type: 'string' },
  country: { type: 'string', description: 'ISO 3166 country of numbers written without one' },
  mps: { type: 'number', description: 'Messages a second for this batch' },
  quietHours: {
    description: 'Local times of the recipient (zone from the number) when nothing is sent',
    oneOf: [
      { type: 'string', example: '21:00-08:00' },
      { type: 'object', properties: { start: { type: 'string' }, end: { type: 'string' } } },
    ],
  },
  validitySeconds: { type: 'integer' },
  callbackUrl: { type: 'string' },
  statusWebhooks: { type: 'boolean', description: 'A message.status webhook per message (off by default)' },
  tags: {
    type: 'array',
    items: { type: 'string' },
    description: "Every message's tags, for routing (as a query parameter: comma-separated)",
  },
};
const batch = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    status: {
      type: 'string',
      enum: ['loading', 'scheduled', 'running', 'paused', 'completed', 'canceled', 'failed'],
    },
    total: { type: 'integer', description: 'Messages stored' },
    rows: { type: 'integer', description: 'Recipient rows read' },
    counts: { type: 'object', additionalProperties: { type: 'integer' }, description: 'Messages by status' },
    skipped: {
      type: 'object',
      properties: {
        duplicate: { type: 'integer' },
        opted_out: { type: 'integer' },
        invalid: { type: 'integer' },
      },
      additionalProperties: { type: 'integer' },
    },
    errors: { type: 'array', items: { type: 'object' }, description: 'The first skipped rows and why' },
    rate: { type: 'number', description: 'Messages a second over the last ten seconds' },
    eta: { type: ['string', 'null'], format: 'date-time' },
    etaSeconds: { type: ['integer', 'null'] },
    failure: { type: ['object', 'null'] },
  },
};
const batchAction = (summary: string) => ({
  summary,
  responses: {
    '200': { description: 'The batch', content: { 'application/json': { schema: batch } } },
    '404': { description: 'Not found' },
    '409': { description: "Not possible in the batch's status" },
  },
});
/** A request whose client stopped sending its body (src/api/http-limits.ts): likeliest for an upload. */
const bodyIdle = {
  description:
    'body_timeout: less of the body than http.bodyMinBytesPerSecond came over http.bodyIdleSeconds',
};
const errors = {
  '400': { description: 'Bad input', content: { 'application/json': { schema: error } } },
  '401': { description: 'Missing or invalid API key', content: { 'application/json': { schema: error } } },
  '429': {
    description:
      'Too many failed API keys from this address or for this account (Retry-After), or the account rate',
    content: { 'application/json': { schema: error } },
  },
};

/** A page of a list: `data` and the cursor of the next page. */
const pageOf = (items: unknown) => ({
  description: 'A page',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        properties: { data: { type: 'array', items }, nextCursor: { type: ['string', 'null'] } },
      },
    },
  },
});
const idParam = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];
const json = (properties: Record<string, unknown>, required: string[] = []) => ({
  content: { 'application/json': { schema: { type: 'object', required, properties } } },
});
const str = { type: 'string' };
const int = { type: 'integer' };
const strings = { type: 'array', items: str };
const keywords = { type: 'object', additionalProperties: str };
/** An operation of the applications (src/apps): summary, body, success code, further answers. */
const op = (
  summary: string,
  ok: [string, string],
  body?: ReturnType<typeof json>,
  more: Record<string, string> = {},
) => ({
  summary,
  ...(body ? { requestBody: body } : {}),
  responses: {
    [ok[0]]: { description: ok[1] },
    ...Object.fromEntries(Object.entries(more).map(([code, description]) => [code, { description }])),
    ...errors,
  },
});
const importOp = op(
  'Import contacts from CSV (header: to, name, any variables), by number; a row past the caps of a contact is invalid',
  ['200', '{total, created, updated, invalid, invalidRows}'],
);
const page = ['cursor', 'limit'].map((name) => ({ name, in: 'query', schema: str }));
/** GET /v1/messages and GET /v1/admin/messages: what finds a message. */
const messageSearchParameters = [
  {
    name: 'q',
    in: 'query',
    schema: str,
    description:
      'A message id, a client reference, or a number (with or without +, or national in the account country) either way: the recipient of any message, the sender of an inbound one',
  },
  { name: 'status', in: 'query', schema: str },
  { name: 'direction', in: 'query', schema: { type: 'string', enum: ['outbound', 'inbound'] } },
  { name: 'to', in: 'query', schema: str, description: 'Only messages to this number' },
  {
    name: 'since',
    in: 'query',
    schema: str,
    description: 'Created at or after: ISO date or time, or unix seconds',
  },
  {
    name: 'until',
    in: 'query',
    schema: str,
    description: 'Created before: ISO date (whole day), time or unix seconds',
  },
  { name: 'format', in: 'query', schema: { type: 'string', enum: ['json', 'csv'] } },
  ...page,
];
const reminderBody = {
  to: str,
  from: str,
  at: { type: 'string', description: 'ISO 8601; without an offset, a wall-clock time in `timezone`' },
  timezone: { type: 'string', description: 'IANA zone, e.g. Europe/London (default UTC)' },
  text: str,
  replies: { ...keywords, description: 'reply keyword → status it sets, e.g. {"YES": "confirmed"}' },
  ack: { ...keywords, description: 'reply keyword → acknowledgement text' },
  replyWindowSeconds: int,
};

const { to: _to, from: _from, ...reminderChange } = reminderBody;

/** Verify (OTP), reminders, contacts and groups, alerts. */
const applicationPaths = {
  '/v1/verify': {
    get: {
      ...op('The account’s verifications, newest first (`to`: one number’s)', [
        '200',
        'A page of verifications',
      ]),
      parameters: [{ name: 'to', in: 'query', schema: str }, ...page],
    },
    post: op(
      'Start a verification: a one-time code sent by SMS',
      ['201', 'Pending verification {id, to, status}'],
      json({ to: str, codeLength: int, ttlSeconds: int, template: str, locale: str, from: str }, ['to']),
      { '403': 'Country not allowed', '429': 'Send limit or velocity limit (Retry-After)' },
    ),
  },
  '/v1/verify/{id}': { parameters: idParam, get: op('A verification', ['200', 'The verification']) },
  '/v1/verify/{id}/check': {
    parameters: idParam,
    post: op(
      'Check a code',
      ['200', '{id, status: approved | pending | max_attempts_reached | expired, valid}'],
      json({ code: str }, ['code']),
      { '404': 'No such verification, or it is approved or canceled' },
    ),
  },
  '/v1/verify/{id}/resend': {
    parameters: idParam,
    post: op('Send a new code (the previous one stops working)', ['200', 'The verification'], undefined, {
      '409': 'Not pending',
      '429': 'Send limit (Retry-After)',
    }),
  },
  '/v1/verify/{id}/cancel': {
    parameters: idParam,
    post: op('Cancel a pending verification', ['200', 'Canceled'], undefined, { '409': 'Not pending' }),
  },
  '/v1/reminders': {
    post: op(
      'Schedule a reminder',
      ['201', '{id, status: scheduled, ...}'],
      json(reminderBody, ['to', 'at', 'text', 'replies']),
    ),
    get: {
      ...op('List reminders', ['200', 'A page']),
      parameters: [...page, ...['status', 'to'].map((name) => ({ name, in: 'query', schema: str }))],
    },
  },
  '/v1/reminders/{id}': {
    parameters: idParam,
    get: op('A reminder: status scheduled | sent | <reply outcome> | canceled | expired | failed, reply', [
      '200',
      'The reminder',
    ]),
    // The number and sender are the reminder's own: a change takes the rest.
    patch: op('Change a reminder not sent yet', ['200', 'The reminder'], json(reminderChange), {
      '409': 'Already sent',
    }),
    delete: op('Cancel a reminder', ['200', 'Canceled'], undefined, { '409': 'Already settled' }),
  },
  '/v1/reminders/{id}/cancel': {
    parameters: idParam,
    post: op('Cancel a reminder', ['200', 'Canceled'], undefined, { '409': 'Already settled' }),
  },
  '/v1/contacts': {
    post: op(
      'Create a contact',
      ['201', 'The contact'],
      json({ to: str, name: str, vars: keywords, groups: strings }, ['to']),
      { '409': 'A contact has this number' },
    ),
    get: {
      ...op('List contacts', ['200', 'A page']),
      parameters: [...page, { name: 'to', in: 'query', schema: str }],
    },
  },
  '/v1/contacts/import': {
    post: {
      ...importOp,
      responses: {
        ...importOp.responses,
        '408': bodyIdle,
        '413': { description: 'More than 20 MiB' },
        '429': { description: 'Too many imports at once, or too many failed API keys (Retry-After)' },
      },
      parameters: [{ name: 'group', in: 'query', schema: str }],
      requestBody: {
        content: {
          'text/csv': { schema: str },
          'application/json': { schema: { type: 'object', properties: { csv: str, group: str } } },
        },
      },
    },
  },
  '/v1/contacts/{id}': {
    parameters: idParam,
    get: op('A contact', ['200', 'The contact']),
    patch: op(
      'Change a contact',
      ['200', 'The contact'],
      json({ name: str, vars: keywords, groups: strings }),
    ),
    delete: op('Delete a contact', ['204', 'Deleted']),
  },
  '/v1/groups': {
    post: op('Create a group', ['201', 'The group'], json({ name: str, description: str }, ['name'])),
    get: { ...op('List groups', ['200', 'A page']), parameters: page },
  },
  '/v1/groups/{id}': {
    parameters: idParam,
    get: op('A group with its size', ['200', 'The group']),
    delete: op('Delete a group (its contacts stay)', ['204', 'Deleted']),
  },
  '/v1/groups/{id}/contacts': {
    parameters: idParam,
    get: { ...op("A group's contacts", ['200', 'A page']), parameters: page },
  },
  '/v1/alerts': {
    post: op(
      'Send an emergency alert',
      ['202', '{id, total, status, counts, skipped}'],
      json(
        {
          text: str,
          recipients: strings,
          groups: strings,
          csv: str,
          flash: { type: 'boolean' },
          from: str,
          broadcast: {
            type: 'object',
            description: 'cell broadcast (SMPP 5.0 broadcast_sm) on connectors with broadcast: true',
            required: ['areas'],
            properties: { areas: strings, repetitions: int, frequencySeconds: int, connectors: strings },
          },
        },
        ['text'],
      ),
    ),
    get: { ...op('List alerts', ['200', 'A page']), parameters: page },
  },
  '/v1/alerts/{id}': {
    parameters: idParam,
    get: op('An alert: {id, status: sending | completed | canceled, total, counts}', ['200', 'The alert']),
  },
  '/v1/alerts/{id}/progress': {
    parameters: idParam,
    get: op('Sent, delivered and failed per minute', ['200', '{id, total, perMinute}']),
  },
  '/v1/alerts/{id}/cancel': {
    parameters: idParam,
    post: op('Cancel what has not left yet', ['200', 'The alert with canceledMessages'], undefined, {
      '409': 'Not sending',
    }),
  },
};

const admin = { security: [{ adminKey: [] }], tags: ['admin'] };
const adminOp = (
  operationId: string,
  summary: string,
  ok: [string, string],
  more: Record<string, string> = {},
) => ({
  ...admin,
  ...op(summary, ok, undefined, { '401': 'Missing or invalid admin key', ...more }),
  operationId,
});
/** An account's settings as the config file's `accounts[]` takes them, less `apiKeys` (issued apart). */
const accountSettings = {
  id: str,
  twilio: { type: 'object', description: '{accountSid, smsUrl?}' },
  smpp: {
    type: 'object',
    description: '{systemId, password, maxBinds?, allowIps?}; the password is stored hashed',
  },
  webhook: { type: 'object', description: '{url, secret?, statuses?}' },
  defaultFrom: str,
  defaultCountry: { type: 'string', description: 'ISO 3166 alpha-2' },
  mps: int,
  verify: { type: 'object' },
  policy: {
    type: 'object',
    description:
      '{senders, destinations: {allow, deny}, dailyQuota, monthlyQuota, allowIps, pumping, mobileOnly}',
  },
  billing: {
    type: 'object',
    description: '{type: prepaid | postpaid, currency, creditLimit?, lowBalance?, plan?}',
  },
  links: { type: 'object', description: '{shorten, baseUrl?}: URLs in texts become tracked short links' },
  services: {
    type: 'array',
    items: { type: 'object' },
    description:
      'Sender pools: [{id, sid?, senders, sticky?, geomatch?, alphanumeric?, alphanumericCountries?}]',
  },
};
const accountInvalid = {
  '400':
    '`invalid_account` naming the path of the first problem (`accounts[0].policy.senders`), or `unknown_field`',
};
/** A connector's settings as the config file's `connectors[]` takes them (by its `type`). */
const connectorBody = (required: string[]) => ({
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required,
        additionalProperties: true,
        properties: {
          id: str,
          type: { type: 'string', enum: ['simulator', 'smpp', 'http', 'ucp', 'cimd2', 'modem'] },
        },
        description: "Every setting of the connector's type, as in the config file",
      },
    },
  },
});
const keyParam = [...idParam, { name: 'keyId', in: 'path', required: true, schema: str }];
const connectorParam = [{ name: 'id', in: 'path', required: true, schema: str, description: 'connector id' }];
/** The parameters of a message-count series (GET /v1/stats/series and its admin form). */
const seriesParams = [
  {
    name: 'metric',
    in: 'query',
    required: true,
    schema: {
      type: 'string',
      enum: [
        'accepted',
        'submitted',
        'delivered',
        'failed',
        'inbound',
        'queued',
        'delivery_ratio',
        'receipt_latency_p50',
        'receipt_latency_p95',
      ],
    },
    description:
      'message counts; queued: the most messages waiting in memory (every node); delivery_ratio: delivered of delivered and failed; receipt_latency_p50/p95: seconds from submit to receipt (null where none)',
  },
  {
    name: 'step',
    in: 'query',
    schema: { type: 'integer', minimum: 60, maximum: 86400, multipleOf: 60, default: 60 },
    description: 'seconds per bucket',
  },
  { name: 'from', in: 'query', schema: int, description: 'unix seconds (default: an hour before `to`)' },
  { name: 'to', in: 'query', schema: int, description: 'unix seconds (default: now)' },
];
const seriesAnswer =
  '{step, points: [[t, n], ...]}: t the unix second a bucket starts, n the metric in it (a count of messages for the counts), the current bucket included';

/**
 * Where an `http` connector's provider pushes receipts or inbound messages (CONTRACT §8):
 * no API key, the connector authenticates the push (provider signature or URL secret).
 */
const connectorPush = (kind: 'Receipt' | 'Inbound', what: string) => {
  const operation = (method: 'Get' | 'Post') => ({
    security: [],
    tags: ['connectors'],
    operationId: `push${kind}${method}`,
    summary: `${what} (fields in the ${method === 'Get' ? 'query' : 'JSON or form body, or the query'})`,
    parameters: [
      {
        name: 'secret',
        in: 'query',
        required: false,
        schema: str,
        description: "the connector's push secret",
      },
    ],
    responses: {
      '200': { description: 'Stored (Twilio: an empty TwiML <Response/>)' },
      '400': { description: 'Nothing this connector reads' },
      '401': { description: 'No secret or provider signature' },
      '403': { description: 'Wrong secret or signature' },
      '404': { description: 'No http connector of that id' },
      '503': { description: 'Not stored; push it again later' },
    },
  });
  return { parameters: connectorParam, get: operation('Get'), post: operation('Post') };
};

/** /v1/admin/*: behind an admin key (`admin.apiKeys`). */
const adminPaths = {
  '/v1/admin/nodes': {
    get: adminOp('listNodes', "The gateway processes on the store (a cluster's nodes)", [
      '200',
      '{data: [{id, self, host, pid, startedAt, leaseUntil, alive, backlog, connectors, queued, inFlight, share}]}',
    ]),
  },
  '/v1/admin/connectors': {
    get: adminOp('listConnectors', 'Connectors with their live state', ['200', '{data: [connector state]}']),
    post: {
      ...adminOp(
        'createConnector',
        'Add a connector and start it (kept in the store; wins over the config file)',
        ['201', '{source: "admin", settings} (secrets shown as "(set)")'],
        { '400': '`invalid_connector` naming the path (`connectors[0].port`)', '409': '`connector_exists`' },
      ),
      requestBody: connectorBody(['id', 'type']),
    },
  },
  '/v1/admin/connectors/{id}': {
    parameters: connectorParam,
    get: adminOp('getConnector', "A connector's live state", ['200', 'The state'], {
      '404': 'No such connector',
    }),
    patch: {
      ...adminOp(
        'updateConnector',
        'Change the settings given (null removes one; secrets not given are kept); its binds restart',
        ['200', '{source: "admin", settings}'],
        { '400': '`invalid_connector` naming the path', '404': 'No such connector' },
      ),
      requestBody: connectorBody([]),
    },
    delete: adminOp(
      'deleteConnector',
      'Stop and remove a connector; a restart or reload does not bring it back',
      ['204', 'Removed'],
      { '404': 'No such connector', '409': '`connector_in_use`: MT routes name it' },
    ),
  },
  '/v1/admin/connectors/{id}/settings': {
    parameters: connectorParam,
    get: adminOp(
      'getConnectorSettings',
      'A connector\'s settings in force and where they come from (secrets shown as "(set)")',
      ['200', '{source: config | admin, settings}'],
      { '404': 'No such connector' },
    ),
  },
  '/v1/admin/connectors/{id}/start': {
    parameters: connectorParam,
    post: adminOp('startConnector', 'Start (bind) a connector', ['200', 'The state'], {
      '404': 'No such connector',
    }),
  },
  '/v1/admin/connectors/{id}/stop': {
    parameters: connectorParam,
    post: adminOp('stopConnector', 'Stop (unbind) a connector', ['200', 'The state'], {
      '404': 'No such connector',
    }),
  },
  '/v1/admin/connectors/{id}/inbound': {
    parameters: connectorParam,
    post: {
      ...adminOp(
        'injectInbound',
        'Inject an inbound message at a simulator connector, as a carrier would send it',
        ['202', '{status: "injected"}'],
        { '404': 'No such connector', '409': 'The connector cannot inject (not a simulator)' },
      ),
      requestBody: json({ from: str, to: str, text: str }, ['from', 'to', 'text']),
    },
  },
  '/v1/admin/routes': {
    get: adminOp('getRoutes', 'The MT and MO routes as configured', ['200', '{mt: [...], mo: [...]}']),
  },
  '/v1/admin/routes/quality': {
    get: adminOp(
      'getRouteQuality',
      'Delivery ratio and receipt latency per connector and destination country, over the last receipts (this gateway)',
      ['200', '{window, data: [{connector, country, receipts, deliveryRatio, receiptLatencyMs}]}'],
    ),
  },
  '/v1/admin/routes/mt/explain': {
    get: {
      ...adminOp(
        'explainMtRoute',
        'Which MT rule a message would take now, the connectors in the order they would be tried, and why',
        [
          '200',
          "{rule (index in routes.mt, null when none), connectors, strategy, reason, skipped: [{rule, condition}], costs: {connector: cost | null}, network (the online lookup's MCC+MNC, when a rule matches on network)}",
        ],
      ),
      parameters: [
        { name: 'to', in: 'query', required: true, schema: str },
        ...['from', 'account', 'text'].map((name) => ({ name, in: 'query', schema: str })),
        { name: 'tags', in: 'query', schema: str, description: 'Comma-separated' },
        {
          name: 'at',
          in: 'query',
          schema: { type: 'string', format: 'date-time' },
          description: 'Route as at this time (match.time, match.dates); default now',
        },
      ],
    },
  },
  '/v1/admin/routes/mo': {
    get: adminOp('getMoRoutes', 'The MO rules in force and where they come from', [
      '200',
      '{source: config | admin, updatedAt, routes}',
    ]),
    put: {
      ...adminOp('putMoRoutes', 'Replace the MO rules (kept in the store, survive restarts)', [
        '200',
        '{source: "admin", updatedAt, routes}',
      ]),
      requestBody: json({ routes: { type: 'array', items: { type: 'object' } } }, ['routes']),
    },
    delete: adminOp('resetMoRoutes', "Go back to the config file's MO rules", [
      '200',
      '{source: "config", updatedAt: null, routes}',
    ]),
  },
  '/v1/admin/accounts/{id}/credit': {
    parameters: idParam,
    post: {
      ...adminOp('creditAccount', "Add to (or, negative, take from) a billed account's balance", [
        '200',
        '{balance, currency}',
      ]),
      requestBody: json(
        {
          amount: { type: 'number', description: "In the currency's main unit; not 0" },
          reference: { type: 'string', maxLength: 256 },
        },
        ['amount'],
      ),
    },
  },
  '/v1/admin/accounts': {
    get: adminOp('listAccounts', 'Accounts (no secrets)', ['200', '{data: [{id, smpp, webhook, mps}]}']),
    post: {
      ...adminOp(
        'createAccount',
        'Create an account (kept in the store; wins over the config file)',
        ['201', 'The account, no secrets, with source "admin"'],
        { ...accountInvalid, '409': '`account_exists`' },
      ),
      requestBody: json(accountSettings, ['id']),
    },
  },
  '/v1/admin/accounts/{id}': {
    parameters: idParam,
    get: adminOp(
      'getAccount',
      'An account: every setting, no secret; source config | admin',
      ['200', 'The account'],
      {
        '404': 'No such account',
      },
    ),
    patch: {
      ...adminOp(
        'updateAccount',
        "Change the fields given (null removes one); the account is the API's from then on",
        ['200', 'The account'],
        { ...accountInvalid, '404': 'No such account' },
      ),
      requestBody: json(accountSettings),
    },
    delete: adminOp(
      'deleteAccount',
      'Delete an account: its keys and binds stop working; a restart or reload does not bring it back',
      ['204', 'Deleted'],
      { '404': 'No such account', '409': '`account_in_use`: MO routes name it' },
    ),
  },
  '/v1/admin/accounts/{id}/keys': {
    parameters: idParam,
    get: adminOp('listAccountKeys', 'Its API keys: ids and prefixes, never a key', [
      '200',
      '{data: [{id, source, prefix, createdAt}]}',
    ]),
    post: adminOp('createAccountKey', 'A new API key, shown this once (stored hashed)', [
      '201',
      '{id, source, prefix, createdAt, key}',
    ]),
  },
  '/v1/admin/accounts/{id}/keys/{keyId}': {
    parameters: keyParam,
    delete: adminOp('revokeAccountKey', 'Revoke a key (a configured one stays revoked)', ['204', 'Revoked'], {
      '404': 'No such account or key',
    }),
  },
  '/v1/admin/accounts/{id}/smpp': {
    parameters: idParam,
    post: {
      ...adminOp(
        'setAccountSmpp',
        'Set its SMPP credentials (the password stored hashed)',
        ['200', 'The account'],
        {
          ...accountInvalid,
          '404': 'No such account',
        },
      ),
      requestBody: json(
        { systemId: str, password: { type: 'string', maxLength: 8 }, maxBinds: int, allowIps: strings },
        ['systemId', 'password'],
      ),
    },
    delete: adminOp('deleteAccountSmpp', 'Remove its SMPP credentials', ['200', 'The account'], {
      '404': 'No such account',
    }),
  },
  '/v1/admin/routes/mt': {
    get: adminOp('getMtRoutes', 'The MT rules in force and where they come from', [
      '200',
      '{source: config | admin, routes}',
    ]),
    put: {
      ...adminOp(
        'putMtRoutes',
        'Replace the MT rules (kept in the store, win over the file)',
        ['200', '{source: "admin", routes}'],
        { '400': '`invalid_routes` naming the path (`routes.mt[0].connectors[0]`)' },
      ),
      requestBody: json({ routes: { type: 'array', items: { type: 'object' } } }, ['routes']),
    },
    delete: adminOp('resetMtRoutes', "Go back to the config file's MT rules", [
      '200',
      '{source: "config", routes}',
    ]),
  },
  '/v1/admin/reload': {
    post: adminOp(
      'reloadConfig',
      'Re-read the config file (as SIGHUP does): accounts and MT routes the API never touched',
      ['200', '{changes: [{action, object, id}]}'],
      {
        '400': '`invalid_config` naming the path of the first problem; nothing changed',
        '409': '`no_config_file`',
      },
    ),
  },
  '/v1/admin/audit': {
    get: {
      ...adminOp('listAudit', 'Every change: who, when, what (secrets left out), newest first', [
        '200',
        '{data: [{id, at, actor, action, object, objectId, before, after}], nextCursor}',
      ]),
      parameters: [
        ...page,
        {
          name: 'object',
          in: 'query',
          schema: { type: 'string', enum: ['account', 'apiKey', 'routes', 'config'] },
        },
      ],
    },
  },
  '/v1/admin/stats/series': {
    get: {
      ...adminOp('getStatsSeries', 'Messages per bucket of time, of every account or one', [
        '200',
        seriesAnswer,
      ]),
      parameters: [
        ...seriesParams,
        { name: 'account', in: 'query', schema: str, description: "only this account's messages" },
        { name: 'connector', in: 'query', schema: str, description: 'only messages through this connector' },
      ],
    },
  },
  '/v1/admin/connectors/{id}/history': {
    parameters: connectorParam,
    get: adminOp(
      'getConnectorHistory',
      "A connector's last 50 changes of state, oldest first (this gateway's)",
      ['200', '{data: [{at, status, bound, binds, reason}]}'],
      { '404': 'No such connector' },
    ),
  },
  '/v1/admin/smpp/sessions': {
    get: adminOp('listSmppSessions', 'The ESMEs bound to this gateway', [
      '200',
      '{data: [{id, account, systemId, bindType, address, since, window, submitted, delivered}]}',
    ]),
  },
  '/v1/admin/smpp/sessions/{id}': {
    parameters: idParam,
    delete: adminOp(
      'disconnectSmppSession',
      "Close an ESME's session (it may bind again)",
      ['204', 'Closed'],
      {
        '404': 'No such session on this gateway',
      },
    ),
  },
  '/v1/admin/webhooks/backlog': {
    get: adminOp('getWebhookBacklog', 'Webhook deliveries waiting or given up, per account', [
      '200',
      '{data: [{accountId, pending, failing, abandoned, lastError}]}',
    ]),
  },
  '/v1/admin/receipts/unmatched': {
    get: adminOp('listUnmatchedReceipts', 'Receipts no message was found for (the newest 500)', [
      '200',
      '{data}',
    ]),
  },
  '/v1/admin/inbound/unrouted': {
    get: {
      ...adminOp('listUnroutedInbound', 'Inbound messages no MO rule took', ['200', 'A page of messages']),
      parameters: page,
    },
  },
  '/v1/admin/system/messages': {
    get: {
      ...adminOp(
        'listSystemMessages',
        'What MO rules without an account took, and the replies sent for them (owner `_system`)',
        ['200', 'A page of messages'],
      ),
      parameters: [
        ...page,
        { name: 'direction', in: 'query', schema: { type: 'string', enum: ['mt', 'mo'] } },
      ],
    },
  },
  '/v1/admin/messages': {
    get: {
      ...adminOp(
        'searchAllMessages',
        "Every account's messages (or one's: `account`) searched as GET /v1/messages searches; each names its `account`. Without `account`, `q` is required",
        ['200', 'A page of messages, or the whole search as CSV (format=csv or Accept: text/csv)'],
        { '400': 'Neither q nor account (missing_field)', '404': 'No such account' },
      ),
      parameters: [
        { name: 'account', in: 'query', schema: { type: 'string' }, description: 'Only this account' },
        ...messageSearchParameters,
      ],
    },
  },
  '/v1/admin/messages/{id}': {
    parameters: idParam,
    get: adminOp(
      'getAnyMessage',
      'Any message with its events, its owner (`account`) and `cost`: what its connector charges for it (null: no cost known)',
      ['200', 'The message'],
      {
        '404': 'No such message',
      },
    ),
  },
};

/** A Twilio-compatible operation: Basic auth AccountSid:apiKey, form bodies, Twilio JSON and errors. */
const twilioOp = (operationId: string, summary: string, ok: [string, string]) => ({
  operationId,
  security: [{ basic: [] }],
  tags: ['twilio'],
  summary,
  responses: {
    [ok[0]]: { description: ok[1] },
    '400': { description: 'Twilio error {code, message, more_info, status}' },
    '401': { description: 'Twilio error 20003' },
    '404': { description: 'Twilio error 20404' },
  },
});
const form = (fields: string[], required: string[] = []) => ({
  content: {
    'application/x-www-form-urlencoded': {
      schema: { type: 'object', required, properties: Object.fromEntries(fields.map((f) => [f, str])) },
    },
  },
});

/** Twilio Verify v2 over the gateway's own Verify (SMS channel only), and Lookup v2. */
const twilioVerifyPaths = {
  '/v2/Services': {
    post: {
      ...twilioOp('twilioCreateVerifyService', 'Verify: create a service', ['201', 'The service (VA…)']),
      requestBody: form(['FriendlyName', 'CodeLength'], ['FriendlyName']),
    },
    get: {
      ...twilioOp('twilioListVerifyServices', 'Verify: list services (PageSize, PageToken)', [
        '200',
        'A page',
      ]),
      parameters: ['PageSize', 'Page', 'PageToken'].map((name) => ({ name, in: 'query', schema: str })),
    },
  },
  '/v2/Services/{ServiceSid}': {
    get: twilioOp('twilioFetchVerifyService', 'Verify: fetch a service', ['200', 'The service']),
    post: {
      ...twilioOp('twilioUpdateVerifyService', 'Verify: update a service', ['200', 'The service']),
      requestBody: form(['FriendlyName', 'CodeLength']),
    },
    delete: twilioOp('twilioDeleteVerifyService', 'Verify: delete a service', ['204', 'Deleted']),
  },
  '/v2/Services/{ServiceSid}/Verifications': {
    post: {
      ...twilioOp('twilioCreateVerification', 'Verify: send a code', [
        '201',
        'The verification (VE…), pending',
      ]),
      requestBody: form(['To', 'Channel', 'Locale', 'CustomFriendlyName'], ['To']),
    },
  },
  '/v2/Services/{ServiceSid}/Verifications/{Sid}': {
    get: twilioOp('twilioFetchVerification', 'Verify: fetch a verification', ['200', 'The verification']),
    post: {
      ...twilioOp('twilioUpdateVerification', 'Verify: cancel a verification (Status=canceled)', [
        '200',
        'The verification',
      ]),
      requestBody: form(['Status'], ['Status']),
    },
  },
  '/v2/Services/{ServiceSid}/VerificationCheck': {
    post: {
      ...twilioOp('twilioCheckVerification', 'Verify: check a code (Code with To or VerificationSid)', [
        '200',
        'The check: status approved or pending, valid',
      ]),
      requestBody: form(['Code', 'To', 'VerificationSid'], ['Code']),
    },
  },
  '/v2/PhoneNumbers/{PhoneNumber}': {
    get: {
      ...twilioOp(
        'twilioLookupPhoneNumber',
        'Lookup v2: valid, country, national format; Fields=line_type_intelligence adds the line type and, with an online lookup, MCC, MNC and carrier',
        ['200', 'The phone number, in Lookup v2 JSON'],
      ),
      parameters: ['Fields', 'CountryCode'].map((name) => ({ name, in: 'query', schema: str })),
    },
  },
};

const httpMethods = ['get', 'put', 'post', 'delete', 'patch'] as const;

/**
 * Every operation gets an `operationId` (derived from its method and path when none is
 * written) and every `{name}` of its path a declared path parameter, so client generators
 * need nothing more.
 */
function completed(paths: Record<string, Record<string, unknown>>) {
  return Object.fromEntries(
    Object.entries(paths).map(([path, item]) => {
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
      const declared = ((item.parameters ?? []) as { name: string; in: string }[]).filter(
        (p) => p.in === 'path',
      );
      const missing = templated.filter((name) => !declared.some((p) => p.name === name));
      const parameters = [
        ...((item.parameters ?? []) as unknown[]),
        ...missing.map((name) => ({ name, in: 'path', required: true, schema: str })),
      ];
      const operations = Object.fromEntries(
        Object.entries(item).map(([key, value]) =>
          (httpMethods as readonly string[]).includes(key) &&
          (value as { operationId?: string }).operationId === undefined
            ? [key, { operationId: derivedOperationId(key, path), ...(value as object) }]
            : [key, value],
        ),
      );
      return [path, { ...operations, ...(parameters.length > 0 ? { parameters } : {}) }];
    }),
  );
}

/** `get /v1/messages/{id}` → `getV1MessagesById` */
function derivedOperationId(method: string, path: string): string {
  const words = path
    .split('/')
    .filter(Boolean)
    .map((seg) => {
      const param = /^\{(.+)\}$/.exec(seg);
      const word = (param ? `by-${param[1]}` : seg).replace(/\.json$/, '');
      return word
        .split(/[^A-Za-z0-9]+/)
        .filter(Boolean)
        .map((w) => w[0]!.toUpperCase() + w.slice(1))
        .join('');
    });
  return method + words.join('');
}

/** Query parameters, all strings, as the compat APIs take them. */
const queryParams = (names: string[], required: string[] = []) =>
  names.map((name) => ({ name, in: 'query', required: required.includes(name), schema: str }));
const kannelParams = [
  'username',
  'password',
  'from',
  'to',
  'text',
  'charset',
  'coding',
  'udh',
  'mclass',
  'validity',
  'deferred',
  'priority',
  'dlr-mask',
  'dlr-url',
];
const jasminParams = [
  'username',
  'password',
  'to',
  'from',
  'content',
  'hex-content',
  'coding',
  'priority',
  'sdt',
  'validity-period',
  'dlr',
  'dlr-url',
  'dlr-level',
  'dlr-method',
];

const jasminBalance = {
  operationId: 'jasminBalance',
  security: [],
  tags: ['jasmin'],
  summary: 'Jasmin balance (username, password): {"balance": "ND", "sms_count": "ND"}',
  responses: { '200': { description: 'JSON' } },
};
const jasminRate = {
  operationId: 'jasminRate',
  security: [],
  tags: ['jasmin'],
  summary: 'Jasmin rate (username, password, to, content): the part count, unit_rate 0',
  responses: { '200': { description: 'JSON' } },
};

export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'smsgw REST API', version: '1' },
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer' },
      basic: { type: 'http', scheme: 'basic' },
      adminKey: { type: 'http', scheme: 'bearer', description: 'an admin key (admin.apiKeys)' },
    },
  },
  security: [{ bearer: [] }, { basic: [] }],
  paths: completed({
    '/v1/messages': {
      post: {
        operationId: 'sendMessage',
        summary: 'Send a message',
        parameters: [{ name: 'Idempotency-Key', in: 'header', schema: { type: 'string' } }],
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['to'],
                properties: {
                  to: { type: 'string' },
                  from: { type: 'string' },
                  text: { type: 'string' },
                  binaryHex: { type: 'string' },
                  encoding: { type: 'string', enum: ['auto', 'gsm7', 'ucs2', 'latin1', 'binary'] },
                  callbackUrl: {
                    type: 'string',
                    description:
                      'Refused (callback_not_allowed) when it leads to an internal address (SECURITY.md)',
                  },
                  validitySeconds: { type: 'integer' },
                  sendAt: { type: 'string', format: 'date-time', description: 'At most 10 years ahead' },
                  priority: { type: 'string', enum: [...priorities] },
                  clientRef: { type: 'string' },
                  flash: { type: 'boolean' },
                  tags: {
                    type: 'array',
                    items: { type: 'string' },
                    description:
                      'Labels for routing (match.tags): at most 16, each 1-64 characters, no comma or space',
                  },
                  country: {
                    type: 'string',
                    description:
                      "ISO 3166 country of a `to` written without +; default the account's defaultCountry",
                  },
                  service: {
                    type: 'string',
                    description:
                      'A sender pool of the account (accounts[].services id): the sender is chosen from it (sticky, geomatch, alphanumeric); instead of from',
                  },
                },
              },
            },
          },
        },
        responses: {
          '202': { description: 'Accepted and stored', content: { 'application/json': { schema: message } } },
          '409': { description: 'Idempotency-Key reused with another body' },
          '503': {
            description:
              'store_unavailable: the store cannot write now; server_busy: a body over 16 KiB while http.maxBodyMegabytes of them are held (Retry-After)',
          },
          ...errors,
          '429': { description: 'Rate limited, or too many failed API keys (Retry-After)' },
        },
      },
      get: {
        operationId: 'listMessages',
        summary:
          'List and search messages, newest first; the whole search as CSV with format=csv or Accept: text/csv',
        parameters: messageSearchParameters,
        responses: {
          '200': {
            ...pageOf(message),
            content: { ...pageOf(message).content, 'text/csv': { schema: { type: 'string' } } },
          },
          ...errors,
        },
      },
    },
    '/v1/messages/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: {
        operationId: 'getMessage',
        summary: 'A message with its events',
        responses: {
          '200': { description: 'The message', content: { 'application/json': { schema: message } } },
          '404': { description: 'Not found' },
        },
      },
      delete: {
        operationId: 'cancelMessage',
        summary: 'Cancel a queued or scheduled message',
        responses: {
          '200': { description: 'Canceled' },
          '404': { description: 'Not found' },
          '409': { description: 'Too late to cancel' },
        },
      },
    },
    '/v1/messages/{id}/links': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: {
        operationId: 'listMessageLinks',
        summary:
          'The short links of a message (accounts[].links) with their clicks, in the order of its text',
        responses: {
          '200': {
            description:
              '{data: [{code, messageId, url, clicks, firstClickAt, lastClickAt}]} (times ISO 8601, null before the first click)',
          },
          '404': { description: 'Not found' },
        },
      },
    },
    '/v1/messages/segments': {
      get: {
        operationId: 'getSegments',
        summary: 'Encoding and segments of a text',
        parameters: [{ name: 'text', in: 'query', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: 'The calculation' } },
      },
      post: {
        operationId: 'calculateSegments',
        summary: 'Encoding and segments of a text',
        requestBody: json({
          text: str,
          encoding: { type: 'string', enum: ['auto', 'gsm7', 'ucs2', 'latin1', 'binary'] },
        }),
        responses: { '200': { description: 'The calculation' } },
      },
    },
    '/v1/balance': {
      get: {
        operationId: 'getBalance',
        summary: "The account's balance: {balance, currency, type: prepaid | postpaid | null}",
        responses: { '200': { description: 'The balance' }, ...errors },
      },
    },
    '/v1/balance/ledger': {
      get: {
        operationId: 'getLedger',
        summary: 'Every movement of the balance, newest first: debits, refunds, credits (paged)',
        responses: { '200': pageOf({ type: 'object' }), ...errors },
      },
    },
    '/v1/stats/series': {
      get: {
        operationId: 'getOwnStatsSeries',
        summary: "The account's own messages per bucket of time",
        parameters: seriesParams,
        responses: { '200': { description: seriesAnswer }, ...errors },
      },
    },
    '/v1/usage': {
      get: {
        operationId: 'getUsage',
        summary:
          'Outbound messages, parts, price and cost per day, country or connector (?from&to&groupBy; format=csv or Accept: text/csv)',
        parameters: [
          {
            name: 'from',
            in: 'query',
            schema: str,
            description: 'ISO date or time, or unix seconds (default: start of month, UTC)',
          },
          {
            name: 'to',
            in: 'query',
            schema: str,
            description: 'ISO date (whole day), time or unix seconds, exclusive',
          },
          { name: 'groupBy', in: 'query', schema: { type: 'string', enum: ['day', 'country', 'connector'] } },
          { name: 'format', in: 'query', schema: { type: 'string', enum: ['json', 'csv'] } },
        ],
        responses: {
          '200': {
            description:
              '{from, to, groupBy, data: [{<group>, currency, messages, parts, price, cost}], total}',
            content: { 'application/json': { schema: { type: 'object' } }, 'text/csv': { schema: str } },
          },
          ...errors,
        },
      },
    },
    '/v1/suppressions': {
      get: {
        summary: 'The opt-out list (paged; ?to= filters)',
        responses: { '200': { description: 'A page' } },
      },
      post: {
        summary: 'Add a number: {to, scope?: account|sender, from?, reason?}',
        requestBody: json(
          { to: str, scope: { type: 'string', enum: ['account', 'sender'] }, from: str, reason: str },
          ['to'],
        ),
        responses: { '201': { description: 'Added' }, ...errors },
      },
    },
    '/v1/suppressions/import': {
      post: {
        summary: 'Add numbers from text/csv (a `to` column, optional `from`) or one number a line',
        requestBody: { content: { 'text/csv': { schema: str }, 'text/plain': { schema: str } } },
        responses: {
          '200': { description: '{added, invalid, invalidRows}' },
          ...errors,
          '408': bodyIdle,
          '413': { description: 'More than 64 MB or 1,000,000 rows' },
          '429': { description: 'Too many imports at once, or too many failed API keys (Retry-After)' },
        },
      },
    },
    '/v1/suppressions/{to}': {
      delete: {
        summary: 'Remove a number (?from= for a sender-scoped entry)',
        responses: { '204': { description: 'Removed' }, '404': { description: 'Not listed' } },
      },
    },
    '/v1/lookup/{number}': {
      get: {
        operationId: 'lookupNumber',
        summary:
          'What the offline number lookup says of a number: country (as routing reads it), validity, line type; and the online lookup (network, ported) when one is configured',
        parameters: [
          {
            name: 'number',
            in: 'path',
            required: true,
            schema: str,
            description: 'E.164 (+ as %2B) or national',
          },
          {
            name: 'country',
            in: 'query',
            schema: str,
            description:
              "ISO 3166 country of a number written without +; default the account's defaultCountry",
          },
        ],
        responses: {
          '200': {
            description: 'The lookup',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    number: str,
                    valid: { type: 'boolean' },
                    country: { type: ['string', 'null'] },
                    countryCallingCode: { type: ['string', 'null'] },
                    lineType: {
                      type: ['string', 'null'],
                      description:
                        'mobile, fixed_line, fixed_line_or_mobile, toll_free, premium_rate, shared_cost, voip, personal_number, pager, uan, voicemail; null when unknown',
                    },
                    online: {
                      type: ['object', 'null'],
                      description:
                        'The online lookup (only when `lookup` is configured; null when it failed): mcc, mnc, network (MCC+MNC, as match.network reads it), ported, carrier, cached',
                      properties: {
                        mcc: { type: ['string', 'null'] },
                        mnc: { type: ['string', 'null'] },
                        network: { type: ['string', 'null'] },
                        ported: { type: ['boolean', 'null'] },
                        carrier: { type: ['string', 'null'] },
                        cached: { type: 'boolean' },
                      },
                    },
                  },
                },
              },
            },
          },
          ...errors,
        },
      },
    },
    '/v1/conversations': {
      get: {
        summary: 'Threads between your numbers and people',
        responses: { '200': { description: 'A page' } },
      },
    },
    '/v1/conversations/{id}': {
      get: {
        summary: 'A thread',
        responses: { '200': { description: 'The thread' }, '404': { description: 'Not found' } },
      },
    },
    '/v1/conversations/{id}/messages': {
      get: { summary: 'Messages either way, newest first', responses: { '200': { description: 'A page' } } },
      post: {
        summary: 'Reply {text}: from your number, over the connector they wrote in on',
        requestBody: json({ text: str }, ['text']),
        responses: {
          '202': { description: 'Accepted', content: { 'application/json': { schema: message } } },
          ...errors,
        },
      },
    },
    ...applicationPaths,
    '/v1/batches': {
      post: {
        summary: 'Send a template to many recipients',
        description:
          'JSON with `recipients` ([{to, vars}]) or `csv` (text, header row: to plus variable names); or a streamed text/csv body with the settings as query parameters. A JSON body over 1 MiB has its recipients built one at a time, not parsed whole.',
        parameters: Object.keys(batchSettings).map((name) => ({
          name,
          in: 'query',
          schema: { type: 'string' },
        })),
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['text'],
                properties: {
                  ...batchSettings,
                  recipients: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: { to: { type: 'string' }, vars: { type: 'object' } },
                    },
                  },
                  csv: { type: 'string' },
                },
              },
            },
            'text/csv': { schema: { type: 'string' } },
          },
        },
        responses: {
          '202': { description: 'Every message stored', content: { 'application/json': { schema: batch } } },
          '200': { description: 'Dry run: counts, encodings, segments, routes' },
          '408': bodyIdle,
          '413': { description: 'Too many recipients' },
          ...errors,
          '429': { description: 'Too many uploads at once, or too many failed API keys (Retry-After)' },
        },
      },
      get: {
        summary: 'List batches, newest first',
        description:
          'Each item is the batch as GET /v1/batches/{id} shows it, with its counts by status (kept a second), rate and ETA',
        parameters: ['status', 'cursor', 'limit'].map((name) => ({
          name,
          in: 'query',
          schema: { type: 'string' },
        })),
        responses: { '200': pageOf(batch), ...errors },
      },
    },
    '/v1/batches/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: {
        summary: 'A batch with counts by status, rate and ETA',
        responses: {
          '200': { description: 'The batch', content: { 'application/json': { schema: batch } } },
          '404': { description: 'Not found' },
        },
      },
    },
    '/v1/batches/{id}/messages': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: {
        summary: "The batch's messages",
        parameters: ['status', 'cursor', 'limit'].map((name) => ({
          name,
          in: 'query',
          schema: { type: 'string' },
        })),
        responses: { '200': { description: 'A page of messages' }, '404': { description: 'Not found' } },
      },
    },
    '/v1/batches/{id}/pause': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      post: batchAction('Hold every unsent message back'),
    },
    '/v1/batches/{id}/resume': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      post: batchAction('Send again'),
    },
    '/v1/batches/{id}/cancel': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      post: batchAction('Cancel every unsent message'),
    },
    '/health': {
      get: {
        security: [],
        summary: 'Store reachable',
        responses: { '200': { description: 'Healthy' }, '503': { description: 'Store down' } },
      },
    },
    '/l/{code}': {
      parameters: [{ name: 'code', in: 'path', required: true, schema: { type: 'string' } }],
      get: {
        operationId: 'followShortLink',
        security: [],
        summary: 'A short link: redirects to its URL, counts the click and sends a message.clicked webhook',
        responses: {
          '302': { description: 'To the URL (Location)' },
          '404': { description: 'No such link' },
        },
      },
    },
    '/ready': {
      get: {
        security: [],
        summary: 'Ready for traffic: the store answers and the gateway is not draining',
        responses: {
          '200': { description: '{status: "ready", connectors: [{id, state, binds, lastError, since}]}' },
          '503': { description: '{status: "store_unavailable" | "draining", connectors: [...]}' },
        },
      },
    },
    '/v1/connectors/{id}/receipts': connectorPush(
      'Receipt',
      'A delivery receipt from the provider of an http connector',
    ),
    '/v1/connectors/{id}/inbound': connectorPush(
      'Inbound',
      'An inbound message from the provider of an http connector',
    ),
    '/metrics': {
      get: {
        security: [],
        summary: 'Prometheus metrics',
        responses: { '200': { description: 'Metrics text' } },
      },
    },
    '/console': {
      get: {
        security: [],
        summary: 'The web console (HTML; signs in with an account API key or an admin key)',
        responses: { '200': { description: 'The console page', content: { 'text/html': {} } } },
      },
    },
    // Compatibility APIs (CONTRACT §6): each authenticates and answers in its own protocol's way.
    '/2010-04-01/Accounts/{AccountSid}/Messages.json': {
      post: {
        security: [{ basic: [] }],
        tags: ['twilio'],
        operationId: 'twilioCreateMessage',
        summary: 'Twilio: create a message (form: To, From, Body, StatusCallback, ValidityPeriod, SendAt...)',
        responses: { '201': { description: 'The message in Twilio JSON' } },
      },
      get: {
        security: [{ basic: [] }],
        tags: ['twilio'],
        operationId: 'twilioListMessages',
        summary: "Twilio: list messages (To, From, DateSent, PageSize, Page, PageToken) with Twilio's paging",
        responses: { '200': { description: 'A page of messages' } },
      },
    },
    '/2010-04-01/Accounts/{AccountSid}/Balance.json': {
      get: {
        security: [{ basic: [] }],
        tags: ['twilio'],
        operationId: 'twilioBalance',
        summary: "Twilio: the account's balance {account_sid, balance, currency}",
        responses: { '200': { description: 'The balance' } },
      },
    },
    '/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}.json': {
      get: {
        security: [{ basic: [] }],
        tags: ['twilio'],
        operationId: 'twilioFetchMessage',
        summary: 'Twilio: fetch a message',
        responses: { '200': { description: 'The message' } },
      },
      post: {
        security: [{ basic: [] }],
        tags: ['twilio'],
        operationId: 'twilioUpdateMessage',
        summary: 'Twilio: update a message (Status=canceled, or Body= to redact)',
        responses: { '200': { description: 'The message' } },
      },
      delete: {
        security: [{ basic: [] }],
        tags: ['twilio'],
        operationId: 'twilioDeleteMessage',
        summary: 'Twilio: delete a message',
        responses: { '204': { description: 'Deleted' } },
      },
    },
    '/cgi-bin/sendsms': {
      get: {
        security: [],
        tags: ['kannel'],
        operationId: 'kannelSendSms',
        summary:
          'Kannel sendsms (username, password, from, to, text, charset, coding, udh, dlr-mask, dlr-url, validity, deferred, mclass)',
        parameters: queryParams(kannelParams, ['username', 'password', 'to']),
        responses: { '202': { description: '0: Accepted for delivery' } },
      },
      post: {
        security: [],
        tags: ['kannel'],
        operationId: 'kannelSendSmsPost',
        summary: 'Kannel sendsms by form, or text/plain body with X-Kannel-* headers',
        responses: { '202': { description: '0: Accepted for delivery' } },
      },
    },
    '/send': {
      get: {
        security: [],
        tags: ['jasmin'],
        operationId: 'jasminSend',
        summary:
          'Jasmin send (username, password, to, from, content | hex-content, coding, dlr-url, dlr-level, dlr-method...)',
        parameters: queryParams(jasminParams, ['username', 'password', 'to']),
        responses: { '200': { description: 'Success "<id>"' } },
      },
      post: {
        security: [],
        tags: ['jasmin'],
        operationId: 'jasminSendPost',
        summary: 'Jasmin send (form or JSON)',
        responses: { '200': { description: 'Success "<id>"' } },
      },
    },
    '/balance': { get: jasminBalance, post: { ...jasminBalance, operationId: 'jasminBalancePost' } },
    '/rate': { get: jasminRate, post: { ...jasminRate, operationId: 'jasminRatePost' } },
    '/ping': {
      get: {
        security: [],
        tags: ['jasmin'],
        operationId: 'jasminPing',
        summary: 'Jasmin ping',
        responses: { '200': { description: 'Jasmin/PONG' } },
      },
    },
    '/openapi.json': {
      get: {
        security: [],
        summary: 'This document',
        responses: { '200': { description: 'The OpenAPI 3.1 document' } },
      },
    },
    '/console/': {
      get: {
        security: [],
        operationId: 'getConsoleIndex',
        summary: 'The web console (the same page as /console)',
        responses: { '200': { description: 'The console page', content: { 'text/html': {} } } },
      },
    },
    '/console/{file}': {
      get: {
        security: [],
        summary: "One of the console's own files (scripts, styles); no other name is answered",
        responses: { '200': { description: 'The file' }, '404': { description: 'Not a console file' } },
      },
    },
    ...adminPaths,
    ...twilioVerifyPaths,
  }),
};
