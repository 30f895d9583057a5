// An admin's run-time setup: connectors and the MT rules (#/setup), edited as the config
// file's JSON and checked by the gateway as the file would be; and the audit log of every
// change (#/audit). Everything goes through the admin API (docs/management.md).
import { errorText, query } from './api.js';
import { field, h, listPanel, pagedTable, table, time } from './dom.js';

const auditPageSize = 20;
const auditRefreshMs = 10_000;

/** JSON as shown in an editor. */
const pretty = (value) => JSON.stringify(value, null, 2);

/** Parses a JSON editor, or throws what is wrong with it in the user's words. */
function parsed(textarea, what) {
  try {
    return JSON.parse(textarea.value);
  } catch (err) {
    throw new Error(`${what} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const jsonArea = (id, value) =>
  h('textarea', { id, name: id, rows: '12', spellcheck: 'false' }, pretty(value));

/**
 * @param {HTMLElement} root
 * @param {import('./api.js').Client} client
 * @returns {() => void}
 */
export function setupView(root, client) {
  const result = h('div', { id: 'setup-result', role: 'status' });
  const connectorRows = h('tbody');
  const routes = jsonArea('mt-routes', []);
  const routesSource = h('span', { id: 'mt-routes-source', class: 'muted' });
  const newConnector = jsonArea('new-connector', {
    id: '',
    type: 'smpp',
    host: '',
    port: 2775,
    systemId: '',
    password: '',
  });

  /** Runs a change and says how it went; the page is read again after it. */
  const act = async (what, done) => {
    result.className = '';
    try {
      await what();
      result.className = 'ok';
      result.replaceChildren(done);
      await load();
    } catch (err) {
      result.className = 'error';
      result.replaceChildren(errorText(err));
    }
  };

  const load = async () => {
    try {
      const [{ data }, mt] = await Promise.all([
        client.get('/v1/admin/connectors'),
        client.get('/v1/admin/routes/mt'),
      ]);
      const settings = await Promise.all(
        data.map((c) => client.get(`/v1/admin/connectors/${encodeURIComponent(c.id)}/settings`)),
      );
      connectorRows.replaceChildren(
        ...data.map((c, i) => {
          const editor = jsonArea(`connector-${c.id}`, settings[i].settings);
          const save = h('button', { type: 'button' }, 'Save');
          save.addEventListener('click', () =>
            act(
              () => client.patch(`/v1/admin/connectors/${encodeURIComponent(c.id)}`, parsed(editor, c.id)),
              `Connector ${c.id} saved: its binds restart.`,
            ),
          );
          const remove = h('button', { type: 'button' }, 'Remove');
          remove.addEventListener('click', () => {
            if (!window.confirm(`Remove connector ${c.id}? Its binds are closed.`)) return;
            void act(
              () => client.delete(`/v1/admin/connectors/${encodeURIComponent(c.id)}`),
              `Connector ${c.id} removed.`,
            );
          });
          return h(
            'tr',
            { 'data-id': c.id },
            h(
              'td',
              null,
              c.id,
              h('br'),
              h('span', { class: 'muted' }, `${c.status ?? ''} · ${settings[i].source}`),
            ),
            h('td', null, field(`Settings of ${c.id} (secrets shown as "(set)" are kept)`, editor)),
            h('td', null, save, ' ', remove),
          );
        }),
      );
      routes.value = pretty(mt.routes);
      routesSource.replaceChildren(
        mt.source === 'admin' ? 'set through the admin API' : 'from the config file',
      );
    } catch (err) {
      result.className = 'error';
      result.replaceChildren(errorText(err));
    }
  };

  const saveRoutes = h('button', { type: 'button', id: 'mt-routes-save' }, 'Save MT rules');
  saveRoutes.addEventListener('click', () =>
    act(
      () => client.put('/v1/admin/routes/mt', { routes: parsed(routes, 'The MT rules') }),
      'MT rules saved: the next messages go by them.',
    ),
  );
  const resetRoutes = h('button', { type: 'button', id: 'mt-routes-reset' }, "Back to the file's rules");
  resetRoutes.addEventListener('click', () =>
    act(() => client.delete('/v1/admin/routes/mt'), "MT rules back to the config file's."),
  );
  const addConnector = h('button', { type: 'button', id: 'new-connector-add' }, 'Add connector');
  addConnector.addEventListener('click', () =>
    act(
      () => client.post('/v1/admin/connectors', parsed(newConnector, 'The new connector')),
      'Connector added.',
    ),
  );

  root.replaceChildren(
    h(
      'section',
      { class: 'panel wide' },
      h('h2', null, 'Connectors and MT rules'),
      h(
        'p',
        { class: 'muted' },
        'Settings as the config file takes them, in JSON. What is saved here is kept in the store, ',
        'in force at once on every gateway, and wins over the file.',
      ),
      result,
      h('h3', null, 'MT rules ', routesSource),
      field('routes.mt (first match wins)', routes),
      saveRoutes,
      ' ',
      resetRoutes,
      h('h3', null, 'Connectors'),
      table(['Connector', 'Settings', ''], connectorRows, 'setup-connectors'),
      h('h3', null, 'Add a connector'),
      field('New connector settings', newConnector),
      addConnector,
    ),
  );
  void load();
  return () => {};
}

/**
 * @param {HTMLElement} root
 * @param {import('./api.js').Client} client
 * @returns {() => void}
 */
export function auditView(root, client) {
  const list = pagedTable({
    id: 'audit',
    pager: 'audit-page',
    headings: ['When', 'Who', 'What', 'Object', 'Change'],
    empty: 'No change yet.',
    fetchPage: (cursor) => client.get(`/v1/admin/audit${query({ limit: auditPageSize, cursor })}`),
    row: (e) =>
      h(
        'tr',
        { 'data-id': e.id },
        h('td', null, time(e.at)),
        h('td', null, e.actor),
        h('td', null, e.action),
        h('td', null, `${e.object} ${e.objectId}`),
        h('td', { class: 'text' }, changeText(e.before, e.after)),
      ),
  });
  return listPanel(root, {
    title: 'Audit log',
    note: 'Every change through the admin API, a reload or smsgw keys create; secrets are left out.',
    list,
    refreshMs: auditRefreshMs,
  });
}

/** The top-level fields a change touched, as `field: before → after` (objects as JSON). */
function changeText(before, after) {
  const show = (v) => (v === undefined ? '—' : JSON.stringify(v));
  if (before === null || after === null || typeof before !== 'object' || typeof after !== 'object')
    return before === null
      ? `→ ${show(after)}`
      : after === null
        ? 'removed'
        : `${show(before)} → ${show(after)}`;
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
    (k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]),
  );
  return fields.length
    ? fields.map((k) => `${k}: ${show(before[k])} → ${show(after[k])}`).join('; ')
    : 'no change';
}
