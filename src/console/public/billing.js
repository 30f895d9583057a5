// An account's money: its balance with the ledger of charges, refunds and credits
// (GET /v1/balance, /v1/balance/ledger), and its usage per day, country or connector over a
// period (GET /v1/usage) as a bar chart (inline SVG) and a table.
import { errorText, query } from './api.js';
import { field, h, pagedTable, scrollBox, time } from './dom.js';

const svgNs = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes (no style: the page's CSP allows none inline). */
function svg(tag, attrs, ...children) {
  const el = document.createElementNS(svgNs, tag);
  for (const [name, value] of Object.entries(attrs ?? {})) el.setAttribute(name, String(value));
  for (const child of children) el.append(child instanceof Node ? child : String(child));
  return el;
}

/** A number of the currency's main unit, to 4 places at most. */
const money = (n, currency) =>
  n === null || n === undefined ? '—' : `${Number(n.toFixed(4))}${currency ? ` ${currency}` : ''}`;

/**
 * @param {HTMLElement} root
 * @param {import('./api.js').Client} client
 * @returns {() => void} stops the view's timers
 */
export function balanceView(root, client) {
  const summary = h('div', { id: 'balance', class: 'cards' }, h('p', { class: 'muted' }, 'Loading…'));
  const ledger = pagedTable({
    id: 'ledger',
    pager: 'ledger-page',
    headings: ['When', 'Kind', 'Amount', 'Balance', 'Message', 'Reference'],
    empty: 'Nothing charged or credited yet.',
    fetchPage: (cursor) => client.get(`/v1/balance/ledger${query({ limit: 20, cursor })}`),
    row: (e) =>
      h(
        'tr',
        { 'data-kind': e.kind },
        h('td', null, time(e.at)),
        h('td', null, e.kind),
        h('td', { class: 'num' }, money(e.amount, e.currency)),
        h('td', { class: 'num' }, money(e.balance, e.currency)),
        h(
          'td',
          null,
          e.messageId ? h('a', { href: `#/messages/${encodeURIComponent(e.messageId)}` }, 'message') : '—',
        ),
        h('td', { class: 'text' }, e.reference ?? ''),
      ),
  });
  root.replaceChildren(
    h(
      'section',
      { class: 'panel wide' },
      h('h2', null, 'Balance'),
      summary,
      h('h3', null, 'Ledger'),
      h('div', { class: 'toolbar' }, h('span', { class: 'spacer' }), ledger.controls),
      ledger.error,
      scrollBox(ledger.table),
    ),
  );
  client
    .get('/v1/balance')
    .then((b) =>
      summary.replaceChildren(
        card('Balance', money(b.balance, b.currency), 'balance-value'),
        card('Billing', b.type ?? 'none (never refused for money)', 'billing-type'),
      ),
    )
    .catch((err) => summary.replaceChildren(h('p', { class: 'error', role: 'alert' }, errorText(err))));
  ledger.load();
  return () => {};
}

function card(label, value, id) {
  return h(
    'div',
    { class: 'card' },
    h('div', { class: 'muted' }, label),
    h('div', { class: 'value', id }, value),
  );
}

/**
 * @param {HTMLElement} root
 * @param {import('./api.js').Client} client
 * @returns {() => void} stops the view's timers
 */
export function usageView(root, client) {
  const today = new Date();
  const isoDay = (d) =>
    `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  const from = /** @type {HTMLInputElement} */ (
    h('input', {
      id: 'usage-from',
      name: 'from',
      type: 'date',
      value: isoDay(new Date(today.getFullYear(), today.getMonth(), 1)),
    })
  );
  const to = /** @type {HTMLInputElement} */ (
    h('input', { id: 'usage-to', name: 'to', type: 'date', value: isoDay(today) })
  );
  const groupBy = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { id: 'usage-group', name: 'groupBy' },
      ['day', 'country', 'connector'].map((g) => h('option', { value: g }, `by ${g}`)),
    )
  );
  const chart = h('figure', { id: 'usage-chart', class: 'chart' });
  const rows = h('tbody');
  const totals = h('p', { id: 'usage-total' });
  const error = h('p', { class: 'error', role: 'alert' });
  const params = () => ({ from: from.value, to: to.value, groupBy: groupBy.value });

  const load = async () => {
    try {
      const u = await client.get(`/v1/usage${query(params())}`);
      const key = u.groupBy;
      const label = (g) => g[key] ?? '(none)';
      rows.replaceChildren(
        ...(u.data.length
          ? u.data.map((g) =>
              h(
                'tr',
                null,
                h('td', null, label(g)),
                h('td', { class: 'num' }, g.messages),
                h('td', { class: 'num' }, g.parts),
                h('td', { class: 'num' }, money(g.price, g.currency)),
              ),
            )
          : [h('tr', null, h('td', { colspan: 4, class: 'muted' }, 'No messages in this period.'))]),
      );
      totals.replaceChildren(
        `${u.total.messages} messages · ${u.total.parts} parts · ${money(u.total.price, u.total.currency)}`,
      );
      chart.replaceChildren(
        ...barChart(
          u.data.map((g) => [String(label(g)), g.parts]),
          `Parts ${key === 'day' ? 'per day' : `by ${key}`}`,
        ),
      );
      error.replaceChildren();
    } catch (err) {
      error.replaceChildren(errorText(err));
    }
  };
  const exportResult = h('span', { class: 'muted', role: 'status' });
  const exportCsv = async () => {
    try {
      const csv = await client.text(`/v1/usage${query({ ...params(), format: 'csv' })}`);
      const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = `usage-${from.value}-${to.value}.csv`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      exportResult.replaceChildren();
    } catch (err) {
      exportResult.replaceChildren(errorText(err));
    }
  };
  root.replaceChildren(
    h(
      'section',
      { class: 'panel wide' },
      h('h2', null, 'Usage'),
      h(
        'form',
        {
          id: 'usage-form',
          class: 'toolbar',
          onsubmit: (/** @type {SubmitEvent} */ ev) => {
            ev.preventDefault();
            load();
          },
        },
        field('From', from),
        field('To (inclusive)', to),
        field('Group', groupBy),
        h('button', { type: 'submit' }, 'Show'),
        h('button', { type: 'button', id: 'usage-export', onclick: exportCsv }, 'Export CSV'),
        exportResult,
      ),
      error,
      chart,
      totals,
      scrollBox(
        h(
          'table',
          { id: 'usage' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', null, 'Group'),
              ['Messages', 'Parts', 'Price'].map((c) => h('th', { class: 'num' }, c)),
            ),
          ),
          rows,
        ),
      ),
    ),
  );
  groupBy.addEventListener('change', load);
  load();
  return () => {};
}

/** Bars of `[label, value]` as an SVG that scales to its box; the numbers stay in the table. */
function barChart(points, title) {
  if (!points.length) return [];
  const width = 600;
  const height = 160;
  const max = Math.max(1, ...points.map(([, v]) => v));
  const slot = width / points.length;
  const bars = points.map(([label, value], i) => {
    const barHeight = Math.round((value / max) * (height - 20));
    return svg(
      'rect',
      {
        x: (i * slot + slot * 0.1).toFixed(1),
        y: height - barHeight,
        width: (slot * 0.8).toFixed(1),
        height: barHeight,
        class: 'bar',
        'data-label': label,
        'data-value': value,
      },
      svg('title', null, `${label}: ${value}`),
    );
  });
  return [
    svg(
      'svg',
      {
        viewBox: `0 0 ${width} ${height}`,
        role: 'img',
        'aria-label': `${title}, largest ${max}`,
        preserveAspectRatio: 'none',
      },
      ...bars,
    ),
    h('figcaption', { class: 'muted' }, `${title} (largest ${max})`),
  ];
}
