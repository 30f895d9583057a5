// Appointment reminders end to end: scheduled a few seconds ahead, sent, a reply injected
// at the simulator connector confirms it, the signed webhook arrives, the ack goes back.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseTime } from '../../src/apps/reminders.ts';
import { verifyWebhook } from '../../src/webhooks/index.ts';
import { api, gatewayFrom, waitFor, webhookReceiver } from '../e2e/helpers.ts';

describe('reminders', () => {
  let gw: Awaited<ReturnType<typeof gatewayFrom>>;
  let hooks: Awaited<ReturnType<typeof webhookReceiver>>;
  let call: ReturnType<typeof api>;
  let admin: ReturnType<typeof api>;

  before(async () => {
    hooks = await webhookReceiver();
    gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-123] }
accounts:
  - id: acme
    apiKeys: [acme-key-1]
    defaultFrom: "+15550100"
    webhook: { url: "${hooks.url}", secret: whsec-1 }
  - id: other
    apiKeys: [other-key-1]
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10 }
routes:
  mt: [{ connectors: [sim] }]
  mo:
    - match: { to: ["+15550100", "+15550101"] }
      account: acme
`);
    call = api(gw.base, 'acme-key-1');
    admin = api(gw.base, 'admin-key-123');
  });

  after(async () => {
    await gw?.close();
    await hooks?.close();
  });

  const reply = (from: string, to: string, text: string) =>
    admin('POST', '/v1/admin/connectors/sim/inbound', { from, to, text });
  const hookFor = (id: string, type: string) =>
    waitFor(() => hooks.hooks.find((h) => h.body.type === type && h.body.data.id === id), 10_000, type);

  test('sent at its time; a YES reply confirms it, the signed webhook arrives, the ack goes back', async () => {
    const at = new Date(Date.now() + 2000).toISOString();
    const res = await call('POST', '/v1/reminders', {
      to: '+447700900123',
      at,
      text: 'Dentist tomorrow 10:00. Reply YES to confirm, NO to cancel.',
      replies: { YES: 'confirmed', NO: 'canceled' },
      ack: { YES: 'Thanks, see you tomorrow.' },
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.status, 'scheduled');
    assert.equal(res.body.at, at);
    const id = res.body.id as string;
    assert.equal((await call('GET', `/v1/reminders/${id}`)).body.status, 'scheduled');

    const sent = await waitFor(async () => {
      const r = (await call('GET', `/v1/reminders/${id}`)).body;
      return r.status === 'sent' && r;
    }, 15_000);
    const message = (await call('GET', `/v1/messages/${sent.messageId}`)).body;
    assert.equal(message.text, 'Dentist tomorrow 10:00. Reply YES to confirm, NO to cancel.');
    assert.equal(message.from, '+15550100');
    assert.ok(Date.parse(message.submittedAt) >= Date.parse(at), 'not sent before its time');
    await hookFor(id, 'reminder.sent');

    assert.equal((await reply('+447700900123', '+15550100', 'yes!')).status, 202);
    const confirmed = await waitFor(async () => {
      const r = (await call('GET', `/v1/reminders/${id}`)).body;
      return r.status === 'confirmed' && r;
    });
    assert.equal(confirmed.reply, 'yes!');
    assert.equal(confirmed.replyKeyword, 'YES');
    const hook = await hookFor(id, 'reminder.confirmed');
    assert.equal(hook.body.data.status, 'confirmed');
    assert.ok(hook.body.createdAt && hook.body.id);
    assert.ok(
      verifyWebhook(
        'whsec-1',
        hook.raw,
        hook.headers['smsgw-signature'] as string,
        Math.floor(Date.now() / 1000),
      ),
    );
    const ack = await waitFor(async () => {
      const list = (
        await call('GET', `/v1/messages?to=${encodeURIComponent('+447700900123')}&direction=outbound`)
      ).body.data as Array<{ text: string }>;
      return list.find((m) => m.text === 'Thanks, see you tomorrow.');
    });
    assert.ok(ack);
    // A second reply is no longer a reminder's: the reminder keeps its outcome.
    await reply('+447700900123', '+15550100', 'NO');
    await waitFor(async () => {
      const list = (await call('GET', '/v1/messages?direction=inbound')).body.data as Array<{ text: string }>;
      return list.some((m) => m.text === 'NO');
    });
    assert.equal((await call('GET', `/v1/reminders/${id}`)).body.status, 'confirmed');
  });

  test('a reply goes to the reminder sent from the number it answers; other words change nothing', async () => {
    const to = '+447700900124';
    const make = async (from: string, text: string) =>
      (
        await call('POST', '/v1/reminders', {
          to,
          from,
          at: new Date().toISOString(),
          text,
          replies: { YES: 'confirmed', NO: 'canceled' },
        })
      ).body.id as string;
    const dentist = await make('+15550100', 'Dentist');
    const doctor = await make('+15550101', 'Doctor');
    for (const id of [dentist, doctor])
      await waitFor(async () => (await call('GET', `/v1/reminders/${id}`)).body.status === 'sent', 10_000);

    await reply(to, '+15550100', 'maybe');
    await waitFor(async () => (await call('GET', `/v1/reminders/${dentist}`)).body.reply === 'maybe');
    assert.equal((await call('GET', `/v1/reminders/${dentist}`)).body.status, 'sent');

    await reply(to, '+15550100', 'No');
    const canceled = await waitFor(async () => {
      const r = (await call('GET', `/v1/reminders/${dentist}`)).body;
      return r.status === 'canceled' && r;
    });
    assert.equal(canceled.reply, 'No');
    await hookFor(dentist, 'reminder.canceled');
    assert.equal(
      (await call('GET', `/v1/reminders/${doctor}`)).body.status,
      'sent',
      'the other one is untouched',
    );

    // No reply within its window: expired (the window is moved back rather than waited for).
    const record = (await gw.app.store.getRecord('reminder', doctor))!;
    await gw.app.store.putRecord({ ...record, dueAt: Date.now() - 1 });
    await waitFor(async () => (await call('GET', `/v1/reminders/${doctor}`)).body.status === 'expired');
    await hookFor(doctor, 'reminder.expired');
  });

  test('update and cancel before it is sent; list; bad input; another account sees nothing', async () => {
    const dayAhead = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
    const inNewYork = (days: number) =>
      new Date(parseTime(`${dayAhead(days)}T09:30`, 'America/New_York')!).toISOString();
    const res = await call('POST', '/v1/reminders', {
      to: '+447700900125',
      at: `${dayAhead(5)}T09:30`,
      timezone: 'America/New_York',
      text: 'Checkup',
      replies: { yes: 'confirmed' },
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.at, inNewYork(5));
    assert.notEqual(res.body.at, `${dayAhead(5)}T09:30:00.000Z`, 'New York is not UTC');
    assert.deepEqual(res.body.replies, { YES: 'confirmed' });
    const id = res.body.id as string;
    const firstMessage = res.body.messageId as string;
    assert.equal((await call('GET', `/v1/messages/${firstMessage}`)).body.status, 'scheduled');

    const moved = await call('PATCH', `/v1/reminders/${id}`, {
      at: `${dayAhead(10)}T09:30`,
      text: 'Checkup (moved)',
    });
    assert.equal(moved.status, 200);
    assert.equal(moved.body.at, inNewYork(10));
    assert.notEqual(moved.body.messageId, firstMessage);
    assert.equal((await call('GET', `/v1/messages/${firstMessage}`)).body.status, 'canceled');
    assert.equal((await call('GET', `/v1/messages/${moved.body.messageId}`)).body.text, 'Checkup (moved)');

    const list = await call('GET', '/v1/reminders?status=scheduled&limit=10');
    assert.ok(list.body.data.some((r: { id: string }) => r.id === id));
    assert.equal((await api(gw.base, 'other-key-1')('GET', `/v1/reminders/${id}`)).status, 404);
    assert.equal((await api(gw.base, 'other-key-1')('POST', `/v1/reminders/${id}/cancel`)).status, 404);

    const canceled = await call('POST', `/v1/reminders/${id}/cancel`);
    assert.equal(canceled.status, 200);
    assert.equal(canceled.body.status, 'canceled');
    assert.equal((await call('GET', `/v1/messages/${moved.body.messageId}`)).body.status, 'canceled');
    assert.equal((await call('POST', `/v1/reminders/${id}/cancel`)).status, 409);

    const base = {
      to: '+447700900126',
      at: `${dayAhead(1)}T00:00Z`,
      text: 'x',
      replies: { YES: 'confirmed' },
    };
    for (const [body, field] of [
      [{ ...base, to: 'nope' }, 'to'],
      [{ ...base, at: 'tomorrow' }, 'at'],
      [{ ...base, at: `${dayAhead(400)}T00:00Z` }, 'at'],
      [{ ...base, timezone: 'Mars/Olympus' }, 'timezone'],
      [{ ...base, replies: {} }, 'replies'],
      [{ ...base, replies: { YES: 'sent' } }, 'replies'],
      [{ ...base, ack: { NO: 'ok' } }, 'ack'],
      [{ ...base, text: undefined }, 'text'],
    ] as const) {
      const r = await call('POST', '/v1/reminders', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error.field, field);
    }
  });

  test('local times follow the zone, daylight saving included', () => {
    assert.equal(parseTime('2026-07-01T09:00', 'America/New_York'), Date.parse('2026-07-01T13:00:00Z'));
    assert.equal(parseTime('2026-01-15T09:00', 'America/New_York'), Date.parse('2026-01-15T14:00:00Z'));
    assert.equal(parseTime('2026-03-29T12:00:30', 'Europe/London'), Date.parse('2026-03-29T11:00:30Z'));
    assert.equal(parseTime('2026-03-29T12:00+05:00', 'Europe/London'), Date.parse('2026-03-29T07:00:00Z'));
    assert.equal(parseTime('2026-02-30T12:00', 'UTC'), undefined);
    assert.equal(parseTime('2026-02-03', 'UTC'), undefined);
  });
});
