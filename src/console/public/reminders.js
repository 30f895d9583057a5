// An account's appointment reminders (/v1/reminders): a form to schedule one, the list,
// and one reminder with its message, the reply it got and Cancel while it is scheduled or
// waiting for its reply.
import { ApiError, errorText, query } from './api.js';
import {
  badge,
  duration,
  every,
  field,
  fieldList,
  h,
  listPanel,
  pagedTable,
  short,
  showFormError,
  time,
} from './dom.js';

const pageSize = 20;
const listRefreshMs = 5000;
const detailRefreshMs = 2000;
/** Statuses a reminder still moves from (to sent, to a reply's outcome); the API cancels these. */
const openStatuses = new Set(['scheduled', 'sent']);

const reminderHref = (id) => `#/reminders/${encodeURIComponent(id)}`;
const reminderPath = (id) => `/v1/reminders/${encodeURIComponent(id)}`;

/**
 * @param {HTMLElement} root
 * @param {import('./api.js').Client} client
 * @returns {() => void} stops the view's timers
 */
export function remindersView(root, client) {
  const list = pagedTable({
    id: 'reminders',
    pager: 'reminders-page',
    headings: ['When', 'Status', 'To', 'Text'],
    empty: 'No reminders.',
    fetchPage: (cursor) => client.get(`/v1/reminders${query({ limit: pageSize, cursor })}`),
    row: reminderRow,
  });
  const panel = h('div');
  root.replaceChildren(h('div', { class: 'columns' }, reminderForm(client, list.restart), panel));
  return listPanel(panel, {
    title: 'Reminders',
    note: 'Changed with PATCH /v1/reminders/:id.',
    list,
    refreshMs: listRefreshMs,
  });
}

/** Schedules a reminder (POST /v1/reminders): replies are `KEYWORD=status` lines. */
function reminderForm(client, onMade) {
  const to = h('input', { id: 'reminder-to', name: 'to', required: true, autocomplete: 'off' });
  const from = h('input', {
    id: 'reminder-from',
    name: 'from',
    autocomplete: 'off',
    placeholder: 'account default',
  });
  const at = h('input', { id: 'reminder-at', name: 'at', type: 'datetime-local', required: true });
  const timezone = h('input', {
    id: 'reminder-timezone',
    name: 'timezone',
    autocomplete: 'off',
    value: Intl.DateTimeFormat().resolvedOptions().timeZone,
  });
  const text = h('textarea', {
    id: 'reminder-text',
    name: 'text',
    rows: 3,
    required: true,
    placeholder: 'Your appointment is tomorrow at 10:00. Reply YES to confirm, NO to cancel.',
  });
  const replies = h(
    'textarea',
    { id: 'reminder-replies', name: 'replies', rows: 3, required: true, spellcheck: 'false' },
    'YES=confirmed\nNO=declined',
  );
  const result = h('p', { id: 'reminder-result', role: 'status' });
  const inputs = { to, from, at, timezone, text, replies };
  const value = (el) => /** @type {HTMLInputElement} */ (el).value.trim();
  const submit = async (/** @type {SubmitEvent} */ ev) => {
    ev.preventDefault();
    for (const input of Object.values(inputs)) input.removeAttribute('aria-invalid');
    const keywords = Object.fromEntries(
      value(replies)
        .split('\n')
        .map((line) => line.split('=').map((part) => part.trim()))
        .filter(([keyword, status]) => keyword && status),
    );
    try {
      const r = await client.post('/v1/reminders', {
        to: value(to),
        // The wall-clock time as written, read in `timezone` by the gateway.
        at: value(at),
        ...(value(timezone) ? { timezone: value(timezone) } : {}),
        text: /** @type {HTMLTextAreaElement} */ (text).value,
        replies: keywords,
        ...(value(from) ? { from: value(from) } : {}),
      });
      result.className = 'ok';
      result.replaceChildren(
        'Reminder ',
        h('a', { href: reminderHref(r.id) }, r.id),
        ` · ${r.status} · ${time(r.at)}`,
      );
      for (const input of [to, at, text]) /** @type {HTMLInputElement} */ (input).value = '';
      onMade();
    } catch (err) {
      showFormError(result, err, inputs);
    }
  };
  return h(
    'form',
    { id: 'reminder-form', class: 'panel', onsubmit: submit },
    h('h2', null, 'New reminder'),
    field('To', to),
    field('When', at),
    field('Time zone (IANA)', timezone),
    field('Text', text),
    field('Replies (KEYWORD=status, one a line)', replies),
    field('From', from),
    h('button', { type: 'submit' }, 'Schedule'),
    result,
  );
}

function reminderRow(r) {
  return h(
    'tr',
    { 'data-id': r.id, 'data-status': r.status },
    h('td', null, h('a', { href: reminderHref(r.id), title: r.id }, time(r.at))),
    h('td', null, badge(r.status)),
    h('td', null, r.to),
    h('td', { class: 'text' }, short(r.text)),
  );
}

/**
 * @param {HTMLElement} root
 * @param {import('./api.js').Client} client
 * @param {string} id
 */
export function reminderDetailView(root, client, id) {
  const body = h('div', { id: 'reminder-detail' }, h('p', { class: 'muted' }, 'Loading…'));
  root.replaceChildren(
    h('section', { class: 'panel wide' }, h('p', null, h('a', { href: '#/reminders' }, '← Reminders')), body),
  );
  const actionError = h('span', { id: 'reminder-action-error', class: 'error', role: 'alert' });
  let done = false;
  let asked = 0;
  let shown = 0;
  /** Each answer replaces the page; one asked for earlier does not overwrite a later one. */
  const show = (r, n) => {
    if (n < shown) return;
    shown = n;
    // An outcome, a cancel, an expiry or a failure is the reminder's last word.
    done = !openStatuses.has(r.status);
    body.replaceChildren(...reminderDetail(r, cancel, actionError));
  };
  const load = async () => {
    if (done) return;
    const n = ++asked;
    try {
      show(await client.get(reminderPath(id)), n);
    } catch (err) {
      done = err instanceof ApiError && err.status === 404;
      if (n >= shown) body.replaceChildren(h('p', { class: 'error', role: 'alert' }, errorText(err)));
    }
  };
  const cancel = async (r) => {
    const consequence =
      r.status === 'scheduled'
        ? 'Its message will not be sent.'
        : 'Its message is sent: a reply will no longer be matched to it.';
    if (!confirm(`Cancel the reminder to ${r.to}? ${consequence} This cannot be undone.`)) return;
    actionError.replaceChildren();
    const n = ++asked;
    try {
      show(await client.post(`${reminderPath(id)}/cancel`), n);
    } catch (err) {
      actionError.replaceChildren(errorText(err));
    }
  };
  return every(detailRefreshMs, load);
}

function reminderDetail(r, cancel, actionError) {
  const keywords = (map) =>
    Object.entries(map ?? {})
      .map(([keyword, value]) => `${keyword} → ${value}`)
      .join('; ') || '—';
  const rows = [
    ['ID', r.id],
    ['Status', badge(r.status)],
    ['To', r.to],
    ['From', r.from],
    ['When', r.timezone ? `${time(r.at)} (written in ${r.timezone})` : time(r.at)],
    ['Text', r.text],
    ['Replies', keywords(r.replies)],
    ['Acknowledgements', keywords(r.ack)],
    ['Reply window', duration(r.replyWindowSeconds)],
    [
      'Message',
      r.messageId ? h('a', { href: `#/messages/${encodeURIComponent(r.messageId)}` }, r.messageId) : '—',
    ],
    ['Sent', time(r.sentAt)],
    ['Reply', r.reply ?? '—'],
    ['Reply keyword', r.replyKeyword ?? '—'],
    ['Replied', time(r.repliedAt)],
    ['Error', r.error ? `${r.error.message} (${r.error.code})` : '—'],
    ['Created', time(r.createdAt)],
    ['Updated', time(r.updatedAt)],
  ];
  return [
    h('h2', null, `Reminder ${r.id}`),
    h(
      'p',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          id: 'reminder-cancel',
          disabled: !openStatuses.has(r.status),
          onclick: () => cancel(r),
        },
        'Cancel',
      ),
      ' ',
      actionError,
    ),
    fieldList(rows),
  ];
}
