// An admin's accounts (#/accounts): the list, onboarding a customer in one form (account,
// first API key shown once, credit, policy), and one account (#/accounts/<id>) with its
// keys, credit, policy and deletion. Everything goes through /v1/admin/accounts.
import { ApiError, errorText } from './api.js';
import { field, fieldList, h, showFormError, table } from './dom.js';

const accountHref = (id) => `#/accounts/${encodeURIComponent(id)}`;
const accountPath = (id) => `/v1/admin/accounts/${encodeURIComponent(id)}`;

/** `a, b` → ['a', 'b'] (empty entries left out). */
const listOf = (text) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const input = (id, attrs = {}) => h('input', { id, name: id, ...attrs });

/** The policy a form's fields give (undefined when none is set). */
function policyFrom(inputs) {
  const senders = listOf(inputs.senders.value);
  const allow = listOf(inputs.destinations.value);
  const daily = inputs.dailyQuota.value.trim();
  const policy = {
    ...(senders.length ? { senders } : {}),
    ...(allow.length ? { destinations: { allow } } : {}),
    ...(daily ? { dailyQuota: Number(daily) } : {}),
  };
  return Object.keys(policy).length ? policy : undefined;
}

function policyInputs(prefix, policy) {
  return {
    senders: input(`${prefix}-senders`, {
      placeholder: 'ACME, +4477009*',
      value: (policy?.senders ?? []).join(', '),
    }),
    destinations: input(`${prefix}-destinations`, {
      placeholder: '+44*, GB',
      value: (policy?.destinations?.allow ?? []).join(', '),
    }),
    dailyQuota: input(`${prefix}-daily-quota`, {
      type: 'number',
      min: '0',
      value: policy?.dailyQuota ?? '',
    }),
  };
}

const policyFields = (inputs) => [
  field('Senders it may use (comma-separated patterns)', inputs.senders),
  field('Destinations it may send to (patterns or country codes)', inputs.destinations),
  field('Messages a day (empty: no quota)', inputs.dailyQuota),
];

/**
 * @param {HTMLElement} root
 * @param {import('./api.js').Client} client
 * @returns {() => void}
 */
export function accountsView(root, client) {
  const rows = h('tbody');
  const listError = h('p', { class: 'error', role: 'alert' });
  const load = async () => {
    try {
      const { data } = await client.get('/v1/admin/accounts');
      rows.replaceChildren(
        ...data.map((a) =>
          h(
            'tr',
            { 'data-id': a.id },
            h('td', null, h('a', { href: accountHref(a.id) }, a.id)),
            h('td', null, a.smpp ? a.smpp.systemId : '—'),
            h('td', null, a.webhook ?? '—'),
            h('td', { class: 'num' }, a.mps ? `${a.mps}/s` : 'none'),
          ),
        ),
      );
      listError.replaceChildren();
    } catch (err) {
      listError.replaceChildren(errorText(err));
    }
  };

  const inputs = {
    id: input('new-account-id', { required: true, autocomplete: 'off' }),
    defaultFrom: input('new-account-from', { maxlength: '20' }),
    defaultCountry: input('new-account-country', { maxlength: '2', placeholder: 'GB' }),
    billing: h(
      'select',
      { id: 'new-account-billing' },
      h('option', { value: '' }, 'not billed'),
      h('option', { value: 'prepaid' }, 'prepaid'),
      h('option', { value: 'postpaid' }, 'postpaid'),
    ),
    currency: input('new-account-currency', { maxlength: '3', value: 'EUR' }),
    credit: input('new-account-credit', { type: 'number', step: 'any', min: '0' }),
    ...policyInputs('new-account', undefined),
  };
  const result = h('div', { id: 'new-account-result', role: 'status' });
  const submit = h('button', { type: 'submit' }, 'Create account and key');
  const create = async (/** @type {SubmitEvent} */ ev) => {
    ev.preventDefault();
    for (const el of Object.values(inputs)) el.removeAttribute('aria-invalid');
    const id = inputs.id.value.trim();
    const billing = inputs.billing.value;
    const policy = policyFrom(inputs);
    const body = {
      id,
      ...(inputs.defaultFrom.value.trim() ? { defaultFrom: inputs.defaultFrom.value.trim() } : {}),
      ...(inputs.defaultCountry.value.trim()
        ? { defaultCountry: inputs.defaultCountry.value.trim().toUpperCase() }
        : {}),
      ...(billing
        ? { billing: { type: billing, currency: inputs.currency.value.trim().toUpperCase() } }
        : {}),
      ...(policy ? { policy } : {}),
    };
    submit.toggleAttribute('disabled', true);
    result.className = '';
    result.replaceChildren('Creating…');
    try {
      await client.post('/v1/admin/accounts', body);
      const key = await client.post(`${accountPath(id)}/keys`);
      const credit = Number(inputs.credit.value);
      const balance =
        billing && credit > 0 ? await client.post(`${accountPath(id)}/credit`, { amount: credit }) : null;
      result.className = 'ok';
      result.replaceChildren(
        h('p', null, 'Account ', h('a', { href: accountHref(id) }, id), ' created.'),
        h('p', null, 'Its API key, shown this once only: copy it now.'),
        h('output', { id: 'new-key' }, key.key),
        balance ? h('p', { id: 'new-balance' }, `Balance: ${balance.balance} ${balance.currency}`) : null,
      );
      /** @type {HTMLFormElement} */ (form).reset();
      await load();
    } catch (err) {
      // The field the API names (`accounts[0].policy.senders`) marks its input.
      const named = err instanceof ApiError && err.field ? formFieldOf(err.field) : undefined;
      showFormError(result, named ? new ApiError(err.status, err.code, err.message, named) : err, inputs);
    } finally {
      submit.toggleAttribute('disabled', false);
    }
  };
  const form = h(
    'form',
    { id: 'new-account', onsubmit: create },
    field('Account id', inputs.id),
    field('Default sender', inputs.defaultFrom),
    field('Default country (ISO code)', inputs.defaultCountry),
    field('Billing', inputs.billing),
    field('Currency', inputs.currency),
    field('Starting credit', inputs.credit),
    ...policyFields(inputs),
    submit,
    result,
  );
  root.replaceChildren(
    h(
      'section',
      { class: 'panel wide' },
      h('h2', null, 'Accounts'),
      listError,
      table(['Account', 'SMPP', 'Webhook', 'Rate'], rows, 'accounts'),
    ),
    h('section', { class: 'panel wide' }, h('h2', null, 'Onboard a customer'), form),
  );
  void load();
  return () => {};
}

/** The form input an API error's field names (`accounts[0].policy.senders` → senders). */
function formFieldOf(path) {
  const last = path.replace(/^accounts\[0\]\./, '').split('.');
  const map = {
    id: 'id',
    defaultFrom: 'defaultFrom',
    defaultCountry: 'defaultCountry',
    billing: 'billing',
    'billing.currency': 'currency',
    'policy.senders': 'senders',
    'policy.destinations': 'destinations',
    'policy.dailyQuota': 'dailyQuota',
  };
  const joined = last.join('.').replace(/\[\d+\]$/, '');
  return map[joined] ?? map[last[0]];
}

/**
 * @param {HTMLElement} root
 * @param {import('./api.js').Client} client
 * @param {string} id
 * @returns {() => void}
 */
export function accountDetailView(root, client, id) {
  const body = h('div', { id: 'account-detail' }, h('p', { class: 'muted' }, 'Loading…'));
  root.replaceChildren(
    h('section', { class: 'panel wide' }, h('p', null, h('a', { href: '#/accounts' }, '← Accounts')), body),
  );
  const show = async () => {
    let account;
    let keys;
    try {
      account = await client.get(accountPath(id));
      keys = (await client.get(`${accountPath(id)}/keys`)).data;
    } catch (err) {
      body.replaceChildren(h('p', { class: 'error', role: 'alert' }, errorText(err)));
      return;
    }
    const actionResult = h('div', { id: 'account-result', role: 'status' });
    const act = async (what) => {
      actionResult.className = '';
      try {
        await what();
      } catch (err) {
        actionResult.className = 'error';
        actionResult.replaceChildren(errorText(err));
      }
    };
    const newKey = h('button', { type: 'button', id: 'account-new-key' }, 'New API key');
    newKey.addEventListener('click', () =>
      act(async () => {
        const made = await client.post(`${accountPath(id)}/keys`);
        await show();
        const shown = /** @type {HTMLElement} */ (document.getElementById('account-result'));
        shown.className = 'ok';
        shown.replaceChildren('New key, shown this once only: ', h('output', { id: 'new-key' }, made.key));
      }),
    );
    const keyRows = keys.map((k) => {
      const revoke = h('button', { type: 'button', 'data-key': k.id }, 'Revoke');
      revoke.addEventListener('click', () =>
        act(async () => {
          await client.delete(`${accountPath(id)}/keys/${encodeURIComponent(k.id)}`);
          await show();
        }),
      );
      return h(
        'tr',
        { 'data-key': k.id },
        h('td', null, k.id),
        h('td', null, k.prefix ? `${k.prefix}…` : '—'),
        h('td', null, k.source),
        h('td', null, revoke),
      );
    });

    const credit = input('account-credit', { type: 'number', step: 'any', required: true });
    const creditForm = h(
      'form',
      {
        id: 'account-credit-form',
        onsubmit: (/** @type {SubmitEvent} */ ev) => {
          ev.preventDefault();
          void act(async () => {
            const b = await client.post(`${accountPath(id)}/credit`, { amount: Number(credit.value) });
            actionResult.className = 'ok';
            actionResult.replaceChildren(`Balance: ${b.balance} ${b.currency}`);
          });
        },
      },
      field('Add credit (negative takes some away)', credit),
      h('button', { type: 'submit' }, 'Credit'),
    );

    /** A form whose submit runs `save` and then shows `done` once the page is drawn again. */
    const savingForm = (formId, done, save, ...children) =>
      h(
        'form',
        {
          id: formId,
          onsubmit: (/** @type {SubmitEvent} */ ev) => {
            ev.preventDefault();
            void act(async () => {
              await save();
              await show();
              const shown = /** @type {HTMLElement} */ (document.getElementById('account-result'));
              shown.className = 'ok';
              shown.replaceChildren(done);
            });
          },
        },
        ...children,
      );

    const policy = policyInputs('account', account.policy);
    const policyForm = savingForm(
      'account-policy-form',
      'Policy saved.',
      () => client.patch(accountPath(id), { policy: policyFrom(policy) ?? null }),
      ...policyFields(policy),
      h('button', { type: 'submit' }, 'Save policy'),
    );

    const smpp = {
      systemId: input('account-smpp-system-id', { value: account.smpp?.systemId ?? '', maxlength: '15' }),
      password: input('account-smpp-password', {
        type: 'password',
        maxlength: '8',
        autocomplete: 'new-password',
      }),
    };
    const smppForm = savingForm(
      'account-smpp-form',
      'SMPP credentials saved.',
      () =>
        client.post(`${accountPath(id)}/smpp`, {
          systemId: smpp.systemId.value.trim(),
          password: smpp.password.value,
        }),
      field('system_id', smpp.systemId),
      field('Password (up to 8 characters; stored hashed)', smpp.password),
      h('button', { type: 'submit' }, 'Set SMPP credentials'),
    );

    const hook = {
      url: input('account-webhook-url', { type: 'url', value: account.webhook?.url ?? '' }),
      secret: input('account-webhook-secret', { type: 'password', autocomplete: 'off' }),
    };
    const webhookForm = savingForm(
      'account-webhook-form',
      'Webhook saved.',
      () => {
        const url = hook.url.value.trim();
        const secret = hook.secret.value;
        return client.patch(accountPath(id), {
          webhook: url ? { url, ...(secret ? { secret } : {}) } : null,
        });
      },
      field('URL (empty: none)', hook.url),
      field('Signing secret (empty: unsigned)', hook.secret),
      h('button', { type: 'submit' }, 'Save webhook'),
    );

    const remove = h('button', { type: 'button', id: 'account-delete' }, 'Delete account');
    remove.addEventListener('click', () =>
      act(async () => {
        if (!window.confirm(`Delete account ${id}? Its keys stop working at once.`)) return;
        await client.delete(accountPath(id));
        location.hash = '#/accounts';
      }),
    );

    body.replaceChildren(
      h('h2', null, `Account ${id}`),
      fieldList([
        [
          'Settings from',
          account.source === 'admin' ? 'the admin API (wins over the file)' : 'the config file',
        ],
        ['Default sender', account.defaultFrom ?? '—'],
        ['Default country', account.defaultCountry ?? '—'],
        ['Rate', account.mps ? `${account.mps}/s` : 'none'],
        ['Billing', account.billing ? `${account.billing.type}, ${account.billing.currency}` : 'not billed'],
        ['SMPP', account.smpp ? account.smpp.systemId : '—'],
        ['Webhook', account.webhook?.url ?? '—'],
      ]),
      actionResult,
      h('h3', null, 'API keys'),
      table(['Key id', 'Starts', 'From', ''], h('tbody', null, keyRows), 'account-keys'),
      newKey,
      h('h3', null, 'Credit'),
      creditForm,
      h('h3', null, 'Policy'),
      policyForm,
      h('h3', null, 'SMPP credentials'),
      smppForm,
      h('h3', null, 'Webhook'),
      webhookForm,
      h('h3', null, 'Delete'),
      remove,
    );
  };
  void show();
  return () => {};
}
