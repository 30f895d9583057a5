// An account's emergency alerts (/v1/alerts): a form to send one, the list with each
// alert's counts, and one alert with its progress per minute and Cancel while it is sending.
import { ApiError, errorText, query } from './api.js';
import {
  badge,
  countsTable,
  countsText,
  every,
  field,
  fieldList,
  h,
  listPanel,
  pagedTable,
  plural,
  progressBar,
  progressOf,
  short,
  showFormError,
  time,
} from './dom.js';

const pageSize = 20;
const listRefreshMs = 5000;
const detailRefreshMs = 2000;
/** The per-minute progress reads every message of the alert: it is read every 5th refresh. */
const progressEvery = 5;

const alertHref = (id) => `#/alerts/${encodeURIComponent(id)}`;
const alertPath = (id) => `/v1/alerts/${encodeURIComponent(id)}`;

/**
 * @param {HTMLElement} root
 * @param {import('./api.js').Client} client
 * @returns {() => void} stops the view's timers
 */
export function alertsView(root, client) {
  const list = pagedTable({
    id: 'alerts',
    pager: 'alerts-page',
    headings: ['Created', 'Status', 'Total', 'Sent', 'Counts', 'Text'],
    empty: 'No alerts.',
    fetchPage: (cursor) => client.get(`/v1/alerts${query({ limit: pageSize, cursor })}`),
    row: alertRow,
  });
  const panel = h('div');
  root.replaceChildren(h('div', { class: 'columns' }, alertForm(client, list.restart), panel));
  return listPanel(panel, {
    title: 'Alerts',
    note: 'Sent at once, at the highest priority.',
    list,
    refreshMs: listRefreshMs,
  });
}

/** Sends an alert (POST /v1/alerts) to numbers one a line; asks first. */
function alertForm(client, onSent) {
  const text = h('textarea', { id: 'alert-text', name: 'text', rows: 4, required: true });
  const recipients = h('textarea', {
    id: 'alert-recipients',
    name: 'recipients',
    rows: 6,
    required: true,
    spellcheck: 'false',
    placeholder: '+447700900123\n+447700900124',
  });
  const from = h('input', {
    id: 'alert-from',
    name: 'from',
    autocomplete: 'off',
    placeholder: 'account default',
  });
  const flash = /** @type {HTMLInputElement} */ (
    h('input', { id: 'alert-flash', name: 'flash', type: 'checkbox' })
  );
  const result = h('p', { id: 'alert-result', role: 'status' });
  const inputs = { text, recipients, from };
  const value = (el) => /** @type {HTMLTextAreaElement} */ (el).value;
  const submit = async (/** @type {SubmitEvent} */ ev) => {
    ev.preventDefault();
    for (const input of Object.values(inputs)) input.removeAttribute('aria-invalid');
    const numbers = value(recipients)
      .split(/[\n,;]+/)
      .map((n) => n.trim())
      .filter(Boolean);
    if (!confirm(`Send this alert to ${plural(numbers.length, 'number')} now?`)) return;
    try {
      const a = await client.post('/v1/alerts', {
        text: value(text),
        recipients: numbers,
        flash: flash.checked,
        ...(value(from).trim() ? { from: value(from).trim() } : {}),
      });
      result.className = 'ok';
      result.replaceChildren(
        'Alert ',
        h('a', { href: alertHref(a.id) }, a.id),
        ` · ${a.status} · ${plural(a.total, 'message')} · skipped: ${countsText(a.skipped)}`,
      );
      for (const input of [text, recipients, from]) /** @type {HTMLInputElement} */ (input).value = '';
      flash.checked = false;
      onSent();
    } catch (err) {
      showFormError(result, err, inputs);
    }
  };
  return h(
    'form',
    { id: 'alert-form', class: 'panel', onsubmit: submit },
    h('h2', null, 'Send an alert'),
    field('Text', text),
    field('Recipients (one number a line)', recipients),
    field('From', from),
    h('label', { class: 'inline field' }, flash, ' Flash (shown on the screen, not stored)'),
    h('button', { type: 'submit' }, 'Send alert'),
    result,
  );
}

function alertRow(a) {
  return h(
    'tr',
    { 'data-id': a.id, 'data-status': a.status },
    h('td', null, h('a', { href: alertHref(a.id), title: a.id }, time(a.createdAt))),
    h('td', null, badge(a.status)),
    h('td', { class: 'num' }, a.total),
    h('td', { class: 'num' }, a.total - progressOf(a.counts).pending),
    h('td', { class: 'counts' }, countsText(a.counts)),
    h('td', { class: 'text' }, short(a.text)),
  );
}

/**
 * @param {HTMLElement} root
 * @param {import('./api.js').Client} client
 * @param {string} id
 */
export function alertDetailView(root, client, id) {
  const body = h('div', { id: 'alert-detail' }, h('p', { class: 'muted' }, 'Loading…'));
  root.replaceChildren(
    h('section', { class: 'panel wide' }, h('p', null, h('a', { href: '#/alerts' }, '← Alerts')), body),
  );
  const actionError = h('span', { id: 'alert-action-error', class: 'error', role: 'alert' });
  let done = false;
  let asked = 0;
  let shown = 0;
  /** Each answer replaces the page; one asked for earlier does not overwrite a later one. */
  const show = (a, perMinute, n) => {
    if (n < shown) return;
    shown = n;
    // Receipts still arrive after the last message left; then the alert is left alone.
    done = a.status !== 'sending' && progressOf(a.counts).pending === 0 && !a.counts?.submitted;
    body.replaceChildren(...alertDetail(a, perMinute, cancel, actionError));
  };
  let progress = null;
  let refreshes = 0;
  const load = async () => {
    if (done) return;
    const n = ++asked;
    try {
      const [a, latest] = await Promise.all([
        client.get(alertPath(id)),
        refreshes++ % progressEvery === 0 || !progress ? client.get(`${alertPath(id)}/progress`) : progress,
      ]);
      progress = latest;
      show(a, progress, n);
    } catch (err) {
      done = err instanceof ApiError && err.status === 404;
      if (n >= shown) body.replaceChildren(h('p', { class: 'error', role: 'alert' }, errorText(err)));
    }
  };
  const cancel = async (a) => {
    const { pending } = progressOf(a.counts);
    if (!confirm(`Cancel this alert? Its ${plural(pending, 'message')} not yet sent will not be sent.`))
      return;
    actionError.replaceChildren();
    try {
      await client.post(`${alertPath(id)}/cancel`);
    } catch (err) {
      actionError.replaceChildren(errorText(err));
    }
    refreshes = 0;
    await load();
  };
  return every(detailRefreshMs, load);
}

function alertDetail(a, progress, cancel, actionError) {
  const rows = [
    ['ID', a.id],
    ['Status', badge(a.status)],
    ['Text', a.text],
    ['Flash', a.flash ? 'yes' : 'no'],
    ['Groups', a.groups?.length ? a.groups.join(', ') : '—'],
    ['Total', a.total],
    ['Skipped', countsText(a.skipped)],
    ['Areas', a.areas?.length ? a.areas.join(', ') : '—'],
    [
      'Broadcasts',
      a.broadcasts?.length
        ? a.broadcasts
            .map(
              (b) => `${b.connector}: ${b.status}${b.error ? ` (${b.error.code}: ${b.error.message})` : ''}`,
            )
            .join('; ')
        : '—',
    ],
    ['Created', time(a.createdAt)],
    ['Completed', time(a.completedAt)],
    ['Canceled', time(a.canceledAt)],
  ];
  return [
    h('h2', null, `Alert ${a.id}`),
    progressBar(a.total, a.counts),
    h(
      'p',
      { class: 'actions' },
      h(
        'button',
        { type: 'button', id: 'alert-cancel', disabled: a.status !== 'sending', onclick: () => cancel(a) },
        'Cancel',
      ),
      ' ',
      actionError,
    ),
    fieldList(rows),
    h('h3', null, 'Messages by status'),
    countsTable('alert-counts', a.counts),
    h('h3', null, 'Per minute'),
    h(
      'table',
      { id: 'alert-minutes', class: 'counts' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', null, 'Minute'),
          ['Sent', 'Delivered', 'Failed'].map((c) => h('th', { class: 'num' }, c)),
        ),
      ),
      h(
        'tbody',
        null,
        progress.perMinute.length
          ? progress.perMinute.map((m) =>
              h(
                'tr',
                null,
                h('td', null, time(m.minute)),
                h('td', { class: 'num' }, m.sent),
                h('td', { class: 'num' }, m.delivered),
                h('td', { class: 'num' }, m.failed),
              ),
            )
          : h('tr', null, h('td', { colspan: 4, class: 'muted' }, 'Nothing sent yet.')),
      ),
    ),
  ];
}
