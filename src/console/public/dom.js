// Building the page from values. Every value becomes a text node or an attribute, never
// markup: nothing a message, a carrier or a config holds can turn into HTML or script.
import { ApiError, errorText } from './api.js';

/**
 * An element with attributes and children. `on<event>` attributes that are functions become
 * listeners; `true` is an empty attribute; null/undefined/false are left out. Children are
 * nodes or values shown as text; arrays are flattened.
 * @param {string} tag
 * @param {Record<string, unknown> | null} [attrs]
 * @param {...unknown} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
    } else if (name === 'href' && !/^[#/]/.test(String(value))) {
      // Links go within the console only: never a `javascript:` or foreign URL from data.
      throw new Error(`refusing link ${String(value)}`);
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat(Number.POSITIVE_INFINITY)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** A labelled form control. */
export function field(label, control) {
  return h('label', { class: 'field' }, h('span', null, label), control);
}

/** An ISO time as the reader's local date and time, or a dash. */
export function time(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

/** A status as a coloured badge (the class comes only from known word characters). */
export function badge(status) {
  const word = String(status ?? '');
  return h('span', { class: /^[a-z_]+$/.test(word) ? `badge badge-${word}` : 'badge' }, word || '—');
}

/** Runs `fn` now and every `ms` while the page is visible; returns the stop function. */
export function every(ms, fn) {
  let busy = false;
  const tick = async () => {
    if (busy || document.hidden) return;
    busy = true;
    try {
      await fn();
    } finally {
      busy = false;
    }
  };
  tick();
  const timer = setInterval(tick, ms);
  return () => clearInterval(timer);
}

/** `1 segment`, `2 segments`. */
/** A long text cut to its first 60 characters, for a table cell. */
export function short(text) {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/**
 * A panel listing an account's items of one kind (a `pagedTable`), with a note on how they
 * are made, refreshed every `refreshMs`; returns what stops the refresh.
 */
export function listPanel(root, { title, note, list, refreshMs }) {
  root.replaceChildren(
    h(
      'section',
      { class: 'panel wide' },
      h('h2', null, title),
      h(
        'div',
        { class: 'toolbar' },
        h('span', { class: 'muted' }, note),
        h('span', { class: 'spacer' }),
        list.controls,
      ),
      list.error,
      scrollBox(list.table),
    ),
  );
  return every(refreshMs, list.load);
}

export function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** A record's fields as a definition list; each value is found by `dd[data-field=<label>]`. */
export function fieldList(rows) {
  return h(
    'dl',
    { class: 'fields' },
    rows.map(([k, v]) => [h('dt', null, k), h('dd', { 'data-field': k }, v)]),
  );
}

/** `{delivered: 3, queued: 0, invalid: 1}` as `delivered 3 · invalid 1` (the non-zero ones). */
export function countsText(counts) {
  const parts = Object.entries(counts ?? {})
    .filter(([, n]) => n)
    .map(([k, n]) => `${k} ${n}`);
  return parts.length ? parts.join(' · ') : 'none';
}

/**
 * A table of API pages (newest first) with Newer/Older buttons (`#<pager>-newer`,
 * `#<pager>-older`) that follow the cursor.
 * @param {{ id: string, pager: string, headings: string[], empty: string | (() => string),
 *   fetchPage: (cursor: string | null) => Promise<{ data: any[], nextCursor: string | null }>,
 *   row: (item: any) => HTMLElement }} options
 */
/**
 * A table in a box that scrolls sideways when the window is narrower than the table (a
 * phone), rather than the page; focusable, so the keyboard scrolls it too.
 */
export function scrollBox(table) {
  return h('div', { class: 'table-scroll', tabindex: 0 }, table);
}

/** A table with a header row of `headings` over `body` (a tbody). */
export function table(headings, body, id) {
  return h(
    'table',
    { id },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        headings.map((c) => h('th', null, c)),
      ),
    ),
    body,
  );
}

/**
 * A refused form: the API's error in `result`, and the field it names (if the form has
 * it, among `inputs`) marked and focused.
 */
export function showFormError(result, err, inputs) {
  result.className = 'error';
  result.replaceChildren(errorText(err));
  if (err instanceof ApiError && err.field && err.field in inputs) {
    inputs[err.field].setAttribute('aria-invalid', 'true');
    inputs[err.field].focus();
  }
}

export function pagedTable({ id, pager, headings, empty, fetchPage, row }) {
  const rows = h('tbody');
  const newer = h('button', { type: 'button', id: `${pager}-newer` }, '← Newer');
  const older = h('button', { type: 'button', id: `${pager}-older` }, 'Older →');
  const pageLabel = h('span', { class: 'muted' });
  const error = h('p', { class: 'error', role: 'alert' });
  /** The cursor of each page shown so far: the last is the current page. */
  let cursors = [null];
  let nextCursor = null;
  /** Loads asked for so far: only the latest one's answer is shown (a refresh started before a new search must not overwrite it). */
  let asked = 0;

  const load = async () => {
    const n = ++asked;
    try {
      const page = await fetchPage(cursors.at(-1));
      if (n !== asked) return;
      nextCursor = page.nextCursor;
      rows.replaceChildren(
        ...(page.data.length
          ? page.data.map(row)
          : [
              h(
                'tr',
                null,
                h(
                  'td',
                  { colspan: headings.length, class: 'muted' },
                  typeof empty === 'function' ? empty() : empty,
                ),
              ),
            ]),
      );
      newer.toggleAttribute('disabled', cursors.length === 1);
      older.toggleAttribute('disabled', !nextCursor);
      pageLabel.replaceChildren(`page ${cursors.length}`);
      error.replaceChildren();
    } catch (err) {
      if (n === asked) error.replaceChildren(errorText(err));
    }
  };
  newer.addEventListener('click', () => {
    if (cursors.length > 1) cursors.pop();
    load();
  });
  older.addEventListener('click', () => {
    if (!nextCursor) return;
    cursors.push(nextCursor);
    load();
  });
  return {
    table: table(headings, rows, id),
    error,
    /** Newer, the page number, Older: for the toolbar. */
    controls: [newer, pageLabel, older],
    load,
    /** Back to the first page (after a filter changed). */
    restart: () => {
      cursors = [null];
      return load();
    },
  };
}

/** Message statuses of a batch or an alert that have not left the gateway yet. */
const pendingStatuses = ['queued', 'scheduled', 'paused', 'sending'];
const failedStatuses = ['undelivered', 'expired', 'rejected', 'failed'];

/** How many of `counts` (messages by status) are still to send, delivered, failed. */
export function progressOf(counts) {
  const sum = (statuses) => statuses.reduce((n, s) => n + (counts?.[s] ?? 0), 0);
  return { pending: sum(pendingStatuses), delivered: sum(['delivered']), failed: sum(failedStatuses) };
}

/** A progress bar of the messages of `total` that have left the gateway, with the outcomes so far. */
export function progressBar(total, counts) {
  const { pending, delivered, failed } = progressOf(counts);
  const sent = Math.max(0, total - pending);
  return h(
    'p',
    { class: 'progress', 'data-sent': sent, 'data-total': total },
    h('progress', { value: sent, max: Math.max(total, 1) }),
    ` ${sent} of ${total} sent · ${delivered} delivered · ${failed} failed · ${pending} to send`,
  );
}

/** Messages by status as a table (`tr[data-status]`), in the order given, zeros left out. */
export function countsTable(id, counts) {
  const rows = Object.entries(counts ?? {}).filter(([, n]) => n);
  return h(
    'table',
    { id, class: 'counts' },
    h('thead', null, h('tr', null, h('th', null, 'Status'), h('th', { class: 'num' }, 'Messages'))),
    h(
      'tbody',
      null,
      rows.length
        ? rows.map(([s, n]) =>
            h('tr', { 'data-status': s }, h('td', null, badge(s)), h('td', { class: 'num' }, n)),
          )
        : h('tr', null, h('td', { colspan: 2, class: 'muted' }, 'No messages.')),
    ),
  );
}

/** Seconds as `2 h 5 min`, `3 min 20 s`, `45 s`. */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}
