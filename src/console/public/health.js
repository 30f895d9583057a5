// The admin's health page (#/health): connectors with their state, why they are down, since
// when, recent bind history, throughput and delivery ratio; the ESMEs bound here (with a
// disconnect button); webhook backlog per account; inbound no rule took; receipts that
// matched no message; the cluster's nodes.
import { errorText, query } from './api.js';
import { badge, duration, every, h, table, time } from './dom.js';

const refreshMs = 3000;
/** Throughput is taken over the last this many seconds; the delivery ratio over the last hour. */
const throughputSeconds = 300;

/**
 * @param {HTMLElement} root
 * @param {import('./api.js').Client} client
 * @returns {() => void} stops the view's timers
 */
export function healthView(root, client) {
  const connectors = h('tbody', { id: 'health-connectors' });
  const sessions = h('tbody', { id: 'smpp-sessions' });
  const webhooks = h('tbody', { id: 'webhook-backlog' });
  const unrouted = h('tbody', { id: 'unrouted-inbound' });
  const receipts = h('tbody', { id: 'unmatched-receipts' });
  const nodes = h('tbody', { id: 'cluster-nodes' });
  const errors = h('p', { class: 'error', role: 'alert' });
  const sessionResult = h('p', { id: 'session-result', role: 'status' });
  /** Each part loads on its own: one refused request leaves the others shown. */
  const part = (name, load) => async () => {
    try {
      await load();
    } catch (err) {
      errors.replaceChildren(`${name}: ${errorText(err)}`);
    }
  };
  const rowsOr = (rows, columns, empty) =>
    rows.length ? rows : [h('tr', null, h('td', { colspan: columns, class: 'muted' }, empty))];

  const loadConnectors = part('connectors', async () => {
    const { data } = await client.get('/v1/admin/connectors');
    // A bind history the reader opened stays open across refreshes.
    const open = new Set(
      [...connectors.querySelectorAll('details[open]')].map((d) => d.closest('tr')?.dataset.connector),
    );
    const rows = await Promise.all(data.map((c) => connectorRow(client, c, open.has(c.id))));
    connectors.replaceChildren(...rowsOr(rows, 7, 'No connectors.'));
  });
  const disconnect = async (s) => {
    try {
      await client.delete(`/v1/admin/smpp/sessions/${encodeURIComponent(s.id)}`);
      sessionResult.className = 'ok';
      sessionResult.replaceChildren(`Disconnected ${s.account} at ${s.address}.`);
    } catch (err) {
      sessionResult.className = 'error';
      sessionResult.replaceChildren(errorText(err));
    }
    await loadSessions();
  };
  const loadSessions = part('SMPP sessions', async () => {
    const { data } = await client.get('/v1/admin/smpp/sessions');
    sessions.replaceChildren(
      ...rowsOr(
        data.map((s) =>
          h(
            'tr',
            { 'data-session': s.id, 'data-account': s.account },
            h('td', null, s.account),
            h('td', null, s.systemId),
            h('td', null, s.bindType),
            h('td', null, s.address),
            h('td', null, time(s.since)),
            h('td', { class: 'num' }, s.window),
            h('td', { class: 'num' }, s.submitted),
            h('td', { class: 'num' }, s.delivered),
            h(
              'td',
              { class: 'actions' },
              h(
                'button',
                { type: 'button', class: 'disconnect', onclick: () => disconnect(s) },
                'Disconnect',
              ),
            ),
          ),
        ),
        9,
        'No ESME is bound to this gateway.',
      ),
    );
  });
  const loadWebhooks = part('webhooks', async () => {
    const { data } = await client.get('/v1/admin/webhooks/backlog');
    webhooks.replaceChildren(
      ...rowsOr(
        data.map((w) =>
          h(
            'tr',
            { 'data-account': w.accountId },
            h('td', null, w.accountId),
            h('td', { class: 'num' }, w.pending),
            h('td', { class: 'num' }, w.failing),
            h('td', { class: 'num' }, w.abandoned),
            h('td', null, w.lastError ?? '—'),
          ),
        ),
        5,
        'None waiting: every webhook was delivered.',
      ),
    );
  });
  const loadUnrouted = part('unrouted inbound', async () => {
    const { data } = await client.get(`/v1/admin/inbound/unrouted${query({ limit: 20 })}`);
    unrouted.replaceChildren(
      ...rowsOr(
        data.map((m) =>
          h(
            'tr',
            null,
            h('td', null, time(m.createdAt)),
            h('td', null, m.connector ?? '—'),
            h('td', null, m.from),
            h('td', null, m.to),
            h('td', { class: 'text' }, m.text ?? ''),
          ),
        ),
        5,
        'None: an MO rule took every inbound message.',
      ),
    );
  });
  const loadReceipts = part('unmatched receipts', async () => {
    const { data } = await client.get('/v1/admin/receipts/unmatched');
    receipts.replaceChildren(
      ...rowsOr(
        data
          .slice(-20)
          .reverse()
          .map((r) =>
            h(
              'tr',
              null,
              h('td', null, time(new Date(r.receivedAt).toISOString())),
              h('td', null, r.connectorId),
              h('td', null, r.smscId),
              h('td', null, r.receipt?.stat ?? ''),
            ),
          ),
        4,
        'None: every receipt matched a message.',
      ),
    );
  });
  const loadNodes = part('nodes', async () => {
    const { data } = await client.get('/v1/admin/nodes');
    nodes.replaceChildren(
      ...rowsOr(
        data.map((n) =>
          h(
            'tr',
            { 'data-node': n.id },
            h('td', null, `${n.host ?? ''} (pid ${n.pid})${n.self ? ' · this one' : ''}`),
            h('td', null, badge(n.alive ? 'up' : 'down')),
            h('td', null, time(n.startedAt)),
            h('td', { class: 'num' }, n.backlog),
            h('td', { class: 'num' }, n.queued ?? '—'),
            h('td', { class: 'num' }, n.inFlight ?? '—'),
          ),
        ),
        6,
        'No nodes.',
      ),
    );
  });

  const section = (title, id, headings, body, ...more) =>
    h('section', { class: 'panel wide', id }, h('h2', null, title), ...more, table(headings, body));
  root.replaceChildren(
    errors,
    section(
      'Connectors',
      'health-connectors-panel',
      ['Connector', 'State', 'Why', 'Since', 'Binds', 'Throughput', 'Delivery ratio'],
      connectors,
    ),
    section(
      'SMPP clients bound here',
      'smpp-sessions-panel',
      ['Account', 'System id', 'Bind', 'Address', 'Since', 'Window', 'Submitted', 'Delivered', ''],
      sessions,
      sessionResult,
    ),
    section(
      'Webhooks waiting',
      'webhooks-panel',
      ['Account', 'Waiting', 'Failing', 'Given up', 'Last error'],
      webhooks,
    ),
    section('Unrouted inbound', 'unrouted-panel', ['Received', 'Connector', 'From', 'To', 'Text'], unrouted),
    section('Unmatched receipts', 'receipts-panel', ['Received', 'Connector', 'SMSC id', 'Stat'], receipts),
    section(
      'Cluster nodes',
      'nodes-panel',
      ['Node', 'Lease', 'Started', 'Claimed', 'Queued', 'In flight'],
      nodes,
    ),
  );
  return every(refreshMs, () =>
    Promise.all([
      loadConnectors(),
      loadSessions(),
      loadWebhooks(),
      loadUnrouted(),
      loadReceipts(),
      loadNodes(),
    ]),
  );
}

/** A connector's row: its state, the last bind history, throughput and delivery ratio from the series. */
async function connectorRow(client, c, historyOpen) {
  const id = encodeURIComponent(c.id);
  const to = Math.floor(Date.now() / 1000);
  const count = async (metric, seconds) => {
    const { points } = await client.get(
      `/v1/admin/stats/series${query({ metric, connector: c.id, from: to - seconds + 1, to, step: 60 })}`,
    );
    return points.reduce((n, [, x]) => n + x, 0);
  };
  const [history, submitted, delivered, failed] = await Promise.all([
    client.get(`/v1/admin/connectors/${id}/history`),
    count('submitted', throughputSeconds),
    count('delivered', 3600),
    count('failed', 3600),
  ]);
  const bound = c.binds.filter((b) => b.state === 'bound').length;
  const since = c.since ? (Date.now() - Date.parse(c.since)) / 1000 : null;
  return h(
    'tr',
    { 'data-connector': c.id, 'data-status': c.status },
    h('td', null, c.id, h('div', { class: 'muted' }, c.type)),
    h('td', null, badge(c.status)),
    h('td', { class: 'reason' }, c.lastError ?? '—'),
    h('td', { title: c.since ?? '' }, since === null ? '—' : `${duration(since)} ago`),
    h(
      'td',
      null,
      `${bound}/${c.binds.length} bound`,
      h(
        'details',
        { class: 'bind-history', open: historyOpen },
        h('summary', null, 'history'),
        h(
          'ol',
          { class: 'timeline' },
          history.data
            .slice()
            .reverse()
            .map((e) =>
              h(
                'li',
                null,
                h('time', { datetime: e.at }, time(e.at)),
                ' ',
                badge(e.status),
                ` ${e.bound}/${e.binds} bound`,
                e.reason ? ` · ${e.reason}` : '',
              ),
            ),
        ),
      ),
    ),
    h('td', { class: 'num throughput' }, `${(submitted / (throughputSeconds / 60)).toFixed(1)}/min`),
    h(
      'td',
      { class: 'num ratio' },
      delivered + failed > 0 ? `${((delivered / (delivered + failed)) * 100).toFixed(1)} %` : '—',
    ),
  );
}
