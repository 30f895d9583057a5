// An account's suppression list (/v1/suppressions): numbers no message goes to (for the
// whole account, or from one sender only). Found by number, added one at a time, imported
// from a CSV file (streamed as it is to POST /v1/suppressions/import), removed.
import { errorText, query } from './api.js';
import { field, h, pagedTable, scrollBox, showFormError, time } from './dom.js';

const pageSize = 20;

/**
 * @param {HTMLElement} root
 * @param {import('./api.js').Client} client
 * @returns {() => void} stops the view's timers
 */
export function suppressionsView(root, client) {
  const search = /** @type {HTMLInputElement} */ (
    h('input', {
      id: 'suppression-search',
      name: 'to',
      type: 'search',
      autocomplete: 'off',
      placeholder: 'Number',
      'aria-label': 'Find a number on the list',
    })
  );
  const listError = h('p', { id: 'suppression-error', class: 'error', role: 'alert' });
  const remove = async (s) => {
    if (
      !confirm(
        `Remove ${s.to}${s.from ? ` (from ${s.from})` : ''} from the list? Messages to it will be sent again.`,
      )
    )
      return;
    listError.replaceChildren();
    try {
      await client.delete(`/v1/suppressions/${encodeURIComponent(s.to)}${query({ from: s.from })}`);
    } catch (err) {
      listError.replaceChildren(errorText(err));
    }
    await list.load();
  };
  const list = pagedTable({
    id: 'suppressions',
    pager: 'suppressions-page',
    headings: ['Number', 'Scope', 'Source', 'Reason', 'Added', ''],
    empty: 'No numbers on the list.',
    fetchPage: (cursor) =>
      client.get(`/v1/suppressions${query({ to: search.value.trim(), limit: pageSize, cursor })}`),
    row: (s) =>
      h(
        'tr',
        { 'data-to': s.to },
        h('td', null, s.to),
        h('td', null, s.scope === 'sender' ? `from ${s.from}` : 'every sender'),
        h('td', null, s.source),
        h('td', { class: 'text' }, s.reason ?? ''),
        h('td', null, time(s.createdAt)),
        h(
          'td',
          { class: 'actions' },
          h('button', { type: 'button', class: 'remove', onclick: () => remove(s) }, 'Remove'),
        ),
      ),
  });

  root.replaceChildren(
    h(
      'div',
      { class: 'columns' },
      h('div', { class: 'stack' }, addForm(client, list.restart), importForm(client, list.restart)),
      h(
        'section',
        { class: 'panel wide' },
        h('h2', null, 'Suppression list'),
        h(
          'div',
          { class: 'toolbar' },
          h(
            'form',
            {
              id: 'suppression-search-form',
              role: 'search',
              onsubmit: (/** @type {SubmitEvent} */ ev) => {
                ev.preventDefault();
                list.restart();
              },
            },
            search,
            ' ',
            h('button', { type: 'submit' }, 'Find'),
          ),
          h('span', { class: 'spacer' }),
          list.controls,
        ),
        listError,
        list.error,
        scrollBox(list.table),
      ),
    ),
  );
  list.load();
  return () => {};
}

function addForm(client, onAdded) {
  const to = h('input', { id: 'suppression-to', name: 'to', required: true, autocomplete: 'off' });
  const from = h('input', {
    id: 'suppression-from',
    name: 'from',
    autocomplete: 'off',
    placeholder: 'every sender',
  });
  const reason = h('input', { id: 'suppression-reason', name: 'reason', autocomplete: 'off' });
  const result = h('p', { id: 'suppression-add-result', role: 'status' });
  const inputs = { to, from, reason };
  const value = (el) => /** @type {HTMLInputElement} */ (el).value.trim();
  const submit = async (/** @type {SubmitEvent} */ ev) => {
    ev.preventDefault();
    for (const input of Object.values(inputs)) input.removeAttribute('aria-invalid');
    try {
      const added = await client.post('/v1/suppressions', {
        to: value(to),
        ...(value(from) ? { from: value(from) } : {}),
        ...(value(reason) ? { reason: value(reason) } : {}),
      });
      result.className = 'ok';
      result.replaceChildren(`${added.to} added.`);
      for (const input of Object.values(inputs)) /** @type {HTMLInputElement} */ (input).value = '';
      onAdded();
    } catch (err) {
      showFormError(result, err, inputs);
    }
  };
  return h(
    'form',
    { id: 'suppression-add', class: 'panel', onsubmit: submit },
    h('h2', null, 'Add a number'),
    field('Number', to),
    field('Only from this sender (optional)', from),
    field('Reason (optional)', reason),
    h('button', { type: 'submit' }, 'Add'),
    result,
  );
}

function importForm(client, onImported) {
  const file = /** @type {HTMLInputElement} */ (
    h('input', {
      id: 'suppression-file',
      name: 'file',
      type: 'file',
      required: true,
      accept: '.csv,text/csv,text/plain',
    })
  );
  const result = h('div', { id: 'suppression-import-result', role: 'status' });
  const submit = async (/** @type {SubmitEvent} */ ev) => {
    ev.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) return;
    result.className = '';
    result.replaceChildren('Importing…');
    try {
      const r = await client.upload('/v1/suppressions/import', chosen, 'text/csv');
      result.className = 'ok';
      result.replaceChildren(
        h('p', null, `${r.added} added, ${r.invalid} not a number.`),
        r.invalidRows?.length
          ? h(
              'ul',
              { class: 'skipped-rows' },
              r.invalidRows.map((row) => h('li', null, `line ${row.line}: ${row.value || '(empty)'}`)),
            )
          : null,
      );
      file.value = '';
      onImported();
    } catch (err) {
      showFormError(result, err, {});
    }
  };
  return h(
    'form',
    { id: 'suppression-import', class: 'panel', onsubmit: submit },
    h('h2', null, 'Import a list'),
    h(
      'p',
      { class: 'muted' },
      'A CSV file with a "to" column (and "from" for one sender), or one number a line.',
    ),
    field('CSV file', file),
    h('button', { type: 'submit' }, 'Import'),
    result,
  );
}
