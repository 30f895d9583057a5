// Finding messages: a search box (a number with or without `+`, a message id or a client
// reference; runs on Enter), status, direction and a date range over GET /v1/messages (an
// account's) or GET /v1/admin/messages (every account's), and the search as a CSV file.
import { errorText, query } from './api.js';
import { badge, every, h, pagedTable, scrollBox, short, time } from './dom.js';

export const messageStatuses = [
  'scheduled',
  'queued',
  'sending',
  'submitted',
  'delivered',
  'undelivered',
  'expired',
  'rejected',
  'failed',
  'canceled',
  'received',
];
const pageSize = 20;
const refreshMs = 2000;

export const messageHref = (id) => `#/messages/${encodeURIComponent(id)}`;

/**
 * The messages panel with its search. `path` is the list to search; `accounts` (an admin's)
 * adds an account column and filter; `params` is the search the location holds
 * (`#/messages?q=…&status=…&direction=…&account=…&since=YYYY-MM-DD&until=YYYY-MM-DD`),
 * and each search is written back there, so a search loads straight from its URL.
 * @param {import('./api.js').Client} client
 * @param {{ path: string, accounts?: string[], params?: URLSearchParams }} options
 */
export function messageSearch(client, { path, accounts, params: initial = new URLSearchParams() }) {
  const q = /** @type {HTMLInputElement} */ (
    h('input', {
      id: 'message-search',
      name: 'q',
      type: 'search',
      autocomplete: 'off',
      spellcheck: 'false',
      placeholder: 'Number, message id or client reference',
      'aria-label': 'Search messages by number, message id or client reference',
    })
  );
  const select = (id, label, options) =>
    /** @type {HTMLSelectElement} */ (
      h(
        'select',
        { id, name: id, 'aria-label': label },
        options.map(([value, text]) => h('option', { value }, text)),
      )
    );
  const status = select('filter-status', 'Status', [
    ['', 'any status'],
    ...messageStatuses.map((s) => [s, s]),
  ]);
  const direction = select('filter-direction', 'Direction', [
    ['', 'both directions'],
    ['outbound', 'outbound'],
    ['inbound', 'inbound'],
  ]);
  const account = accounts
    ? select('filter-account', 'Account', [['', 'every account'], ...accounts.map((a) => [a, a])])
    : null;
  const since = /** @type {HTMLInputElement} */ (
    h('input', { id: 'filter-since', name: 'since', type: 'date' })
  );
  const until = /** @type {HTMLInputElement} */ (
    h('input', { id: 'filter-until', name: 'until', type: 'date' })
  );
  // An admin's search reads every account's messages: it runs when asked, not every 2 s.
  const auto = /** @type {HTMLInputElement} */ (
    h('input', { id: 'auto-refresh', type: 'checkbox', checked: !accounts })
  );
  const controls = { q, status, direction, account, since, until };
  for (const [name, control] of Object.entries(controls))
    if (control && initial.has(name)) control.value = initial.get(name) ?? '';
  /** The search into the location (replaced, not pushed: Back leaves the page, not each search). */
  const remember = () => {
    const values = Object.fromEntries(
      Object.entries(controls).map(([name, control]) => [name, control?.value.trim()]),
    );
    history.replaceState(null, '', `#/messages${query(values)}`);
  };
  const exportButton = h('button', { type: 'button', id: 'messages-export' }, 'Export CSV');
  const exportResult = h('span', { id: 'messages-export-result', class: 'muted', role: 'status' });

  /** An admin's page with neither a search nor an account. */
  const searchless = () => Boolean(accounts) && !q.value.trim() && !account?.value;
  /** The search as query parameters; the dates are the reader's local days. */
  const params = () => {
    const day = (input, end) => {
      if (!input.value) return undefined;
      const d = new Date(`${input.value}T00:00`);
      if (end) d.setDate(d.getDate() + 1);
      return d.toISOString();
    };
    return {
      q: q.value.trim(),
      status: status.value,
      direction: direction.value,
      account: account?.value,
      since: day(since, false),
      until: day(until, true),
    };
  };
  const list = pagedTable({
    id: 'messages',
    pager: 'page',
    headings: [...(accounts ? ['Account'] : []), 'Created', 'Dir', 'To', 'From', 'Status', 'Seg', 'Text'],
    empty: () =>
      searchless()
        ? 'Search for a number, a message id or a client reference, or choose an account.'
        : 'No messages found.',
    // Every account's messages are found by a search or an account, not listed whole.
    fetchPage: (cursor) =>
      searchless()
        ? Promise.resolve({ data: [], nextCursor: null })
        : client.get(`${path}${query({ ...params(), limit: pageSize, cursor })}`),
    row: (m) => row(m, Boolean(accounts)),
  });
  const restart = () => {
    remember();
    return list.restart();
  };
  for (const control of [status, direction, since, until, account])
    control?.addEventListener('change', restart);

  const search = (/** @type {SubmitEvent} */ ev) => {
    ev.preventDefault();
    restart();
  };
  // The whole search (every page), read with the key and handed to the browser as a file.
  exportButton.addEventListener('click', async () => {
    exportButton.toggleAttribute('disabled', true);
    exportResult.replaceChildren('Exporting…');
    try {
      const csv = await client.text(`${path}${query({ ...params(), format: 'csv' })}`);
      const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = `messages-${new Date().toISOString().slice(0, 10)}.csv`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      exportResult.replaceChildren(`${Math.max(0, csv.split('\r\n').length - 2)} messages exported.`);
    } catch (err) {
      exportResult.replaceChildren(errorText(err));
    } finally {
      exportButton.toggleAttribute('disabled', false);
    }
  });

  let loaded = false;
  const stop = every(refreshMs, () => {
    if (loaded && !auto.checked) return undefined;
    loaded = true;
    return list.load();
  });
  const element = h(
    'section',
    { class: 'panel wide' },
    h('h2', null, 'Messages'),
    h(
      'form',
      { id: 'message-search-form', role: 'search', class: 'toolbar', onsubmit: search },
      q,
      h('button', { type: 'submit' }, 'Search'),
      account,
      status,
      direction,
      h('label', { class: 'inline' }, 'from ', since),
      h('label', { class: 'inline' }, 'to ', until),
    ),
    h(
      'div',
      { class: 'toolbar' },
      h('label', { class: 'inline' }, auto, ' auto-refresh'),
      exportButton,
      exportResult,
      h('span', { class: 'spacer' }),
      list.controls,
    ),
    list.error,
    scrollBox(list.table),
  );
  return { element, reload: list.load, stop };
}

function row(m, withAccount) {
  const text = m.text ?? (m.binaryHex ? `(binary ${m.binaryHex.length / 2} octets)` : '');
  return h(
    'tr',
    { 'data-id': m.id, 'data-status': m.status },
    withAccount ? h('td', null, m.account) : null,
    h('td', null, h('a', { href: messageHref(m.id), title: m.id }, time(m.createdAt))),
    h('td', { title: m.direction }, m.direction === 'inbound' ? '↓ in' : '↑ out'),
    h('td', null, m.to),
    h('td', null, m.from ?? ''),
    h('td', null, badge(m.status)),
    h('td', { class: 'num' }, m.segments),
    h('td', { class: 'text' }, short(text)),
  );
}

/**
 * An admin's message search, over every account (with an account filter).
 * @param {HTMLElement} root
 * @param {import('./api.js').Client} client
 * @param {URLSearchParams} params the search in the location
 * @returns {() => void} stops the view's timers
 */
export function adminMessagesView(root, client, params) {
  let stop = () => {};
  let stopped = false;
  root.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  client
    .get('/v1/admin/accounts')
    .then((accounts) => {
      if (stopped) return;
      const search = messageSearch(client, {
        path: '/v1/admin/messages',
        accounts: accounts.data.map((a) => a.id),
        params,
      });
      stop = search.stop;
      root.replaceChildren(search.element);
    })
    .catch((err) => root.replaceChildren(h('p', { class: 'error', role: 'alert' }, errorText(err))));
  return () => {
    stopped = true;
    stop();
  };
}
