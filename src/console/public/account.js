// An account's view: send a message (with a live encoding/segment count), its messages
// (the search of search.js), and one message with its events.
import { ApiError, errorText } from './api.js';
import { badge, every, field, fieldList, h, plural, showFormError, time } from './dom.js';
import { messageHref, messageSearch } from './search.js';

/** Statuses a message does not leave: its detail stops refreshing there. */
const finalStatuses = new Set([
  'delivered',
  'undelivered',
  'expired',
  'rejected',
  'failed',
  'canceled',
  'received',
]);
const encodingNames = { gsm7: 'GSM-7', ucs2: 'UCS-2', latin1: 'Latin-1', binary: 'binary' };
const refreshMs = 2000;

/**
 * @param {HTMLElement} root
 * @param {import('./api.js').Client} client
 * @param {URLSearchParams} params the search in the location
 * @returns {() => void} stops the view's timers
 */
export function accountView(root, client, params) {
  const list = messageSearch(client, { path: '/v1/messages', params });
  const send = sendForm(client, () => list.reload());
  root.replaceChildren(h('div', { class: 'columns' }, send.element, list.element));
  return () => {
    list.stop();
    send.stop();
  };
}

function sendForm(client, onSent) {
  const to = h('input', {
    id: 'to',
    name: 'to',
    required: true,
    autocomplete: 'off',
    placeholder: '+447700900123',
  });
  const from = h('input', { id: 'from', name: 'from', autocomplete: 'off', placeholder: 'account default' });
  const text = /** @type {HTMLTextAreaElement} */ (
    h('textarea', { id: 'text', name: 'text', rows: 5, required: true })
  );
  const counter = h('p', { id: 'segment-counter', class: 'muted', 'aria-live': 'polite' });
  const result = h('p', { id: 'send-result', role: 'status' });
  const button = h('button', { type: 'submit' }, 'Send');
  const inputs = { to, from, text };

  // The count is the gateway's own (same tables and rules as sending). POST, not GET: a
  // long text would not fit in a request line.
  let asked = 0;
  let debounce;
  const count = async () => {
    const n = ++asked;
    if (text.value === '') {
      counter.replaceChildren('Encoding and segments appear as you type.');
      return;
    }
    try {
      const s = await client.post('/v1/messages/segments', { text: text.value });
      if (n !== asked) return;
      counter.replaceChildren(
        `${encodingNames[s.encoding] ?? s.encoding} · ${plural(s.segments, 'segment')} · ` +
          `${s.used}/${s.perSegment} in the last, ${s.remaining} left`,
        s.unicodeCharacters?.length ? ` · UCS-2 because of ${s.unicodeCharacters.join(' ')}` : '',
      );
    } catch (err) {
      if (n === asked) counter.replaceChildren(errorText(err));
    }
  };
  text.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(count, 150);
  });
  count();

  const submit = async (/** @type {SubmitEvent} */ ev) => {
    ev.preventDefault();
    for (const input of Object.values(inputs)) input.removeAttribute('aria-invalid');
    const value = (el) => /** @type {HTMLInputElement} */ (el).value.trim();
    button.toggleAttribute('disabled', true);
    result.className = '';
    result.replaceChildren('Sending…');
    try {
      const m = await client.post('/v1/messages', {
        to: value(to),
        text: text.value,
        ...(value(from) ? { from: value(from) } : {}),
      });
      result.className = 'ok';
      result.replaceChildren(
        'Accepted ',
        h('a', { href: messageHref(m.id) }, m.id),
        ` · ${m.status} · ${plural(m.segments, 'segment')} · ${encodingNames[m.encoding] ?? m.encoding}`,
      );
      text.value = '';
      count();
      onSent();
    } catch (err) {
      showFormError(result, err, inputs);
    } finally {
      button.toggleAttribute('disabled', false);
    }
  };

  const element = h(
    'form',
    { id: 'send-form', class: 'panel', onsubmit: submit },
    h('h2', null, 'Send a message'),
    field('To', to),
    field('From', from),
    field('Text', text),
    counter,
    button,
    result,
  );
  return { element, stop: () => clearTimeout(debounce) };
}

/**
 * @param {HTMLElement} root
 * @param {import('./api.js').Client} client
 * @param {string} id
 * @param {string} [path] where messages are read: an admin reads any at /v1/admin/messages
 */
export function messageDetailView(root, client, id, path = '/v1/messages') {
  const body = h('div', { id: 'message-detail' }, h('p', { class: 'muted' }, 'Loading…'));
  root.replaceChildren(
    h('section', { class: 'panel wide' }, h('p', null, h('a', { href: '#/messages' }, '← Messages')), body),
  );
  let done = false;
  const load = async () => {
    if (done) return;
    try {
      const m = await client.get(`${path}/${encodeURIComponent(id)}`);
      done = finalStatuses.has(m.status);
      body.replaceChildren(...detail(m, client, load, path === '/v1/messages'));
    } catch (err) {
      done = err instanceof ApiError && err.status === 404;
      body.replaceChildren(h('p', { class: 'error', role: 'alert' }, errorText(err)));
    }
  };
  return every(refreshMs, load);
}

function detail(m, client, reload, own) {
  const rows = [
    ['ID', m.id],
    ...(m.account ? [['Account', m.account]] : []),
    ['Status', badge(m.status)],
    ['Direction', m.direction],
    ['To', m.to],
    ['From', m.from ?? '—'],
    ['Text', m.text ?? (m.binaryHex ? `binary ${m.binaryHex}` : '—')],
    ['Encoding', `${encodingNames[m.encoding] ?? m.encoding} · ${plural(m.segments, 'segment')}`],
    ['Priority', m.priority ?? '—'],
    ['Client ref', m.clientRef ?? '—'],
    ['Connector', m.connector ?? '—'],
    ['Error', m.error ? `${m.error.code}: ${m.error.message ?? ''}` : '—'],
    ['Created', time(m.createdAt)],
    ['Send at', time(m.sendAt)],
    ['Valid until', time(m.validUntil)],
    ['Submitted', time(m.submittedAt)],
    ['Done', time(m.doneAt)],
  ];
  const out = [h('h2', null, `Message ${m.id}`), fieldList(rows)];
  // Only the owner cancels (DELETE /v1/messages/:id).
  if (own && (m.status === 'queued' || m.status === 'scheduled')) {
    const result = h('span', { class: 'error', role: 'alert' });
    const cancel = async () => {
      try {
        await client.delete(`/v1/messages/${encodeURIComponent(m.id)}`);
        reload();
      } catch (err) {
        result.replaceChildren(errorText(err));
      }
    };
    out.push(
      h('p', null, h('button', { type: 'button', id: 'cancel', onclick: cancel }, 'Cancel'), ' ', result),
    );
  }
  out.push(
    h('h3', null, 'Events'),
    h(
      'ol',
      { id: 'events', class: 'timeline' },
      (m.events ?? []).map((e) =>
        h(
          'li',
          { 'data-type': e.type },
          h('time', null, time(e.at)),
          ' ',
          badge(e.type),
          e.detail
            ? h(
                'span',
                { class: 'muted' },
                ` ${Object.entries(e.detail)
                  .map(([k, v]) => `${k}: ${detailValue(k, v)}`)
                  .join(', ')}`,
              )
            : '',
        ),
      ),
    ),
  );
  return out;
}

/** An event detail's value as text: times (`…At`, epoch ms) as local times. */
function detailValue(key, value) {
  if (typeof value === 'number' && key.endsWith('At')) return time(new Date(value).toISOString());
  return typeof value === 'string' ? value : JSON.stringify(value);
}
