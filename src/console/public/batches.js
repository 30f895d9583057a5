// An account's batches (the bulk API, /v1/batches): a form that sends one template to
// recipients pasted as CSV or uploaded as a file (with a dry run: counts and cost first),
// the list with each batch's counts, and one batch with its counts, rate and ETA while it
// runs, and Pause / Resume / Cancel.
import { ApiError, errorText, query } from './api.js';
import {
  badge,
  countsTable,
  countsText,
  duration,
  every,
  field,
  fieldList,
  h,
  pagedTable,
  plural,
  progressBar,
  progressOf,
  scrollBox,
  showFormError,
  time,
} from './dom.js';

const batchStatuses = ['loading', 'scheduled', 'running', 'paused', 'completed', 'canceled', 'failed'];
/** Statuses a batch does not leave (its counts still move while receipts arrive). */
const finalStatuses = new Set(['completed', 'canceled', 'failed']);
const pageSize = 20;
const listRefreshMs = 5000;
const detailRefreshMs = 2000;

const batchHref = (id) => `#/batches/${encodeURIComponent(id)}`;
const batchPath = (id) => `/v1/batches/${encodeURIComponent(id)}`;
const skippedTotal = (skipped) => Object.values(skipped ?? {}).reduce((n, k) => n + k, 0);

/**
 * @param {HTMLElement} root
 * @param {import('./api.js').Client} client
 * @returns {() => void} stops the view's timers
 */
export function batchesView(root, client) {
  const list = batchList(client);
  const form = batchForm(client, () => list.reload());
  root.replaceChildren(h('div', { class: 'columns' }, form, list.element));
  return list.stop;
}

function batchForm(client, onCreated) {
  const name = h('input', { id: 'batch-name', name: 'name', autocomplete: 'off', placeholder: 'optional' });
  const from = h('input', {
    id: 'batch-from',
    name: 'from',
    autocomplete: 'off',
    placeholder: 'account default',
  });
  const text = h('textarea', {
    id: 'batch-text',
    name: 'text',
    rows: 4,
    required: true,
    placeholder: 'Hello {{name}}, your table is ready.',
  });
  const csv = /** @type {HTMLTextAreaElement} */ (
    h('textarea', {
      id: 'batch-csv',
      name: 'csv',
      rows: 8,
      required: true,
      spellcheck: 'false',
      placeholder: 'to,name\n+447700900123,Ann\n+447700900124,Bob',
    })
  );
  const file = /** @type {HTMLInputElement} */ (
    h('input', { id: 'batch-csv-file', name: 'file', type: 'file', accept: '.csv,text/csv,text/plain' })
  );
  const sendAt = h('input', { id: 'batch-send-at', name: 'sendAt', type: 'datetime-local' });
  const result = h('div', { id: 'batch-result', role: 'status' });
  const button = h('button', { type: 'submit', id: 'batch-create' }, 'Create batch');
  const dryRun = h('button', { type: 'submit', id: 'batch-dry-run', class: 'secondary' }, 'Dry run');
  const inputs = { name, from, text, csv, recipients: csv, sendAt };

  // A chosen file goes as it is (streamed from disk to the CSV endpoint): the box is then not needed.
  file.addEventListener('change', () => csv.toggleAttribute('required', !file.files?.length));

  const submit = async (/** @type {SubmitEvent} */ ev) => {
    ev.preventDefault();
    const estimate = ev.submitter === dryRun;
    for (const input of Object.values(inputs)) input.removeAttribute('aria-invalid');
    const value = (el) => /** @type {HTMLInputElement} */ (el).value;
    // datetime-local is the reader's local time; the API takes an absolute ISO time.
    const at = value(sendAt) ? new Date(value(sendAt)) : null;
    const settings = {
      text: value(text),
      ...(value(name).trim() ? { name: value(name).trim() } : {}),
      ...(value(from).trim() ? { from: value(from).trim() } : {}),
      ...(at ? { sendAt: Number.isNaN(at.getTime()) ? value(sendAt) : at.toISOString() } : {}),
      ...(estimate ? { dryRun: true } : {}),
    };
    const chosen = file.files?.[0];
    for (const b of [button, dryRun]) b.toggleAttribute('disabled', true);
    result.className = '';
    result.replaceChildren(estimate ? 'Counting…' : 'Uploading…');
    try {
      const b = chosen
        ? await client.upload(`/v1/batches${query(settings)}`, chosen, 'text/csv')
        : await client.post('/v1/batches', { ...settings, csv: value(csv) });
      result.className = b.dryRun ? '' : 'ok';
      if (b.dryRun) {
        result.replaceChildren(estimateOf(b), ...skippedRows(b.errors));
        return;
      }
      result.replaceChildren(
        h(
          'p',
          null,
          'Batch ',
          h('a', { href: batchHref(b.id) }, b.id),
          ` · ${b.status} · `,
          h('span', { 'data-total': b.total }, plural(b.total, 'message')),
          ' · skipped: ',
          h('span', { 'data-skipped': skippedTotal(b.skipped) }, countsText(b.skipped)),
        ),
        ...skippedRows(b.errors),
      );
      /** @type {HTMLInputElement} */ for (const input of [name, from, text, csv, sendAt, file])
        input.value = '';
      csv.toggleAttribute('required', true);
      onCreated();
    } catch (err) {
      showFormError(result, err, inputs);
    } finally {
      for (const b of [button, dryRun]) b.toggleAttribute('disabled', false);
    }
  };

  return h(
    'form',
    { id: 'batch-form', class: 'panel', onsubmit: submit },
    h('h2', null, 'New batch'),
    field('Name', name),
    field('From (sender)', from),
    field('Text', text),
    h('p', { class: 'muted' }, 'Use {{name}} for the CSV column "name" (any column of the header row).'),
    field('Recipients (CSV, header row first: to,name,…)', csv),
    field('…or upload a CSV file (sent as it is, any size)', file),
    field('Send at (optional, your local time)', sendAt),
    h('p', { class: 'actions' }, button, dryRun),
    h('p', { class: 'muted' }, 'Dry run: the counts and the cost, nothing sent or stored.'),
    result,
  );
}

/** What a dry run found: messages, parts, cost, encodings, skipped rows. */
function estimateOf(b) {
  const encodings = Object.entries(b.encodings ?? {})
    .map(([k, n]) => `${k} ${n}`)
    .join(' · ');
  return h(
    'div',
    { id: 'batch-estimate' },
    h('h3', null, 'Dry run: nothing was sent'),
    fieldList([
      ['Messages', h('span', { 'data-total': b.total }, b.total)],
      ['Rows read', b.rows],
      ['Parts', h('span', { 'data-segments': b.segments }, b.segments)],
      [
        'Cost',
        h(
          'span',
          { 'data-price': b.price ?? '' },
          b.price === null || b.price === undefined ? 'not priced' : `${b.price} ${b.currency ?? ''}`.trim(),
        ),
      ],
      ['Encodings', encodings || '—'],
      [
        'Routes',
        (b.routes ?? [])
          .map((r) => `${r.connectors.join(' → ')}: ${plural(r.segments, 'part')}`)
          .join('; ') || '—',
      ],
      ['Skipped', h('span', { 'data-skipped': skippedTotal(b.skipped) }, countsText(b.skipped))],
    ]),
  );
}

/** The first rows a batch skipped, and why (a list, or nothing when none was skipped). */
function skippedRows(errors) {
  if (!errors?.length) return [];
  return [
    h(
      'ul',
      { class: 'skipped-rows' },
      errors.map((e) =>
        h(
          'li',
          null,
          `row ${e.row}: ${e.to || '(empty)'} — ${e.reason}${e.variable ? ` (no {{${e.variable}}})` : ''}`,
        ),
      ),
    ),
  ];
}

function batchList(client) {
  const status = h(
    'select',
    { id: 'filter-batch-status', name: 'status', 'aria-label': 'Status' },
    h('option', { value: '' }, 'any status'),
    batchStatuses.map((s) => h('option', { value: s }, s)),
  );
  const list = pagedTable({
    id: 'batches',
    pager: 'batches-page',
    headings: ['Created', 'Name', 'Status', 'Total', 'Sent', 'Counts', 'Skipped'],
    empty: 'No batches.',
    // Each listed batch carries its counts.
    fetchPage: (cursor) =>
      client.get(
        `/v1/batches${query({ limit: pageSize, status: /** @type {HTMLSelectElement} */ (status).value, cursor })}`,
      ),
    row: batchRow,
  });
  status.addEventListener('change', list.restart);
  const stop = every(listRefreshMs, list.load);
  const element = h(
    'section',
    { class: 'panel wide' },
    h('h2', null, 'Batches'),
    h('div', { class: 'toolbar' }, status, h('span', { class: 'spacer' }), list.controls),
    list.error,
    scrollBox(list.table),
  );
  return { element, reload: list.load, stop };
}

function batchRow(b) {
  const sent = b.total - progressOf(b.counts).pending;
  return h(
    'tr',
    { 'data-id': b.id, 'data-status': b.status },
    h('td', null, h('a', { href: batchHref(b.id), title: b.id }, time(b.createdAt))),
    h('td', null, b.name ?? ''),
    h('td', null, badge(b.status)),
    h('td', { class: 'num' }, b.total),
    h('td', { class: 'num' }, sent),
    h('td', { class: 'counts' }, countsText(b.counts)),
    h('td', { class: 'num' }, skippedTotal(b.skipped)),
  );
}

/**
 * @param {HTMLElement} root
 * @param {import('./api.js').Client} client
 * @param {string} id
 */
export function batchDetailView(root, client, id) {
  const body = h('div', { id: 'batch-detail' }, h('p', { class: 'muted' }, 'Loading…'));
  root.replaceChildren(
    h('section', { class: 'panel wide' }, h('p', null, h('a', { href: '#/batches' }, '← Batches')), body),
  );
  const actionError = h('span', { id: 'batch-action-error', class: 'error', role: 'alert' });
  let done = false;
  /** Each answer replaces the page; one that was asked for earlier does not overwrite a later one. */
  let shown = 0;
  const show = (b, asked) => {
    if (asked < shown) return;
    shown = asked;
    const { pending } = progressOf(b.counts);
    // A finished batch still moves while receipts arrive; after that it is left alone.
    done = finalStatuses.has(b.status) && pending === 0 && !b.counts?.submitted;
    body.replaceChildren(...batchDetail(b, act, actionError));
  };
  let asked = 0;
  const load = async () => {
    if (done) return;
    const n = ++asked;
    try {
      show(await client.get(batchPath(id)), n);
    } catch (err) {
      done = err instanceof ApiError && err.status === 404;
      if (n >= shown) body.replaceChildren(h('p', { class: 'error', role: 'alert' }, errorText(err)));
    }
  };
  const act = async (action, b) => {
    if (
      action === 'cancel' &&
      !confirm(
        `Cancel batch ${b.name ?? b.id}? Its ${plural(progressOf(b.counts).pending, 'message')} not yet sent will not be sent. This cannot be undone.`,
      )
    )
      return;
    actionError.replaceChildren();
    const n = ++asked;
    try {
      show(await client.post(`${batchPath(id)}/${action}`), n);
    } catch (err) {
      actionError.replaceChildren(errorText(err));
    }
  };
  return every(detailRefreshMs, load);
}

function batchDetail(b, act, actionError) {
  const running = b.status === 'running' || b.status === 'scheduled';
  const button = (action, label, enabled) =>
    h(
      'button',
      { type: 'button', id: `batch-${action}`, disabled: !enabled, onclick: () => act(action, b) },
      label,
    );
  const rows = [
    ['ID', b.id],
    ['Status', badge(b.status)],
    ['Name', b.name ?? '—'],
    ['From', b.from ?? '—'],
    ['Text', b.text],
    ['Priority', b.priority],
    ['Total', b.total],
    ['Rows read', b.rows],
    ['Skipped', countsText(b.skipped)],
    ['Rate', `${b.rate ?? 0} messages/s`],
    [
      'ETA',
      b.etaSeconds === null || b.etaSeconds === undefined
        ? '—'
        : `${duration(b.etaSeconds)} · ${time(b.eta)}`,
    ],
    ['Pace', b.mps ? `${b.mps} messages/s at most` : 'as fast as the route goes'],
    ['Send at', time(b.sendAt)],
    ['Created', time(b.createdAt)],
    ['Started', time(b.startedAt)],
    ['Paused', time(b.pausedAt)],
    ['Completed', time(b.completedAt)],
    ['Canceled', time(b.canceledAt)],
  ];
  if (b.failure) rows.push(['Failure', `${b.failure.message} (${b.failure.code})`]);
  return [
    h('h2', null, `Batch ${b.name ?? b.id}`),
    progressBar(b.total, b.counts),
    h(
      'p',
      { class: 'actions' },
      button('pause', 'Pause', running),
      button('resume', 'Resume', b.status === 'paused'),
      button('cancel', 'Cancel', running || b.status === 'paused'),
      ' ',
      actionError,
    ),
    fieldList(rows),
    h('h3', null, 'Messages by status'),
    countsTable('batch-counts', b.counts),
    ...(b.errors?.length ? [h('h3', null, 'Skipped rows'), ...skippedRows(b.errors)] : []),
  ];
}
