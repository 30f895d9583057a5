// An account's verifications (Verify, one-time codes: GET /v1/verify): the recent ones with
// their outcome (approved, pending, expired, canceled, max_attempts_reached), how many codes
// were sent and checked, found by number.
import { query } from './api.js';
import { badge, h, listPanel, pagedTable, time } from './dom.js';

const pageSize = 20;
const refreshMs = 5000;

/**
 * @param {HTMLElement} root
 * @param {import('./api.js').Client} client
 * @returns {() => void} stops the view's timers
 */
export function verifyView(root, client) {
  const to = /** @type {HTMLInputElement} */ (
    h('input', {
      id: 'verify-search',
      name: 'to',
      type: 'search',
      autocomplete: 'off',
      placeholder: 'Number',
      'aria-label': 'Verifications to this number',
    })
  );
  const list = pagedTable({
    id: 'verifications',
    pager: 'verify-page',
    headings: ['Started', 'To', 'Outcome', 'Codes sent', 'Checks', 'Expires', 'Message'],
    empty: 'No verifications.',
    fetchPage: (cursor) => client.get(`/v1/verify${query({ to: to.value.trim(), limit: pageSize, cursor })}`),
    row: verificationRow,
  });
  const search = h(
    'form',
    {
      id: 'verify-search-form',
      role: 'search',
      onsubmit: (/** @type {SubmitEvent} */ ev) => {
        ev.preventDefault();
        list.restart();
      },
    },
    to,
    ' ',
    h('button', { type: 'submit' }, 'Search'),
  );
  return listPanel(root, {
    title: 'Verifications',
    note: 'Codes are sent with POST /v1/verify and checked with POST /v1/verify/:id/check.',
    list: { ...list, controls: [search, ...list.controls] },
    refreshMs,
  });
}

function verificationRow(v) {
  return h(
    'tr',
    { 'data-id': v.id, 'data-status': v.status },
    h('td', { title: v.id }, time(v.createdAt)),
    h('td', null, v.to),
    h('td', null, badge(v.status)),
    h('td', { class: 'num' }, v.sends),
    h('td', { class: 'num' }, `${v.attempts} of ${v.maxAttempts}`),
    h('td', null, time(v.expiresAt)),
    h(
      'td',
      null,
      v.messageId ? h('a', { href: `#/messages/${encodeURIComponent(v.messageId)}` }, 'message') : '—',
    ),
  );
}
