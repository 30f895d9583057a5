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
    error: {
      oneOf: [
        { type: 'null' },
        { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
      ],
    },
    createdAt: { type: 'string', format: 'date-time' },
    submittedAt: { type: ['string', 'null'], format: 'date-time' },
    doneAt: { type: ['string', 'null'], format: 'date-time' },
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
const errors = {
  '400': { description: 'Bad input', content: { 'application/json': { schema: error } } },
  '401': { description: 'Missing or invalid API key', content: { 'application/json': { schema: error } } },
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
const page = ['cursor', 'limit'].map((name) => ({ name, in: 'query', schema: str }));
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

/** Verify (OTP), reminders, contacts and groups, alerts. */
const applicationPaths = {
  '/v1/verify': {
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
    patch: op('Change a reminder not sent yet', ['200', 'The reminder'], json(reminderBody), {
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
      ...op('Import contacts from CSV (header: to, name, any variables), by number', [
        '200',
        '{total, created, updated, invalid, invalidRows}',
      ]),
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

export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'smsgw REST API', version: '1' },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, basic: { type: 'http', scheme: 'basic' } },
  },
  security: [{ bearer: [] }, { basic: [] }],
  paths: {
    '/v1/messages': {
      post: {
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
                  callbackUrl: { type: 'string' },
                  validitySeconds: { type: 'integer' },
                  sendAt: { type: 'string', format: 'date-time' },
                  priority: { type: 'string', enum: [...priorities] },
                  clientRef: { type: 'string' },
                  flash: { type: 'boolean' },
                },
              },
            },
          },
        },
        responses: {
          '202': { description: 'Accepted and stored', content: { 'application/json': { schema: message } } },
          '409': { description: 'Idempotency-Key reused with another body' },
          '429': { description: 'Rate limited' },
          ...errors,
        },
      },
      get: {
        summary: 'List messages',
        parameters: ['status', 'to', 'direction', 'cursor', 'limit'].map((name) => ({
          name,
          in: 'query',
          schema: { type: 'string' },
        })),
        responses: { '200': pageOf(message), ...errors },
      },
    },
    '/v1/messages/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: {
        summary: 'A message with its events',
        responses: {
          '200': { description: 'The message', content: { 'application/json': { schema: message } } },
          '404': { description: 'Not found' },
        },
      },
      delete: {
        summary: 'Cancel a queued or scheduled message',
        responses: {
          '200': { description: 'Canceled' },
          '404': { description: 'Not found' },
          '409': { description: 'Too late to cancel' },
        },
      },
    },
    '/v1/messages/segments': {
      get: {
        summary: 'Encoding and segments of a text',
        parameters: [{ name: 'text', in: 'query', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: 'The calculation' } },
      },
      post: {
        summary: 'Encoding and segments of a text',
        responses: { '200': { description: 'The calculation' } },
      },
    },
    '/v1/suppressions': {
      get: {
        summary: 'The opt-out list (paged; ?to= filters)',
        responses: { '200': { description: 'A page' } },
      },
      post: {
        summary: 'Add a number: {to, scope?: account|sender, from?, reason?}',
        responses: { '201': { description: 'Added' }, ...errors },
      },
    },
    '/v1/suppressions/import': {
      post: {
        summary: 'Add numbers from text/csv (a `to` column, optional `from`) or one number a line',
        responses: { '200': { description: '{added, invalid, invalidRows}' }, ...errors },
      },
    },
    '/v1/suppressions/{to}': {
      delete: {
        summary: 'Remove a number (?from= for a sender-scoped entry)',
        responses: { '204': { description: 'Removed' }, '404': { description: 'Not listed' } },
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
          'JSON with `recipients` ([{to, vars}]) or `csv` (text, header row: to plus variable names); or a streamed text/csv body with the settings as query parameters.',
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
          '413': { description: 'Too many recipients' },
          '429': { description: 'Too many uploads at once' },
          ...errors,
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
        security: [],
        tags: ['twilio'],
        summary: 'Twilio: create a message (form: To, From, Body, StatusCallback, ValidityPeriod, SendAt...)',
        responses: { '201': { description: 'The message in Twilio JSON' } },
      },
      get: {
        security: [],
        tags: ['twilio'],
        summary: "Twilio: list messages (To, From, DateSent, PageSize, Page, PageToken) with Twilio's paging",
        responses: { '200': { description: 'A page of messages' } },
      },
    },
    '/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json': {
      get: {
        security: [],
        tags: ['twilio'],
        summary: 'Twilio: fetch a message',
        responses: { '200': { description: 'The message' } },
      },
      post: {
        security: [],
        tags: ['twilio'],
        summary: 'Twilio: update a message (Status=canceled, or Body= to redact)',
        responses: { '200': { description: 'The message' } },
      },
      delete: {
        security: [],
        tags: ['twilio'],
        summary: 'Twilio: delete a message',
        responses: { '204': { description: 'Deleted' } },
      },
    },
    '/cgi-bin/sendsms': {
      get: {
        security: [],
        tags: ['kannel'],
        summary:
          'Kannel sendsms (username, password, from, to, text, charset, coding, udh, dlr-mask, dlr-url, validity, deferred, mclass)',
        responses: { '202': { description: '0: Accepted for delivery' } },
      },
      post: {
        security: [],
        tags: ['kannel'],
        summary: 'Kannel sendsms by form, or text/plain body with X-Kannel-* headers',
        responses: { '202': { description: '0: Accepted for delivery' } },
      },
    },
    '/send': {
      get: {
        security: [],
        tags: ['jasmin'],
        summary:
          'Jasmin send (username, password, to, from, content | hex-content, coding, dlr-url, dlr-level, dlr-method...)',
        responses: { '200': { description: 'Success "<id>"' } },
      },
      post: {
        security: [],
        tags: ['jasmin'],
        summary: 'Jasmin send (form or JSON)',
        responses: { '200': { description: 'Success "<id>"' } },
      },
    },
    '/balance': {
      get: {
        security: [],
        tags: ['jasmin'],
        summary: 'Jasmin balance',
        responses: { '200': { description: 'JSON' } },
      },
    },
    '/rate': {
      get: {
        security: [],
        tags: ['jasmin'],
        summary: 'Jasmin rate',
        responses: { '200': { description: 'JSON' } },
      },
    },
    '/ping': {
      get: {
        security: [],
        tags: ['jasmin'],
        summary: 'Jasmin ping',
        responses: { '200': { description: 'Jasmin/PONG' } },
      },
    },
  },
};
