// The admin view: key metrics at a glance, connectors with live state and start/stop,
// routes, accounts, and receipts that matched no message.
import { errorText } from './api.js';
import { chartsPanel } from './charts.js';
import { badge, every, h, table, time } from './dom.js';

const refreshMs = 2000;

/**
 * @param {HTMLElement} root
 * @param {import('./api.js').Client} client
 * @returns {() => void} stops the view's timers
 */
export function adminView(root, client) {
  const glance = h('div', { id: 'glance', class: 'cards' });
  const connectors = h('tbody', { id: 'connectors' });
  const connectorsError = h('p', { class: 'error', role: 'alert' });
  const routes = h('div', { id: 'routes' });
  const accounts = h('tbody', { id: 'accounts' });
  const receipts = h('tbody', { id: 'receipts' });
  const errors = h('p', { class: 'error', role: 'alert' });

  const loadConnectors = async () => {
    try {
      const { data } = await client.get('/v1/admin/connectors');
      connectors.replaceChildren(...data.map((c) => connectorRow(c, act)));
    } catch (err) {
      connectorsError.replaceChildren(errorText(err));
    }
  };
  /** Start or stop a connector, then show the state it reports. */
  const act = async (id, action) => {
    connectorsError.replaceChildren();
    try {
      await client.post(`/v1/admin/connectors/${encodeURIComponent(id)}/${action}`);
    } catch (err) {
      connectorsError.replaceChildren(`${id}: ${errorText(err)}`);
    }
    await loadConnectors();
  };
  const loadGlance = async () => {
    try {
      glance.replaceChildren(...glanceCards(parseMetrics(await client.text('/metrics'))));
    } catch (err) {
      glance.replaceChildren(h('p', { class: 'error' }, `metrics: ${errorText(err)}`));
    }
  };
  const loadReceipts = async () => {
    try {
      const { data } = await client.get('/v1/admin/receipts/unmatched');
      receipts.replaceChildren(
        ...(data.length
          ? data.map((r) =>
              h(
                'tr',
                null,
                h('td', null, time(new Date(r.receivedAt).toISOString())),
                h('td', null, r.connectorId),
                h('td', null, r.smscId),
                h('td', null, r.receipt?.stat ?? ''),
                h('td', null, r.receipt?.err ?? ''),
              ),
            )
          : [
              h(
                'tr',
                null,
                h('td', { colspan: 5, class: 'muted' }, 'None: every receipt matched a message.'),
              ),
            ]),
      );
    } catch (err) {
      errors.replaceChildren(`receipts: ${errorText(err)}`);
    }
  };
  const loadOnce = async () => {
    try {
      routes.replaceChildren(...routeTables(await client.get('/v1/admin/routes')));
      const { data } = await client.get('/v1/admin/accounts');
      accounts.replaceChildren(
        ...data.map((a) =>
          h(
            'tr',
            null,
            h('td', null, a.id),
            h('td', null, a.smpp ? `${a.smpp.systemId} (max ${a.smpp.maxBinds} binds)` : '—'),
            h('td', null, a.webhook ?? '—'),
            h('td', { class: 'num' }, a.mps ? `${a.mps}/s` : 'none'),
          ),
        ),
      );
    } catch (err) {
      errors.replaceChildren(errorText(err));
    }
  };

  const charts = chartsPanel(client, { path: '/v1/admin/stats/series', admin: true });
  root.replaceChildren(
    h('section', { class: 'panel wide' }, h('h2', null, 'At a glance'), glance),
    charts.element,
    h(
      'section',
      { class: 'panel wide' },
      h('h2', null, 'Connectors'),
      connectorsError,
      table(
        ['Connector', 'Type', 'State', 'Binds', 'In flight', 'Sent', 'Failed', ''],
        connectors,
        'connector-table',
      ),
    ),
    h('section', { class: 'panel wide' }, h('h2', null, 'Routes'), routes),
    h(
      'section',
      { class: 'panel wide' },
      h('h2', null, 'Accounts'),
      table(['Account', 'SMPP', 'Webhook', 'Rate limit'], accounts, 'account-table'),
    ),
    h(
      'section',
      { class: 'panel wide' },
      h('h2', null, 'Unmatched receipts'),
      table(['Received', 'Connector', 'SMSC id', 'Stat', 'Err'], receipts, 'receipt-table'),
    ),
    errors,
  );
  loadOnce();
  const stopRefresh = every(refreshMs, () => Promise.all([loadConnectors(), loadGlance(), loadReceipts()]));
  return () => {
    stopRefresh();
    charts.stop();
  };
}

function connectorRow(c, act) {
  const bound = c.binds.filter((b) => b.state === 'bound').length;
  return h(
    'tr',
    { 'data-connector': c.id, 'data-status': c.status },
    h('td', null, c.id),
    h('td', null, c.type),
    h('td', null, badge(c.status)),
    h(
      'td',
      { title: c.binds.map((b) => `#${b.index} ${b.state}`).join(', ') },
      `${bound}/${c.binds.length} bound`,
    ),
    h('td', { class: 'num' }, c.inFlight),
    h('td', { class: 'num' }, c.sent),
    h('td', { class: 'num' }, c.failed),
    h(
      'td',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'start',
          disabled: c.status !== 'stopped',
          onclick: () => act(c.id, 'start'),
        },
        'Start',
      ),
      h(
        'button',
        { type: 'button', class: 'stop', disabled: c.status === 'stopped', onclick: () => act(c.id, 'stop') },
        'Stop',
      ),
    ),
  );
}

/**
 * A route's match as text: `to +44*, +33* · account acme`, `time days mon, fri hours
 * 09:00-17:00 tz Europe/London`, or `anything`.
 */
function matchText(match) {
  const text = (v) =>
    Array.isArray(v)
      ? v.map(text).join(', ')
      : v !== null && typeof v === 'object'
        ? Object.entries(v)
            .map(([k, x]) => `${k} ${text(x)}`)
            .join(' ')
        : String(v);
  const parts = Object.entries(match ?? {}).map(([k, v]) => `${k} ${text(v)}`);
  return parts.length ? parts.join(' · ') : 'anything (default)';
}

function routeTables(routes) {
  const mt = (routes?.mt ?? []).map((r, i) =>
    h(
      'tr',
      null,
      h('td', { class: 'num' }, i + 1),
      h('td', null, matchText(r.match)),
      h(
        'td',
        null,
        (r.connectors ?? [])
          .map((id) => (r.weights?.[id] !== undefined ? `${id} (${r.weights[id]})` : id))
          .join(', '),
      ),
      h('td', null, r.strategy ?? ''),
    ),
  );
  const mo = (routes?.mo ?? []).map((r, i) =>
    h(
      'tr',
      null,
      h('td', { class: 'num' }, i + 1),
      h('td', null, matchText(r.match)),
      h('td', null, r.account),
    ),
  );
  return [
    h('h3', null, 'Outbound (MT): first match wins'),
    table(['#', 'Match', 'Connectors', 'Strategy'], h('tbody', null, mt), 'mt-routes'),
    h('h3', null, 'Inbound (MO)'),
    table(['#', 'Match', 'Account'], h('tbody', null, mo), 'mo-routes'),
  ];
}

/**
 * Samples of the Prometheus text format: `name{label="v",...} value`.
 * @returns {{ name: string, labels: Record<string, string>, value: number }[]}
 */
export function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

function glanceCards(samples) {
  const sum = (name, filter = () => true) =>
    samples.filter((s) => s.name === name && filter(s.labels)).reduce((n, s) => n + s.value, 0);
  const outbound = (status) => (l) => l.direction === 'outbound' && l.status === status;
  const card = (id, label, value) =>
    h(
      'div',
      { class: 'card', 'data-metric': id },
      h('div', { class: 'value' }, value),
      h('div', { class: 'muted' }, label),
    );
  const bound = sum('smsgw_connector_binds', (l) => l.state === 'bound');
  const binds = sum('smsgw_connector_binds');
  return [
    card('queue', 'queued in memory', sum('smsgw_queue_depth')),
    card('in-flight', 'in flight to carriers', sum('smsgw_in_flight')),
    card('binds', 'binds bound', `${bound}/${binds}`),
    card('submitted', 'accepted by carriers', sum('smsgw_messages_total', outbound('submitted'))),
    card('delivered', 'delivered', sum('smsgw_messages_total', outbound('delivered'))),
    card(
      'failed',
      'undelivered, rejected, failed, expired',
      ['undelivered', 'rejected', 'failed', 'expired'].reduce(
        (n, st) => n + sum('smsgw_messages_total', outbound(st)),
        0,
      ),
    ),
    card(
      'inbound',
      'inbound received',
      sum('smsgw_messages_total', (l) => l.direction === 'inbound'),
    ),
  ];
}
