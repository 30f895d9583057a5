// The console's entry: sign-in, the header, and the hash routes (#/messages, #/batches,
// #/alerts, #/reminders, #/traffic, #/verify, #/suppressions, #/balance, #/usage and
// #/<page>/<id> for an account key; #/admin (the overview), #/health, #/messages,
// #/accounts, #/setup and #/audit for an admin key).
import { accountView, messageDetailView } from './account.js';
import { accountDetailView, accountsView } from './accounts.js';
import { adminView } from './admin.js';
import { alertDetailView, alertsView } from './alerts.js';
import { clearSession, createClient, errorText, loadSession, roleOf, saveSession } from './api.js';
import { batchDetailView, batchesView } from './batches.js';
import { balanceView, usageView } from './billing.js';
import { trafficView } from './charts.js';
import { field, h } from './dom.js';
import { healthView } from './health.js';
import { reminderDetailView, remindersView } from './reminders.js';
import { adminMessagesView } from './search.js';
import { auditView, setupView } from './setup.js';
import { suppressionsView } from './suppressions.js';
import { verifyView } from './verify.js';

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const sessionBar = /** @type {HTMLElement} */ (document.getElementById('session'));

/** Stops the current view's refresh timers. */
let stopView = () => {};
/** Shown on the sign-in form once (why the user was signed out). */
let notice = '';

function route() {
  stopView();
  stopView = () => {};
  const session = loadSession();
  renderSessionBar(session);
  if (!session) {
    main.replaceChildren(signInView());
    return;
  }
  const client = createClient(session.key, () => {
    clearSession();
    notice = 'The key is no longer accepted: sign in again.';
    route();
  });
  const { page, id, params } = currentPage(session.role);
  const views = pagesOf(session.role)[page];
  stopView =
    id && views.detail
      ? views.detail(main, client, decodeURIComponent(id))
      : views.list(main, client, params);
}

/** An account's pages: the list at #/<page>, one item at #/<page>/<id>. */
const accountPages = {
  messages: { label: 'Messages', list: accountView, detail: messageDetailView },
  batches: { label: 'Batches', list: batchesView, detail: batchDetailView },
  alerts: { label: 'Alerts', list: alertsView, detail: alertDetailView },
  reminders: { label: 'Reminders', list: remindersView, detail: reminderDetailView },
  traffic: { label: 'Traffic', list: trafficView, detail: trafficView },
  verify: { label: 'Verify', list: verifyView },
  suppressions: { label: 'Suppressions', list: suppressionsView },
  balance: { label: 'Balance', list: balanceView },
  usage: { label: 'Usage', list: usageView },
};

/** An admin's pages: the list at #/<page>, one item at #/<page>/<id>; the first (the overview, with the charts) is where an admin lands. */
const adminPages = {
  admin: { label: 'Overview', list: adminView },
  health: { label: 'Health', list: healthView },
  messages: {
    label: 'Messages',
    list: adminMessagesView,
    detail: (root, client, id) => messageDetailView(root, client, id, '/v1/admin/messages'),
  },
  accounts: { label: 'Accounts', list: accountsView, detail: accountDetailView },
  setup: { label: 'Setup', list: setupView },
  audit: { label: 'Audit', list: auditView },
};

const pagesOf = (role) => (role === 'admin' ? adminPages : accountPages);

/** The page of the role's that the location names (the role's first when it names none). */
function currentPage(role) {
  const pages = pagesOf(role);
  // #/<page>, #/<page>/<id>, #/<page>?<search> (a list's search, e.g. #/messages?q=447700900123)
  const [, page, id, search] = /^#\/(\w+)(?:\/([^?]+))?(?:\?(.*))?$/.exec(location.hash) ?? [];
  const params = new URLSearchParams(search ?? '');
  return Object.hasOwn(pages, page)
    ? { page, id, params }
    : { page: Object.keys(pages)[0], id: undefined, params };
}

function renderSessionBar(session) {
  if (!session) {
    sessionBar.replaceChildren();
    return;
  }
  const signOut = () => {
    clearSession();
    history.replaceState(null, '', '#');
    route();
  };
  sessionBar.replaceChildren(
    ...Object.entries(pagesOf(session.role)).map(([page, { label }]) =>
      h(
        'a',
        {
          href: `#/${page}`,
          'aria-current': currentPage(session.role).page === page ? 'page' : undefined,
        },
        label,
      ),
    ),
    h(
      'span',
      { id: 'signed-in', class: 'muted' },
      `${session.role === 'admin' ? 'admin key' : 'account key'} …${session.key.slice(-4)}`,
    ),
    h('button', { type: 'button', id: 'sign-out', onclick: signOut }, 'Sign out'),
  );
}

function signInView() {
  const key = h('input', {
    id: 'key',
    name: 'key',
    type: 'password',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const message = h('p', { id: 'sign-in-error', class: 'error', role: 'alert' }, notice);
  notice = '';
  const button = h('button', { type: 'submit' }, 'Sign in');
  const submit = async (/** @type {SubmitEvent} */ ev) => {
    ev.preventDefault();
    const value = /** @type {HTMLInputElement} */ (key).value.trim();
    if (!value) return;
    button.toggleAttribute('disabled', true);
    message.replaceChildren('Checking the key…');
    try {
      const role = await roleOf(value);
      if (!role) {
        message.replaceChildren('This key is neither an account API key nor an admin key.');
        return;
      }
      saveSession({ role, key: value });
      history.replaceState(null, '', role === 'admin' ? '#/admin' : '#/messages');
      route();
    } catch (err) {
      message.replaceChildren(errorText(err));
    } finally {
      button.toggleAttribute('disabled', false);
    }
  };
  return h(
    'form',
    { id: 'sign-in', class: 'panel narrow', onsubmit: submit },
    h('h2', null, 'Sign in'),
    h(
      'p',
      { class: 'muted' },
      'With an account API key (send and follow messages) or an admin key (connectors, routes, accounts). ',
      'The key stays in this tab only.',
    ),
    field('API key or admin key', key),
    button,
    message,
  );
}

window.addEventListener('hashchange', route);
route();
