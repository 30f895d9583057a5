// The contract of `Store`, as tests any implementation must pass: SQLite now, PostgreSQL
// later. Each test gets a fresh, migrated, empty store from `makeStore` and closes it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Message, MessageEvent } from '../../src/core/message.ts';
import type {
  AccountCharge,
  IdempotencyRecord,
  NewRecord,
  RecordFilter,
  Store,
} from '../../src/store/index.ts';
import { StoreConflictError, StoreLimitError, StoreNotFoundError } from '../../src/store/index.ts';

/** Message times are offsets from the wall clock at load, as in production. */
const t0 = Date.now();
let created = 0;

export function makeMessage(fields: Partial<Message> = {}): Message {
  return {
    id: randomUUID(),
    accountId: 'acc-a',
    direction: 'mt',
    status: 'queued',
    to: '447700900001',
    from: 'Brand',
    text: 'hello',
    binary: null,
    udh: null,
    encoding: 'gsm7',
    segments: 1,
    priority: 'transactional',
    clientRef: null,
    callbackUrl: null,
    flash: false,
    origin: 'http',
    receiptRequested: false,
    connectorId: null,
    createdAt: t0 + ++created,
    sendAt: null,
    validUntil: null,
    submittedAt: null,
    doneAt: null,
    attempts: 0,
    nextAttemptAt: null,
    error: null,
    groupId: null,
    meta: null,
    ...fields,
  };
}

const ids = (messages: Message[]) => messages.map((m) => m.id);

export function storeConformance(name: string, makeStore: () => Promise<Store>): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    describe('lifecycle', () => {
      test('migrate is safe to repeat and ping answers', async () => {
        await store.migrate();
        await store.migrate();
        await store.ping();
      });

      test('close flushes writes still waiting for their tick and is safe to repeat', async () => {
        const m = makeMessage();
        const inserted = store.insertMessages([m]);
        await store.close();
        await inserted;
        await store.close();
        await assert.rejects(store.insertMessages([makeMessage()]));
      });
    });

    describe('messages', () => {
      test('insert and get round-trip every field', async () => {
        const full = makeMessage({
          accountId: 'acc-full',
          status: 'submitted',
          to: '+15550100',
          from: '12345',
          text: null,
          binary: Buffer.from([0x00, 0x01, 0x7f, 0x80, 0xff, 0x00]),
          udh: Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x03, 0x02]),
          encoding: 'binary',
          segments: 3,
          priority: 'emergency',
          clientRef: 'client-ref-1',
          callbackUrl: 'https://example.com/hook',
          flash: true,
          origin: 'smpp',
          receiptRequested: true,
          connectorId: 'conn-1',
          sendAt: t0 + 10,
          validUntil: t0 + 86_400_000,
          submittedAt: t0 + 20,
          doneAt: t0 + 30,
          attempts: 2,
          nextAttemptAt: t0 + 40,
          error: { code: 'SMSC_THROTTLED', message: 'throttled by the SMSC (0x58)' },
          groupId: 'batch-1',
          meta: { dlr: { format: 'kannel', url: 'http://x/?s=%d', mask: 31 } },
        });
        const sparse = makeMessage({ text: 'ünïcödé 😀', encoding: 'ucs2' });
        const mo = makeMessage({ direction: 'mo', status: 'received', priority: 'bulk', text: '' });
        const otp = makeMessage({ priority: 'otp' });
        await store.insertMessages([full, sparse, mo, otp]);
        for (const m of [full, sparse, mo, otp]) assert.deepEqual(await store.getMessage(m.id), m);
        assert.equal(await store.getMessage('no-such-id'), null);
      });

      test('insert records the first event: the status entered, at acceptance', async () => {
        const m = makeMessage({ status: 'scheduled', sendAt: t0 + 1000 });
        await store.insertMessages([m]);
        assert.deepEqual(await store.listEvents(m.id), [
          { messageId: m.id, at: m.createdAt, type: 'scheduled', detail: null },
        ]);
      });

      test('updateMessage replaces content, binary octets included', async () => {
        const m = makeMessage();
        await store.insertMessages([m]);
        const octets = Buffer.from([0x00, 0xff, 0x10, 0x7f]);
        await store.updateMessage(m.id, { text: null, binary: octets, encoding: 'binary', segments: 1 });
        const stored = await store.getMessage(m.id);
        assert.deepEqual(stored?.binary, octets);
        assert.equal(stored?.text, null);
        assert.equal(stored?.encoding, 'binary');
      });

      test('updateMessage moves the schedule and the validity', async () => {
        const m = makeMessage({ status: 'scheduled', sendAt: t0 + 1_000, validUntil: t0 + 2_000 });
        await store.insertMessages([m]);
        await store.updateMessage(m.id, { status: 'queued', sendAt: t0 + 10, validUntil: t0 + 5_000 });
        assert.deepEqual(await store.getMessage(m.id), {
          ...m,
          status: 'queued',
          sendAt: t0 + 10,
          validUntil: t0 + 5_000,
        });
        await store.updateMessage(m.id, { sendAt: null, validUntil: null });
        const cleared = await store.getMessage(m.id);
        assert.equal(cleared?.sendAt, null);
        assert.equal(cleared?.validUntil, null);
      });

      test('updateMessage applies only the patch and records the event', async () => {
        const m = makeMessage();
        await store.insertMessages([m]);
        await store.updateMessage(
          m.id,
          { status: 'sending', connectorId: 'conn-2', attempts: 1 },
          { at: t0 + 100, type: 'sending', detail: { connector: 'conn-2' } },
        );
        await store.updateMessage(m.id, {
          status: 'submitted',
          submittedAt: t0 + 200,
          segments: 2,
          error: { code: 'E1', message: 'first' },
          meta: { twilio: { redacted: true } },
        });
        assert.deepEqual(await store.getMessage(m.id), {
          ...m,
          status: 'submitted',
          connectorId: 'conn-2',
          attempts: 1,
          meta: { twilio: { redacted: true } },
          submittedAt: t0 + 200,
          segments: 2,
          error: { code: 'E1', message: 'first' },
        });
        await store.updateMessage(m.id, { error: null, nextAttemptAt: t0 + 300, doneAt: t0 + 400 });
        const got = await store.getMessage(m.id);
        assert.equal(got?.error, null);
        assert.equal(got?.nextAttemptAt, t0 + 300);
        assert.equal(got?.doneAt, t0 + 400);
        assert.equal(got?.status, 'submitted');
        assert.deepEqual(
          (await store.listEvents(m.id)).map((e) => e.type),
          ['queued', 'sending'],
        );
      });

      test('updateMessage of an unknown message rejects', async () => {
        await assert.rejects(store.updateMessage('no-such-id', { status: 'failed' }), StoreNotFoundError);
        await assert.rejects(
          store.updateMessage('no-such-id', {}, { at: t0, type: 'retry', detail: null }),
          StoreNotFoundError,
        );
      });

      test('events come back in the order recorded, per message, details intact', async () => {
        const a = makeMessage();
        const b = makeMessage();
        await store.insertMessages([a, b]);
        const later: Array<Omit<MessageEvent, 'messageId'>> = [
          { at: t0 + 50, type: 'sending', detail: null },
          { at: t0 + 50, type: 'receipt', detail: { part: 1, parts: 2, smscId: 'ab12' } },
          {
            at: t0 + 40,
            type: 'receipt',
            detail: { part: 2, parts: 2, nested: { list: [1, 'x', null] } },
          },
          { at: t0 + 60, type: 'retry', detail: { reason: 'throttled' } },
        ];
        for (const event of later) {
          await store.updateMessage(a.id, {}, event);
          await store.updateMessage(b.id, {}, { at: t0 + 1, type: 'retry', detail: null });
        }
        assert.deepEqual(await store.listEvents(a.id), [
          { messageId: a.id, at: a.createdAt, type: 'queued', detail: null },
          ...later.map((e) => ({ messageId: a.id, ...e })),
        ]);
        assert.equal((await store.listEvents(b.id)).length, 1 + later.length);
        assert.deepEqual(await store.listEvents('no-such-id'), []);
      });

      test('a message id already stored is a conflict, and the whole call is undone', async () => {
        const stored = makeMessage();
        await store.insertMessages([stored]);
        const fresh = makeMessage();
        await assert.rejects(store.insertMessages([fresh, { ...stored, to: '999' }]), StoreConflictError);
        assert.equal(await store.getMessage(fresh.id), null);
        assert.equal((await store.getMessage(stored.id))?.to, stored.to);
        assert.deepEqual(await store.listEvents(fresh.id), []);
      });

      test('many concurrent inserts in one tick all resolve and are all stored', async () => {
        const messages = Array.from({ length: 1000 }, (_, i) =>
          makeMessage({ accountId: `acc-${i % 7}`, priority: i % 2 ? 'bulk' : 'otp' }),
        );
        await Promise.all(messages.map((m) => store.insertMessages([m])));
        for (const m of messages) assert.deepEqual(await store.getMessage(m.id), m);
        assert.deepEqual(await store.countByStatus(), { queued: 1000 });
      });

      test('writes in one tick apply in call order; a failing one fails alone', async () => {
        const existing = makeMessage();
        await store.insertMessages([existing]);
        const m = makeMessage();
        const results = await Promise.allSettled([
          store.insertMessages([m]),
          store.updateMessage(m.id, { status: 'sending' }, { at: t0 + 1, type: 'sending', detail: null }),
          store.insertMessages([existing]),
          store.updateMessage(m.id, { status: 'submitted' }, { at: t0 + 2, type: 'submitted', detail: null }),
          store.updateMessage('no-such-id', { status: 'failed' }),
          store.linkSmscIds([{ connectorId: 'c', smscId: 's', messageId: m.id, part: 1, parts: 1 }]),
        ]);
        assert.deepEqual(
          results.map((r) => r.status),
          ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'],
        );
        assert.equal((await store.getMessage(m.id))?.status, 'submitted');
        assert.deepEqual(
          (await store.listEvents(m.id)).map((e) => e.type),
          ['queued', 'sending', 'submitted'],
        );
        assert.equal((await store.findSmscId('c', 's'))?.messageId, m.id);
      });
    });

    // PostgreSQL applies a tick's message writes a table at a time (postgres-bulk.ts): these
    // are the orders in which doing so could differ from applying them one by one.
    describe('writes of one tick', () => {
      test('in one tick, an update made before its message is inserted is refused; the insert stands', async () => {
        const m = makeMessage();
        const results = await Promise.allSettled([
          store.updateMessage(m.id, { status: 'sending' }, { at: t0 + 1, type: 'sending', detail: null }),
          store.insertMessages([m]),
          store.updateMessage(m.id, {}, { at: t0 + 2, type: 'retry', detail: { n: 1 } }),
        ]);
        assert.deepEqual(
          results.map((r) => r.status),
          ['rejected', 'fulfilled', 'fulfilled'],
        );
        assert.ok((results[0] as PromiseRejectedResult).reason instanceof StoreNotFoundError);
        assert.equal((await store.getMessage(m.id))?.status, 'queued');
        assert.deepEqual(
          (await store.listEvents(m.id)).map((e) => [e.type, e.detail]),
          [
            ['queued', null],
            ['retry', { n: 1 }],
          ],
        );
      });

      test('in one tick, updates of one message apply in order, each field as last set, each event kept', async () => {
        const m = makeMessage();
        const other = makeMessage();
        await store.insertMessages([m, other]);
        const error = { code: 'throttled', message: 'ESME_RTHROTTLED' };
        const results = await Promise.allSettled([
          store.updateMessage(m.id, { status: 'sending', attempts: 1, error }),
          store.updateMessage(other.id, { status: 'sending' }, { at: t0 + 1, type: 'sending', detail: null }),
          store.updateMessage('no-such-id', {}, { at: t0 + 1, type: 'retry', detail: null }),
          store.updateMessage(
            m.id,
            { status: 'submitted', submittedAt: t0 + 2, connectorId: 'c1', error: null },
            {
              at: t0 + 2,
              type: 'submitted',
              detail: { part: 1 },
            },
          ),
          store.updateMessage(
            m.id,
            { status: 'delivered', doneAt: t0 + 3 },
            { at: t0 + 3, type: 'delivered', detail: null },
          ),
        ]);
        assert.deepEqual(
          results.map((r) => r.status),
          ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
        );
        assert.deepEqual(await store.getMessage(m.id), {
          ...m,
          status: 'delivered',
          attempts: 1,
          error: null,
          submittedAt: t0 + 2,
          connectorId: 'c1',
          doneAt: t0 + 3,
        });
        assert.deepEqual(
          (await store.listEvents(m.id)).map((e) => [e.type, e.detail]),
          [
            ['queued', null],
            ['submitted', { part: 1 }],
            ['delivered', null],
          ],
        );
        assert.equal((await store.getMessage(other.id))?.status, 'sending');
        assert.deepEqual(await store.listEvents('no-such-id'), []);
      });

      test('an SMSC id linked twice in one tick links to the message named last', async () => {
        const link = (smscId: string, messageId: string, part = 1) => ({
          connectorId: 'c1',
          smscId,
          messageId,
          part,
          parts: 2,
        });
        await Promise.all([
          store.linkSmscIds([link('a', 'm1'), link('b', 'm1', 2)]),
          store.linkSmscIds([link('a', 'm2')]),
          store.linkSmscIds([link('b', 'm3', 2), link('a', 'm4')]),
        ]);
        assert.deepEqual(
          [(await store.findSmscId('c1', 'a'))?.messageId, (await store.findSmscId('c1', 'b'))?.messageId],
          ['m4', 'm3'],
        );
      });
    });

    describe('listMessages', () => {
      test('filters by status, to, direction and group, newest first, within the account', async () => {
        const a1 = makeMessage({ to: '111', groupId: 'g1' });
        const a2 = makeMessage({ to: '222', status: 'delivered', groupId: 'g1' });
        const a3 = makeMessage({ to: '111', direction: 'mo', status: 'received' });
        const b1 = makeMessage({ accountId: 'acc-b', to: '111', groupId: 'g1' });
        await store.insertMessages([a1, a2, a3, b1]);
        const list = async (filter: Partial<Parameters<Store['listMessages']>[0]>, account = 'acc-a') =>
          ids((await store.listMessages({ accountId: account, ...filter }, null, 100)).data);
        assert.deepEqual(await list({}), [a3.id, a2.id, a1.id]);
        assert.deepEqual(await list({ status: 'delivered' }), [a2.id]);
        assert.deepEqual(await list({ to: '111' }), [a3.id, a1.id]);
        assert.deepEqual(await list({ direction: 'mo' }), [a3.id]);
        assert.deepEqual(await list({ direction: 'mt' }), [a2.id, a1.id]);
        assert.deepEqual(await list({ groupId: 'g1' }), [a2.id, a1.id]);
        assert.deepEqual(await list({ to: '111', direction: 'mt', groupId: 'g1' }), [a1.id]);
        assert.deepEqual(await list({ status: 'failed' }), []);
        assert.deepEqual(await list({}, 'acc-b'), [b1.id]);
        assert.deepEqual(await list({}, 'acc-none'), []);
        assert.deepEqual(await store.listMessages({ accountId: 'acc-a' }, null, 100), {
          data: [a3, a2, a1],
          nextCursor: null,
        });
        const reply = makeMessage({ direction: 'mo', from: '111', to: 'Brand' });
        await store.insertMessages([reply]);
        assert.deepEqual(await list({ between: ['Brand', '111'] }), [reply.id, a3.id, a1.id]);
        assert.deepEqual(await list({ between: ['111', 'Brand'], direction: 'mo' }), [reply.id, a3.id]);
        assert.deepEqual(await list({ between: ['Brand', '222'] }), [a2.id]);
      });

      test('searches by id, client reference or number either way, by creation time, in every account', async () => {
        const sent = makeMessage({ to: '+447700900111', clientRef: 'order-7' });
        const reply = makeMessage({
          direction: 'mo',
          status: 'received',
          from: '+447700900111',
          to: 'Brand',
        });
        const bare = makeMessage({ to: '447700900111' });
        const other = makeMessage({ to: '+447700900222', createdAt: sent.createdAt + 1000 });
        const theirs = makeMessage({ accountId: 'acc-b', to: '+447700900111', clientRef: 'order-7' });
        await store.insertMessages([sent, reply, bare, other, theirs]);
        const list = async (filter: Partial<Parameters<Store['listMessages']>[0]>, account?: string) =>
          ids((await store.listMessages({ accountId: account, ...filter }, null, 100)).data);
        assert.deepEqual(await list({ anyOf: ['+447700900111'] }, 'acc-a'), [reply.id, sent.id]);
        assert.deepEqual(await list({ anyOf: ['+447700900111', '447700900111'] }, 'acc-a'), [
          bare.id,
          reply.id,
          sent.id,
        ]);
        assert.deepEqual(await list({ anyOf: ['order-7'] }, 'acc-a'), [sent.id]);
        assert.deepEqual(await list({ anyOf: [other.id] }, 'acc-a'), [other.id]);
        // A sender is searched on inbound messages only: an outbound one's is the account's own.
        assert.deepEqual(await list({ anyOf: ['Brand'] }, 'acc-a'), [reply.id]);
        assert.deepEqual(await list({ anyOf: ['nothing-like-it'] }, 'acc-a'), []);
        // No account: every account's (an admin's search).
        assert.deepEqual(await list({ anyOf: ['order-7'] }), [theirs.id, sent.id]);
        assert.deepEqual(await list({ createdSince: other.createdAt }, 'acc-a'), [other.id]);
        assert.deepEqual(await list({ createdUntil: reply.createdAt }, 'acc-a'), [sent.id]);
        assert.deepEqual(
          await list({ createdSince: reply.createdAt, createdUntil: other.createdAt }, 'acc-a'),
          [bare.id, reply.id],
        );
      });

      test('cursor paging walks 250 messages with no duplicate, no miss and no other account', async () => {
        const mine: Message[] = [];
        const theirs: Message[] = [];
        // Three per millisecond, so ties on createdAt are broken by id.
        for (let i = 0; i < 250; i++) {
          const createdAt = t0 + Math.floor(i / 3);
          mine.push(makeMessage({ createdAt, status: i % 4 === 0 ? 'delivered' : 'queued' }));
          if (i % 2 === 0) theirs.push(makeMessage({ accountId: 'acc-b', createdAt }));
        }
        // Accepted in several calls, not in creation order.
        await store.insertMessages(mine.slice(100));
        await store.insertMessages(theirs);
        await store.insertMessages(mine.slice(0, 100));

        const walk = async (filter: Parameters<Store['listMessages']>[0], limit: number) => {
          const seen: Message[] = [];
          let cursor: string | null = null;
          let pages = 0;
          do {
            const page: Awaited<ReturnType<Store['listMessages']>> = await store.listMessages(
              filter,
              cursor,
              limit,
            );
            assert.ok(page.data.length <= limit);
            if (page.nextCursor !== null) assert.equal(page.data.length, limit);
            seen.push(...page.data);
            cursor = page.nextCursor;
            pages++;
          } while (cursor !== null);
          return { seen, pages };
        };
        const descending = (list: Message[]) =>
          [...list].sort((x, y) => y.createdAt - x.createdAt || (x.id < y.id ? 1 : x.id > y.id ? -1 : 0));

        const all = await walk({ accountId: 'acc-a' }, 17);
        assert.equal(all.pages, Math.ceil(250 / 17));
        assert.equal(new Set(ids(all.seen)).size, 250);
        assert.deepEqual(ids(all.seen), ids(descending(mine)));
        assert.deepEqual(all.seen, descending(mine));

        const delivered = await walk({ accountId: 'acc-a', status: 'delivered' }, 10);
        assert.deepEqual(ids(delivered.seen), ids(descending(mine.filter((m) => m.status === 'delivered'))));

        const exact = await walk({ accountId: 'acc-a' }, 25);
        assert.equal(exact.pages, 10, 'a last page that is exactly full says so');

        const other = await walk({ accountId: 'acc-b' }, 30);
        assert.deepEqual(ids(other.seen), ids(descending(theirs)));
      });

      test('messages accepted while paging neither repeat nor shift older pages', async () => {
        const older = Array.from({ length: 30 }, () => makeMessage());
        await store.insertMessages(older);
        const first = await store.listMessages({ accountId: 'acc-a' }, null, 10);
        await store.insertMessages(Array.from({ length: 5 }, () => makeMessage()));
        const rest: Message[] = [];
        let cursor = first.nextCursor;
        while (cursor !== null) {
          const page = await store.listMessages({ accountId: 'acc-a' }, cursor, 10);
          rest.push(...page.data);
          cursor = page.nextCursor;
        }
        assert.deepEqual([...ids(first.data), ...ids(rest)], ids(older).reverse());
      });

      test('a cursor that is not one of ours is refused', async () => {
        await assert.rejects(store.listMessages({ accountId: 'acc-a' }, 'not a cursor!', 10));
        await assert.rejects(
          store.listMessages({ accountId: 'acc-a' }, Buffer.from('{"x":1}').toString('base64url'), 10),
        );
      });
    });

    describe('dispatch queue', () => {
      test('dueMessages orders by priority, then acceptance, and honours limit and exclude', async () => {
        const bulk1 = makeMessage({ priority: 'bulk' });
        const otp1 = makeMessage({ priority: 'otp' });
        const emergency = makeMessage({ priority: 'emergency' });
        const transactional = makeMessage({ priority: 'transactional' });
        const bulk2 = makeMessage({ priority: 'bulk' });
        const otp2 = makeMessage({ priority: 'otp' });
        await store.insertMessages([otp2, bulk2, transactional]);
        await store.insertMessages([emergency, bulk1, otp1]);
        const now = t0 + 1_000_000;
        const order = [emergency, otp1, otp2, transactional, bulk1, bulk2];
        assert.deepEqual(await store.dueMessages(now, 100, new Set()), order);
        assert.deepEqual(ids(await store.dueMessages(now, 4, new Set())), ids(order.slice(0, 4)));
        assert.deepEqual(
          ids(await store.dueMessages(now, 3, new Set([emergency.id, otp2.id]))),
          ids([otp1, transactional, bulk1]),
        );
        assert.deepEqual(await store.dueMessages(now, 0, new Set()), []);
      });

      test('due messages of several accounts come in turns within a priority, priority first', async () => {
        // A queued a long backlog first; B a few later; A has one OTP among them.
        const a = Array.from({ length: 100 }, (_, i) =>
          makeMessage({ accountId: 'acc-a', priority: 'bulk', text: `a${i}` }),
        );
        const b = Array.from({ length: 5 }, (_, i) =>
          makeMessage({ accountId: 'acc-b', priority: 'bulk', text: `b${i}` }),
        );
        const otp = makeMessage({ accountId: 'acc-a', priority: 'otp', text: 'otp' });
        await store.insertMessages([...a, ...b, otp]);
        const due = await store.dueMessages(Date.now() + 1000, 21, new Set([a[0]!.id]));
        assert.deepEqual(
          due.map((m) => m.text),
          [
            'otp',
            'a1',
            'b0',
            'a2',
            'b1',
            'a3',
            'b2',
            'a4',
            'b3',
            'a5',
            'b4',
            ...Array.from({ length: 10 }, (_, i) => `a${6 + i}`),
          ],
        );
        // A small slice: the turns start with the first account.
        const small = await store.dueMessages(Date.now() + 1000, 3, new Set());
        assert.deepEqual(
          small.map((m) => m.text),
          ['otp', 'a0', 'b0'],
        );
      });

      test('messages created in the same millisecond come out in acceptance order', async () => {
        const batch = Array.from({ length: 20 }, () => makeMessage({ createdAt: t0 }));
        await store.insertMessages(batch);
        assert.deepEqual(ids(await store.dueMessages(t0 + 1, 100, new Set())), ids(batch));
      });

      test('only queued messages whose sendAt and nextAttemptAt have passed are due', async () => {
        const now = t0 + 10_000;
        const ready = makeMessage({ sendAt: now, nextAttemptAt: now - 1 });
        const later = makeMessage({ sendAt: now + 1 });
        const backingOff = makeMessage({ nextAttemptAt: now + 1, attempts: 1 });
        const others = (['scheduled', 'sending', 'submitted', 'delivered', 'failed'] as const).map((status) =>
          makeMessage({ status }),
        );
        await store.insertMessages([ready, later, backingOff, ...others]);
        assert.deepEqual(ids(await store.dueMessages(now, 100, new Set())), [ready.id]);
        assert.deepEqual(
          new Set(ids(await store.dueMessages(now + 1, 100, new Set()))),
          new Set([ready.id, later.id, backingOff.id]),
        );
        await store.updateMessage(ready.id, { status: 'sending' });
        assert.deepEqual(ids(await store.dueMessages(now, 100, new Set())), []);
      });

      test('releaseScheduled queues the scheduled messages whose time has come', async () => {
        const now = t0 + 5_000;
        const due = makeMessage({ status: 'scheduled', sendAt: now - 10 });
        const exactly = makeMessage({ status: 'scheduled', sendAt: now });
        const future = makeMessage({ status: 'scheduled', sendAt: now + 10 });
        await store.insertMessages([due, exactly, future]);
        assert.deepEqual(await store.dueMessages(now, 100, new Set()), []);
        assert.equal(await store.releaseScheduled(now), 2);
        assert.equal((await store.getMessage(due.id))?.status, 'queued');
        assert.equal((await store.getMessage(future.id))?.status, 'scheduled');
        assert.deepEqual(
          new Set(ids(await store.dueMessages(now, 100, new Set()))),
          new Set([due.id, exactly.id]),
        );
        assert.deepEqual(
          (await store.listEvents(due.id)).map((e) => e.type),
          ['scheduled', 'queued'],
        );
        assert.equal(await store.releaseScheduled(now), 0);
      });

      test('requeueInFlight puts messages left sending back in the queue', async () => {
        const a = makeMessage({ status: 'sending', connectorId: 'c1', attempts: 1 });
        const b = makeMessage({ status: 'sending', priority: 'otp' });
        const submitted = makeMessage({ status: 'submitted' });
        await store.insertMessages([a, b, submitted]);
        assert.equal(await store.requeueInFlight(), 2);
        assert.deepEqual(ids(await store.dueMessages(t0 + 1_000_000, 10, new Set())), [b.id, a.id]);
        assert.equal((await store.getMessage(a.id))?.attempts, 1);
        assert.equal((await store.getMessage(submitted.id))?.status, 'submitted');
        assert.equal((await store.listEvents(a.id)).at(-1)?.type, 'queued');
        assert.equal(await store.requeueInFlight(), 0);
      });

      test('expireOverdue expires queued and scheduled messages past their validity', async () => {
        const now = t0 + 50;
        const queued = makeMessage({ validUntil: t0 + 10 });
        const scheduled = makeMessage({ status: 'scheduled', sendAt: t0 + 100, validUntil: now });
        const stillValid = makeMessage({ validUntil: now + 1 });
        const sending = makeMessage({ status: 'sending', validUntil: t0 + 10 });
        const forever = makeMessage({ validUntil: null });
        const onTheWire = makeMessage({ validUntil: t0 + 10 });
        await store.insertMessages([queued, scheduled, stillValid, sending, forever, onTheWire]);
        assert.deepEqual(
          new Set(await store.expireOverdue(now, [onTheWire.id])),
          new Set([queued.id, scheduled.id]),
        );
        assert.equal(
          (await store.getMessage(onTheWire.id))?.status,
          'queued',
          'skipped: the caller has it in flight',
        );
        for (const m of [queued, scheduled]) {
          assert.equal((await store.getMessage(m.id))?.status, 'expired');
          assert.equal((await store.listEvents(m.id)).at(-1)?.type, 'expired');
        }
        for (const m of [stillValid, forever]) assert.equal((await store.getMessage(m.id))?.status, 'queued');
        assert.equal((await store.getMessage(sending.id))?.status, 'sending');
        assert.deepEqual(await store.expireOverdue(now, [onTheWire.id]), []);
        assert.deepEqual(ids(await store.dueMessages(now, 10, new Set([onTheWire.id]))), [
          stillValid.id,
          forever.id,
        ]);
      });
    });

    describe('groups', () => {
      test('pauseGroup, resumeGroup and cancelGroup move one group, with an event per message', async () => {
        const now = t0 + 5_000;
        const queued = makeMessage({ groupId: 'g1' });
        const later = makeMessage({ groupId: 'g1', status: 'scheduled', sendAt: now + 60_000 });
        const passed = makeMessage({ groupId: 'g1', status: 'scheduled', sendAt: now + 1_000 });
        const onTheWire = makeMessage({ groupId: 'g1' });
        const submitted = makeMessage({ groupId: 'g1', status: 'submitted' });
        const other = makeMessage({ groupId: 'g2' });
        const none = makeMessage();
        await store.insertMessages([queued, later, passed, onTheWire, submitted, other, none]);

        assert.equal(await store.pauseGroup('g1', now, [onTheWire.id]), 3);
        for (const m of [queued, later, passed])
          assert.equal((await store.getMessage(m.id))?.status, 'paused', 'paused');
        assert.equal((await store.getMessage(onTheWire.id))?.status, 'queued', 'the one on the wire stays');
        assert.equal((await store.getMessage(submitted.id))?.status, 'submitted');
        assert.deepEqual(
          (await store.listEvents(queued.id)).map((e) => e.type),
          ['queued', 'paused'],
        );
        // Paused messages are not due, not released, and other groups are untouched.
        assert.deepEqual(
          new Set(ids(await store.dueMessages(now + 10_000, 100, new Set()))),
          new Set([onTheWire.id, other.id, none.id]),
        );
        assert.equal(await store.releaseScheduled(now + 120_000), 0);
        assert.equal(await store.pauseGroup('g1', now, [onTheWire.id]), 0, 'already paused');

        // Resumed: scheduled again while sendAt is ahead, queued once it has passed.
        assert.equal(await store.resumeGroup('g1', now + 2_000), 3);
        assert.equal((await store.getMessage(queued.id))?.status, 'queued');
        assert.equal((await store.getMessage(passed.id))?.status, 'queued');
        assert.equal((await store.getMessage(later.id))?.status, 'scheduled');
        assert.deepEqual(
          (await store.listEvents(later.id)).map((e) => e.type),
          ['scheduled', 'paused', 'scheduled'],
        );
        assert.equal(await store.resumeGroup('g1', now), 0);

        await store.pauseGroup('g1', now, []);
        assert.equal(await store.cancelGroup('g1', now + 3_000, [queued.id]), 3);
        for (const m of [later, passed, onTheWire]) {
          const stored = await store.getMessage(m.id);
          assert.equal(stored?.status, 'canceled');
          assert.equal(stored?.doneAt, now + 3_000);
          assert.equal((await store.listEvents(m.id)).at(-1)?.type, 'canceled');
        }
        assert.equal((await store.getMessage(queued.id))?.status, 'paused', 'skipped');
        assert.equal((await store.getMessage(submitted.id))?.status, 'submitted');
        assert.equal((await store.getMessage(other.id))?.status, 'queued');
        assert.deepEqual(await store.countByStatus('g1'), { paused: 1, canceled: 3, submitted: 1 });
        assert.equal(await store.cancelGroup('g1', now, []), 1);
        assert.equal(await store.cancelGroup('g1', now, []), 0);
      });
    });

    describe('receipts', () => {
      test('SMSC ids link to message parts, per connector', async () => {
        const m = makeMessage({ segments: 2 });
        await store.insertMessages([m]);
        await store.linkSmscIds([
          { connectorId: 'c1', smscId: 'a1', messageId: m.id, part: 1, parts: 2 },
          { connectorId: 'c1', smscId: 'a2', messageId: m.id, part: 2, parts: 2 },
        ]);
        assert.deepEqual(await store.findSmscId('c1', 'a2'), {
          connectorId: 'c1',
          smscId: 'a2',
          messageId: m.id,
          part: 2,
          parts: 2,
        });
        assert.equal(await store.findSmscId('c2', 'a1'), null);
        assert.equal(await store.findSmscId('c1', 'a3'), null);
        // SMSCs reuse ids after a wrap: the newest link wins.
        await store.linkSmscIds([{ connectorId: 'c1', smscId: 'a1', messageId: 'other', part: 1, parts: 1 }]);
        assert.equal((await store.findSmscId('c1', 'a1'))?.messageId, 'other');
        await store.linkSmscIds([]);
      });

      test('unmatched receipts are kept, listed oldest first, and taken once', async () => {
        const before = Date.now();
        await store.saveUnmatchedReceipt('c1', 's1', { stat: 'DELIVRD', err: '000' });
        await store.saveUnmatchedReceipt('c1', 's2', { stat: 'UNDELIV' });
        await store.saveUnmatchedReceipt('c2', 's1', { stat: 'EXPIRED' });
        await store.saveUnmatchedReceipt('c1', 's1', { stat: 'ACCEPTD', doneAt: 1234 });
        const listed = await store.listUnmatchedReceipts(10);
        assert.deepEqual(
          listed.map((r) => [r.connectorId, r.smscId, r.receipt['stat']]),
          [
            ['c1', 's1', 'DELIVRD'],
            ['c1', 's2', 'UNDELIV'],
            ['c2', 's1', 'EXPIRED'],
            ['c1', 's1', 'ACCEPTD'],
          ],
        );
        assert.ok(listed.every((r, i) => i === 0 || r.id > listed[i - 1]!.id));
        assert.ok(listed.every((r) => r.receivedAt >= before && r.receivedAt <= Date.now()));
        assert.equal((await store.listUnmatchedReceipts(2)).length, 2);
        assert.deepEqual(await store.listUnmatchedReceipts(10, Date.now() + 1000), []);
        assert.deepEqual(await store.listUnmatchedReceipts(10, before), listed);

        const taken = await store.takeUnmatchedReceipts('c1', 's1');
        assert.deepEqual(taken, [listed[0], listed[3]]);
        assert.deepEqual(taken[1]?.receipt, { stat: 'ACCEPTD', doneAt: 1234 });
        assert.deepEqual(await store.takeUnmatchedReceipts('c1', 's1'), []);
        assert.deepEqual(await store.listUnmatchedReceipts(10), [listed[1], listed[2]]);

        // Older than the horizon: forgotten; the rest stays.
        assert.equal(await store.purgeUnmatchedReceipts(before), 0);
        assert.equal(await store.purgeUnmatchedReceipts(Date.now() + 1), 2);
        assert.deepEqual(await store.listUnmatchedReceipts(10), []);
      });
    });

    describe('idempotency', () => {
      const record = (fields: Partial<IdempotencyRecord> = {}): IdempotencyRecord => ({
        accountId: 'acc-a',
        key: 'key-1',
        requestHash: 'hash-1',
        statusCode: 202,
        response: { data: [{ id: 'm1', status: 'queued' }], meta: null },
        expiresAt: Date.now() + 86_400_000,
        ...fields,
      });

      test('the record is stored with the messages and found until it expires', async () => {
        const r = record();
        const m = makeMessage();
        await store.insertMessages([m], r);
        assert.deepEqual(await store.getIdempotency('acc-a', 'key-1', r.expiresAt - 1), r);
        assert.equal(await store.getIdempotency('acc-a', 'key-1', r.expiresAt), null);
        assert.equal(await store.getIdempotency('acc-b', 'key-1', r.expiresAt - 1), null);
        assert.equal(await store.getIdempotency('acc-a', 'key-2', r.expiresAt - 1), null);
        assert.ok(await store.getMessage(m.id));
      });

      test('a live key cannot be stored twice, even in the same tick; the loser stores nothing', async () => {
        const first = makeMessage();
        const second = makeMessage();
        const results = await Promise.allSettled([
          store.insertMessages([first], record()),
          store.insertMessages([second], record({ requestHash: 'hash-2' })),
        ]);
        assert.equal(results[0].status, 'fulfilled');
        assert.equal(results[1].status, 'rejected');
        assert.ok((results[1] as PromiseRejectedResult).reason instanceof StoreConflictError);
        assert.equal(await store.getMessage(second.id), null);
        assert.equal((await store.getIdempotency('acc-a', 'key-1', Date.now()))?.requestHash, 'hash-1');
        // The same key under another account is another key.
        await store.insertMessages([makeMessage({ accountId: 'acc-b' })], record({ accountId: 'acc-b' }));
      });

      test('the record is not stored when its messages are not', async () => {
        const existing = makeMessage();
        await store.insertMessages([existing]);
        await assert.rejects(store.insertMessages([makeMessage(), existing], record()), StoreConflictError);
        assert.equal(await store.getIdempotency('acc-a', 'key-1', Date.now()), null);
      });

      test('a key can be used again once getIdempotency has found it expired', async () => {
        // Times far from the wall clock: the store must follow the caller's `now` alone.
        const expiresAt = 5_000;
        await store.insertMessages([makeMessage()], record({ expiresAt }));
        assert.equal((await store.getIdempotency('acc-a', 'key-1', expiresAt - 1))?.expiresAt, expiresAt);
        await assert.rejects(store.insertMessages([makeMessage()], record()), StoreConflictError);
        assert.equal(await store.getIdempotency('acc-a', 'key-1', expiresAt), null);
        const renewed = record({ requestHash: 'hash-2', expiresAt: expiresAt + 86_400_000 });
        await store.insertMessages([makeMessage()], renewed);
        assert.deepEqual(await store.getIdempotency('acc-a', 'key-1', expiresAt + 1), renewed);
      });
    });

    describe('accounts', () => {
      test('upsert, get, find by API key hash, list', async () => {
        const a = {
          id: 'acc-a',
          apiKeyHashes: ['h2', 'h1'],
          settings: { mps: 50, webhook: { url: 'https://a' } },
        };
        const b = { id: 'acc-b', apiKeyHashes: [], settings: {} };
        await store.upsertAccount(b);
        await store.upsertAccount(a);
        assert.deepEqual(await store.getAccount('acc-a'), a);
        assert.deepEqual(await store.findAccountByApiKeyHash('h1'), a);
        assert.deepEqual(await store.findAccountByApiKeyHash('h2'), a);
        assert.equal(await store.findAccountByApiKeyHash('h3'), null);
        assert.equal(await store.getAccount('acc-c'), null);
        assert.deepEqual(await store.listAccounts(), [a, b]);

        const rotated = { ...a, apiKeyHashes: ['h3'], settings: { mps: 10 } };
        await store.upsertAccount(rotated);
        assert.equal(await store.findAccountByApiKeyHash('h1'), null);
        assert.deepEqual(await store.findAccountByApiKeyHash('h3'), rotated);
        assert.deepEqual(await store.getAccount('acc-a'), rotated);
        assert.equal((await store.listAccounts()).length, 2);
      });
    });

    describe('webhooks', () => {
      const hook = (
        nextAttemptAt: number,
        fields: Partial<{ secret: string | null; accountId: string }> = {},
      ) => ({
        accountId: 'acc-a',
        url: 'https://example.com/hook',
        secret: 'whsec_1',
        body: JSON.stringify({ type: 'message.delivered', at: nextAttemptAt }),
        nextAttemptAt,
        createdAt: t0,
        ...fields,
      });

      test('due deliveries come in time order; reschedule counts the attempt; finish removes', async () => {
        await store.enqueueWebhook(hook(t0 + 10));
        await store.enqueueWebhook(hook(t0 + 5, { secret: null, accountId: 'acc-b' }));
        await store.enqueueWebhook(hook(t0 + 100));
        const due = await store.dueWebhooks(t0 + 50, 10);
        assert.deepEqual(
          due.map((d) => d.nextAttemptAt),
          [t0 + 5, t0 + 10],
        );
        const [first, second] = due;
        assert.deepEqual(first, {
          id: first!.id,
          ...hook(t0 + 5, { secret: null, accountId: 'acc-b' }),
          attempts: 0,
          lastError: null,
          method: 'POST',
          contentType: null,
          headers: null,
          reply: null,
        });
        assert.equal((await store.dueWebhooks(t0 + 50, 1)).length, 1);

        await store.rescheduleWebhook(first!.id, t0 + 200, 'HTTP 500');
        assert.deepEqual(
          (await store.dueWebhooks(t0 + 50, 10)).map((d) => d.id),
          [second!.id],
        );
        const retried = (await store.dueWebhooks(t0 + 300, 10)).find((d) => d.id === first!.id);
        assert.equal(retried?.attempts, 1);
        assert.equal(retried?.lastError, 'HTTP 500');
        assert.equal(retried?.nextAttemptAt, t0 + 200);
        await store.rescheduleWebhook(first!.id, t0 + 250, 'timeout');
        assert.equal((await store.dueWebhooks(t0 + 300, 10)).find((d) => d.id === first!.id)?.attempts, 2);

        await store.finishWebhook(first!.id, 'abandoned');
        await store.finishWebhook(second!.id, 'delivered');
        assert.deepEqual(
          (await store.dueWebhooks(t0 + 1_000, 10)).map((d) => d.nextAttemptAt),
          [t0 + 100],
        );
      });

      test('deliveries queued in one tick get ids in call order; one finished twice in a tick is found once', async () => {
        const queued = await Promise.all([1, 2, 3].map((n) => store.enqueueWebhook(hook(t0 - n))));
        assert.deepEqual(
          queued,
          [...queued].sort((a, b) => a - b),
        );
        assert.equal(new Set(queued).size, 3);
        const [first, second, third] = queued as [number, number, number];
        const results = await Promise.allSettled([
          store.finishWebhook(first, 'delivered'),
          store.finishWebhook(first, 'delivered'),
          store.finishWebhook(third + 1_000, 'abandoned'),
          store.finishWebhook(second, 'abandoned'),
          store.enqueueWebhook(hook(t0 - 4)),
        ]);
        assert.deepEqual(
          results.map((r) => r.status),
          ['fulfilled', 'rejected', 'rejected', 'fulfilled', 'fulfilled'],
        );
        for (const refused of [results[1], results[2]] as PromiseRejectedResult[])
          assert.ok(refused.reason instanceof StoreNotFoundError, String(refused.reason));
        const fourth = (results[4] as PromiseFulfilledResult<number>).value;
        assert.ok(fourth > third);
        assert.deepEqual(
          (await store.dueWebhooks(t0, 10)).map((d) => d.id),
          [fourth, third],
        );
      });

      test('a delivery keeps its method, content type, headers and reply handler', async () => {
        await store.enqueueWebhook({
          ...hook(t0 - 1),
          secret: null,
          url: 'https://example.com/dlr?type=1',
          body: '',
          method: 'GET',
        });
        await store.enqueueWebhook({
          ...hook(t0 - 1),
          secret: null,
          body: 'MessageSid=SM1&MessageStatus=sent',
          contentType: 'application/x-www-form-urlencoded',
          headers: { 'x-twilio-signature': 'abc=' },
          reply: 'twilio-twiml',
        });
        const due = (await store.dueWebhooks(t0, 10)).filter((d) => d.nextAttemptAt === t0 - 1);
        assert.deepEqual(
          due.map((d) => [d.method, d.url, d.body, d.contentType, d.headers, d.reply]),
          [
            ['GET', 'https://example.com/dlr?type=1', '', null, null, null],
            [
              'POST',
              'https://example.com/hook',
              'MessageSid=SM1&MessageStatus=sent',
              'application/x-www-form-urlencoded',
              { 'x-twilio-signature': 'abc=' },
              'twilio-twiml',
            ],
          ],
        );
        for (const d of due) await store.finishWebhook(d.id, 'delivered');
      });

      test("due deliveries of one receiver only, or of all but some (a receiver: a URL's scheme and authority)", async () => {
        const at = t0 - 2;
        const urls = [
          'https://a.example/x',
          'https://a.example?x=1',
          'https://a.example',
          'https://a.example.org/x',
          'https://a.example:8443/x',
          'http://b.example/y',
        ];
        for (const url of urls) await store.enqueueWebhook({ ...hook(at), url });
        const mine = (receivers: { only?: string; skip?: string[] }) =>
          store
            .dueWebhooks(t0, 100, receivers)
            .then((due) => due.filter((d) => d.nextAttemptAt === at).map((d) => d.url));
        assert.deepEqual(await mine({ only: 'https://a.example' }), urls.slice(0, 3));
        assert.deepEqual(await mine({ only: 'https://a.example:8443' }), [urls[4]]);
        assert.deepEqual(await mine({ skip: ['https://a.example', 'http://b.example'] }), urls.slice(3, 5));
        assert.deepEqual(await mine({ skip: [] }), urls);
        assert.equal(
          (await store.dueWebhooks(t0, 2, { only: 'https://a.example' })).length,
          2,
          'the limit holds',
        );
        for (const d of (await store.dueWebhooks(t0, 100)).filter((d) => d.nextAttemptAt === at))
          await store.finishWebhook(d.id, 'delivered');
      });

      test('due deliveries whose next attempt is after a time only (came due since a read then), of any or some receivers', async () => {
        const times = [t0 - 40, t0 - 30, t0 - 20];
        const urls = ['https://c.example/x', 'https://d.example/y'];
        for (const at of times) for (const url of urls) await store.enqueueWebhook({ ...hook(at), url });
        const due = async (now: number, receivers: { only?: string; skip?: string[]; dueAfter?: number }) =>
          (await store.dueWebhooks(now, 100, receivers))
            .filter((d) => times.includes(d.nextAttemptAt))
            .map((d) => [d.nextAttemptAt, d.url]);
        assert.deepEqual(await due(t0, { dueAfter: t0 - 30 }), [
          [t0 - 20, urls[0]],
          [t0 - 20, urls[1]],
        ]);
        assert.deepEqual(await due(t0 - 25, { dueAfter: t0 - 35 }), [
          [t0 - 30, urls[0]],
          [t0 - 30, urls[1]],
        ]);
        assert.deepEqual(
          await due(t0, { dueAfter: t0 - 41, skip: ['https://c.example'] }),
          times.map((at) => [at, urls[1]]),
        );
        assert.deepEqual(await due(t0, { dueAfter: t0 - 40, only: 'https://c.example' }), [
          [t0 - 30, urls[0]],
          [t0 - 20, urls[0]],
        ]);
        assert.equal((await due(t0, { dueAfter: t0 - 20 })).length, 0, 'none after the last');
        for (const d of (await store.dueWebhooks(t0, 100)).filter((d) => times.includes(d.nextAttemptAt)))
          await store.finishWebhook(d.id, 'delivered');
      });

      test('a delivery id is never given again, even once the queue is empty', async () => {
        await store.enqueueWebhook(hook(t0));
        const [first] = await store.dueWebhooks(t0, 10);
        await store.finishWebhook(first!.id, 'delivered');
        await store.enqueueWebhook(hook(t0));
        const [second] = await store.dueWebhooks(t0, 10);
        assert.ok(second!.id > first!.id);
      });
    });

    describe('ESME deliveries', () => {
      test('queued per account in order, deleted once delivered', async () => {
        const id1 = await store.enqueueEsmeDelivery('acc-a', {
          kind: 'receipt',
          messageId: 'm1',
          stat: 'DELIVRD',
        });
        const id2 = await store.enqueueEsmeDelivery('acc-b', { kind: 'mo', text: 'hi' });
        const id3 = await store.enqueueEsmeDelivery('acc-a', { kind: 'mo', text: 'yo', nested: { a: [1] } });
        assert.equal(new Set([id1, id2, id3]).size, 3);
        const pending = await store.pendingEsmeDeliveries('acc-a', 10);
        assert.deepEqual(
          pending.map((d) => [d.id, d.accountId, d.payload]),
          [
            [id1, 'acc-a', { kind: 'receipt', messageId: 'm1', stat: 'DELIVRD' }],
            [id3, 'acc-a', { kind: 'mo', text: 'yo', nested: { a: [1] } }],
          ],
        );
        assert.ok(pending.every((d) => typeof d.createdAt === 'number' && d.createdAt > 0));
        assert.deepEqual(
          (await store.pendingEsmeDeliveries('acc-a', 1)).map((d) => d.id),
          [id1],
        );
        await store.deleteEsmeDelivery(id1);
        assert.deepEqual(
          (await store.pendingEsmeDeliveries('acc-a', 10)).map((d) => d.id),
          [id3],
        );
        assert.deepEqual(
          (await store.pendingEsmeDeliveries('acc-b', 10)).map((d) => d.id),
          [id2],
        );
        assert.deepEqual(await store.pendingEsmeDeliveries('acc-c', 10), []);
      });

      test('a delivery id is never given again, even once the queue is empty', async () => {
        const first = await store.enqueueEsmeDelivery('acc-a', { kind: 'mo', text: 'one' });
        // Delivered, and the next one queued in the same tick, as a busy SMPP server does.
        const [, second] = await Promise.all([
          store.deleteEsmeDelivery(first),
          store.enqueueEsmeDelivery('acc-a', { kind: 'mo', text: 'two' }),
        ]);
        assert.ok(second > first);
      });
    });

    describe('countByStatus', () => {
      test('counts all messages, or one group', async () => {
        await store.insertMessages([
          makeMessage(),
          makeMessage(),
          makeMessage({ groupId: 'g1' }),
          makeMessage({ status: 'delivered', groupId: 'g1' }),
          makeMessage({ status: 'delivered', groupId: 'g1', accountId: 'acc-b' }),
          makeMessage({ status: 'failed', groupId: 'g2' }),
        ]);
        assert.deepEqual(await store.countByStatus(), { queued: 3, delivered: 2, failed: 1 });
        assert.deepEqual(await store.countByStatus('g1'), { queued: 1, delivered: 2 });
        assert.deepEqual(await store.countByStatus('g3'), {});
      });

      test('an empty store counts nothing', async () => {
        assert.deepEqual(await store.countByStatus(), {});
      });
    });

    describe('batch recipient staging', () => {
      test('rows read back in order, per batch, after a seq; dropped up to a seq or all', async () => {
        const staging = store.staging;
        await staging.stage('b1', 1, [
          { to: '+447700900001', vars: { name: 'Ann' } },
          { to: '+447700900002', vars: null },
        ]);
        await staging.stage('b2', 1, [{ to: '+447700900009', vars: null }]);
        await staging.stage('b1', 3, [{ to: '+447700900003', vars: { name: 'Zoë ✓' } }]);
        assert.deepEqual(await staging.read('b1', 0, 10), [
          { seq: 1, to: '+447700900001', vars: { name: 'Ann' } },
          { seq: 2, to: '+447700900002', vars: null },
          { seq: 3, to: '+447700900003', vars: { name: 'Zoë ✓' } },
        ]);
        assert.deepEqual(
          (await staging.read('b1', 1, 1)).map((r) => r.seq),
          [2],
        );
        assert.equal(await staging.drop('b1', 2), 2);
        assert.deepEqual(
          (await staging.read('b1', 0, 10)).map((r) => r.seq),
          [3],
        );
        // A row staged twice is refused: a batch's rows are numbered once.
        await assert.rejects(staging.stage('b1', 3, [{ to: '+447700900004', vars: null }]));
        assert.equal(await staging.drop('b1'), 1);
        assert.deepEqual(await staging.read('b1', 0, 10), []);
        assert.equal((await staging.read('b2', 0, 10)).length, 1, 'another batch keeps its rows');
      });
    });

    describe('records', () => {
      const record = (fields: Partial<NewRecord> = {}): NewRecord => ({
        kind: 'suppression',
        id: randomUUID(),
        accountId: 'acc-a',
        ref: '+447700900001',
        status: 'active',
        dueAt: null,
        createdAt: t0 + ++created,
        updatedAt: t0 + created,
        data: { source: 'api', words: ['STOP'] },
        ...fields,
      });

      test('put and get round-trip every field, with version 1', async () => {
        const r = record({ dueAt: t0 + 5 });
        assert.deepEqual(await store.putRecord(r), { ...r, version: 1 });
        assert.deepEqual(await store.getRecord('suppression', r.id), { ...r, version: 1 });
        assert.equal(await store.getRecord('suppression', 'nope'), null);
        assert.equal(await store.getRecord('verification', r.id), null, 'kinds are apart');
      });

      test('existingRecordIds tells which ids exist, across many ids and ids holding U+0000', async () => {
        // Ids as suppressions make them (account, sender, number joined by U+0000); more
        // than one statement's worth, so the chunks and the last one's padding are read.
        const idOf = (i: number) => `acc-x\u0000*\u0000+4477009${String(i).padStart(5, '0')}`;
        const stored = [3, 250, 401, 999].map(idOf);
        await store.putRecords(stored.map((id) => record({ id, accountId: 'acc-x' })));
        await store.putRecord(record({ kind: 'verification', id: idOf(7), accountId: 'acc-x' }));
        const asked = Array.from({ length: 1000 }, (_, i) => idOf(i));
        assert.deepEqual([...(await store.existingRecordIds('suppression', asked))].sort(), stored.sort());
        assert.deepEqual(await store.existingRecordIds('suppression', []), new Set());
        assert.deepEqual(
          await store.existingRecordIds('suppression', [idOf(7), 'acc-x']),
          new Set(),
          'another kind, or a prefix of an id, is not an id',
        );
      });

      test('recordsByRef reads an account’s records of a kind by ref, many at once', async () => {
        const to = (i: number) => `+4477009${String(i).padStart(5, '0')}`;
        const mine = [5, 260, 777].map((i) => record({ kind: 'contact', ref: to(i), accountId: 'acc-r' }));
        await store.putRecords([
          ...mine,
          record({ kind: 'contact', ref: to(6), accountId: 'acc-other' }),
          record({ kind: 'group', ref: to(7), accountId: 'acc-r' }),
          record({ kind: 'contact', ref: null, accountId: 'acc-r' }),
        ]);
        const asked = Array.from({ length: 1000 }, (_, i) => to(i));
        const found = await store.recordsByRef<unknown>('contact', 'acc-r', asked);
        assert.deepEqual(found.map((r) => r.ref).sort(), mine.map((r) => r.ref).sort());
        assert.deepEqual(
          found.map((r) => r.id).sort(),
          mine.map((r) => r.id).sort(),
          'whole records: not another account, kind or a record without a ref',
        );
        assert.deepEqual(found.find((r) => r.ref === to(5))?.data, mine[0]!.data);
        assert.deepEqual(await store.recordsByRef('contact', 'acc-r', []), []);
      });

      test('a put replaces and bumps the version; expectedVersion makes it compare-and-set', async () => {
        const r = record();
        await store.putRecord(r, 0);
        await assert.rejects(store.putRecord(r, 0), StoreConflictError, 'exists already');
        const second = await store.putRecord({ ...r, status: 'removed', data: { n: 2 } }, 1);
        assert.equal(second.version, 2);
        await assert.rejects(store.putRecord({ ...r, data: { n: 3 } }, 1), StoreConflictError, 'stale');
        // Two concurrent compare-and-sets on the same version: exactly one wins.
        const outcomes = await Promise.allSettled([
          store.putRecord({ ...r, data: { n: 'a' } }, 2),
          store.putRecord({ ...r, data: { n: 'b' } }, 2),
        ]);
        assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected']);
        const stored = await store.getRecord('suppression', r.id);
        assert.equal(stored?.version, 3);
        assert.equal(stored?.status, 'active');
        assert.deepEqual(await store.putRecord({ ...r, data: { n: 4 } }), {
          ...r,
          data: { n: 4 },
          version: 4,
        });
      });

      test('list filters by account, ref and status, newest first, in pages', async () => {
        const a = [record(), record({ ref: '+447700900002' }), record({ status: 'removed' })];
        const other = record({ accountId: 'acc-b' });
        await store.putRecords([...a, other, record({ kind: 'contact' })]);
        const list = async (filter: RecordFilter) =>
          (await store.listRecords('suppression', filter, null, 10)).data.map((r) => r.id);
        assert.deepEqual(await list({ accountId: 'acc-a' }), [a[2]!.id, a[1]!.id, a[0]!.id]);
        assert.deepEqual(await list({ accountId: 'acc-a', ref: '+447700900001', status: 'active' }), [
          a[0]!.id,
        ]);
        assert.deepEqual(await list({ ref: '+447700900001' }), [other.id, a[2]!.id, a[0]!.id]);
        assert.equal(await store.countRecords('suppression', { accountId: 'acc-a' }), 3);
        assert.equal(await store.countRecords('suppression', {}), 4);
        const first = await store.listRecords('suppression', { accountId: 'acc-a' }, null, 2);
        assert.deepEqual(
          first.data.map((r) => r.id),
          [a[2]!.id, a[1]!.id],
        );
        assert.ok(first.nextCursor);
        const second = await store.listRecords('suppression', { accountId: 'acc-a' }, first.nextCursor, 2);
        assert.deepEqual(
          second.data.map((r) => r.id),
          [a[0]!.id],
        );
        assert.equal(second.nextCursor, null);
      });

      test('due records come earliest first, only once due', async () => {
        const late = record({ kind: 'reminder', dueAt: t0 + 2_000 });
        const early = record({ kind: 'reminder', dueAt: t0 + 1_000 });
        await store.putRecords([late, early, record({ kind: 'reminder' }), record({ dueAt: t0 })]);
        assert.deepEqual(
          (await store.dueRecords('reminder', t0 + 5_000, 10)).map((r) => r.id),
          [early.id, late.id],
        );
        assert.deepEqual(
          (await store.dueRecords('reminder', t0 + 1_500, 10)).map((r) => r.id),
          [early.id],
        );
        assert.deepEqual(
          (await store.dueRecords('reminder', t0 + 5_000, 1)).map((r) => r.id),
          [early.id],
        );
      });

      test('ids may hold any character, U+0000 included (features join keys with it)', async () => {
        const ids = ['acc-a\u0000*\u0000+447700900001', 'acc-a\u0000Brand\u0000+447700900001', 'ünï😀'];
        for (const id of ids) await store.putRecord(record({ id, createdAt: t0 }), 0);
        for (const id of ids) assert.equal((await store.getRecord('suppression', id))?.id, id);
        await assert.rejects(store.putRecord(record({ id: ids[0]! }), 0), StoreConflictError);
        const listed: string[] = [];
        let cursor: string | null = null;
        do {
          const page: Awaited<ReturnType<Store['listRecords']>> = await store.listRecords(
            'suppression',
            { accountId: 'acc-a' },
            cursor,
            1,
          );
          listed.push(...page.data.map((r) => r.id));
          cursor = page.nextCursor;
        } while (cursor !== null);
        assert.deepEqual(listed, [...ids].sort().reverse(), 'same createdAt: by id, descending');
        assert.equal(await store.deleteRecord('suppression', ids[0]!), true);
        assert.equal(await store.getRecord('suppression', ids[0]!), null);
      });

      test('delete says whether there was one', async () => {
        const r = record();
        await store.putRecord(r);
        assert.equal(await store.deleteRecord('suppression', r.id), true);
        assert.equal(await store.deleteRecord('suppression', r.id), false);
        assert.equal(await store.getRecord('suppression', r.id), null);
      });
    });

    describe('billing', () => {
      /** A prepaid charge of these messages' prices (micro-units), with optional quotas. */
      const charge = (
        messages: Message[],
        quotas: AccountCharge['quotas'] = [],
        floor: number | null = 0,
      ): AccountCharge => ({
        accountId: 'acc-a',
        currency: 'EUR',
        debits: messages.map((m) => ({ messageId: m.id, amount: m.priceMicros ?? 0 })),
        floor,
        quotas,
        at: t0,
      });
      const priced = (micros: number, fields: Partial<Message> = {}) =>
        makeMessage({ priceMicros: micros, currency: 'EUR', ...fields });

      test("a message's price and currency are stored with it", async () => {
        const m = priced(45_000, { segments: 3 });
        await store.insertMessages([m, makeMessage()]);
        const stored = await store.getMessage(m.id);
        assert.deepEqual([stored?.priceMicros, stored?.currency], [45_000, 'EUR']);
        const page = await store.listMessages({ accountId: 'acc-a' }, null, 10);
        assert.deepEqual(
          page.data.map((x) => x.priceMicros ?? null),
          [null, 45_000],
        );
      });

      test('a prepaid debit is taken with the insert; one the balance cannot cover stores nothing', async () => {
        assert.equal(await store.getBalance('acc-a'), null);
        assert.equal(await store.creditAccount('acc-a', 100_000, 'EUR', t0, 'topup-1'), 100_000);
        const first = priced(60_000);
        assert.deepEqual(await store.insertMessages([first], undefined, charge([first])), {
          balance: 40_000,
        });
        const second = priced(60_000);
        const refused = await store.insertMessages([second], undefined, charge([second])).catch((e) => e);
        assert.ok(refused instanceof StoreLimitError);
        assert.equal(refused.limit, 'balance');
        assert.equal(await store.getMessage(second.id), null);
        assert.deepEqual(await store.getBalance('acc-a'), { balance: 40_000, currency: 'EUR' });
        // Exactly to zero is allowed; a postpaid floor lets it go below.
        const third = priced(40_000);
        assert.deepEqual(await store.insertMessages([third], undefined, charge([third])), { balance: 0 });
        const fourth = priced(30_000);
        assert.deepEqual(await store.insertMessages([fourth], undefined, charge([fourth], [], -50_000)), {
          balance: -30_000,
        });
        const ledger = await store.listLedger('acc-a', null, 10);
        assert.deepEqual(
          ledger.map((e) => [e.kind, e.amount, e.balance, e.messageId, e.reference]),
          [
            ['debit', -30_000, -30_000, fourth.id, null],
            ['debit', -40_000, 0, third.id, null],
            ['debit', -60_000, 40_000, first.id, null],
            ['credit', 100_000, 100_000, null, 'topup-1'],
          ],
        );
        const older = await store.listLedger('acc-a', ledger[1]!.id, 10);
        assert.deepEqual(
          older.map((e) => e.kind),
          ['debit', 'credit'],
        );
      });

      test('charges made together are taken one by one: exactly those the balance covers go in', async () => {
        await store.creditAccount('acc-a', 5_000, 'EUR', t0, null);
        const messages = Array.from({ length: 12 }, () => priced(1_000));
        const outcomes = await Promise.allSettled(
          messages.map((m) => store.insertMessages([m], undefined, charge([m]))),
        );
        assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 5);
        for (const o of outcomes)
          if (o.status === 'rejected') assert.ok(o.reason instanceof StoreLimitError, String(o.reason));
        let stored = 0;
        for (const m of messages) if (await store.getMessage(m.id)) stored++;
        assert.equal(stored, 5);
        assert.deepEqual(await store.getBalance('acc-a'), { balance: 0, currency: 'EUR' });
      });

      test('a charge refused among writes of one tick stores none of its write: no message, event or key', async () => {
        await store.creditAccount('acc-a', 1_000, 'EUR', t0, null);
        const [covered, uncovered] = [priced(1_000), priced(1_000)];
        const key = (k: string): IdempotencyRecord => ({
          accountId: 'acc-a',
          key: k,
          requestHash: 'h',
          statusCode: 202,
          response: { k },
          expiresAt: t0 + 3600_000,
        });
        const outcomes = await Promise.allSettled([
          store.insertMessages([covered], key('k1'), charge([covered])),
          store.insertMessages([uncovered], key('k2'), charge([uncovered])),
          store.updateMessage(
            covered.id,
            { status: 'sending' },
            { at: t0 + 1, type: 'sending', detail: null },
          ),
        ]);
        assert.deepEqual(
          outcomes.map((o) => o.status),
          ['fulfilled', 'rejected', 'fulfilled'],
        );
        assert.deepEqual((outcomes[0] as PromiseFulfilledResult<unknown>).value, { balance: 0 });
        assert.ok((outcomes[1] as PromiseRejectedResult).reason instanceof StoreLimitError);
        assert.equal(await store.getMessage(uncovered.id), null);
        assert.deepEqual(await store.listEvents(uncovered.id), []);
        assert.equal(await store.getIdempotency('acc-a', 'k2', t0), null);
        assert.deepEqual((await store.getIdempotency('acc-a', 'k1', t0))?.response, { k: 'k1' });
        assert.deepEqual(
          (await store.listEvents(covered.id)).map((e) => e.type),
          ['queued', 'sending'],
        );
      });

      test('quotas count messages per period and refuse past their limit, storing nothing', async () => {
        const day = [{ period: 'd2026-12-05', limit: 3 }];
        const two = [makeMessage(), makeMessage()];
        await store.insertMessages(two, undefined, charge(two, day, null));
        const more = [makeMessage(), makeMessage()];
        const refused = await store.insertMessages(more, undefined, charge(more, day, null)).catch((e) => e);
        assert.ok(refused instanceof StoreLimitError);
        assert.equal(refused.limit, 'quota');
        assert.equal(await store.getMessage(more[0]!.id), null);
        const last = makeMessage();
        await store.insertMessages([last], undefined, charge([last], day, null));
        // Another period counts afresh.
        const next = makeMessage();
        await store.insertMessages(
          [next],
          undefined,
          charge([next], [{ period: 'd2026-12-06', limit: 3 }], null),
        );
        assert.ok(await store.getMessage(next.id));
      });

      test('a refused charge leaves the quota as it was; a clashing idempotency key charges nothing', async () => {
        const quotas = [{ period: 'm2026-12', limit: 10 }];
        const m = priced(1_000);
        await assert.rejects(store.insertMessages([m], undefined, charge([m], quotas)), StoreLimitError);
        await store.creditAccount('acc-a', 2_000, 'EUR', t0, null);
        const idem: IdempotencyRecord = {
          accountId: 'acc-a',
          key: 'k1',
          requestHash: 'h',
          statusCode: 202,
          response: {},
          expiresAt: t0 + 60_000,
        };
        const a = priced(1_000);
        await store.insertMessages([a], idem, charge([a], quotas));
        const b = priced(1_000);
        await assert.rejects(store.insertMessages([b], idem, charge([b], quotas)), StoreConflictError);
        assert.deepEqual(await store.getBalance('acc-a'), { balance: 1_000, currency: 'EUR' });
        // 9 more fit the monthly quota of 10: the refused and the clashing ones were not counted.
        const nine = Array.from({ length: 9 }, () => makeMessage());
        await store.insertMessages(nine, undefined, charge(nine, quotas, null));
        const over = makeMessage();
        await assert.rejects(
          store.insertMessages([over], undefined, charge([over], quotas, null)),
          StoreLimitError,
        );
      });

      test("a message's debit is refunded once; one without a debit has nothing to refund", async () => {
        await store.creditAccount('acc-a', 10_000, 'EUR', t0, null);
        const m = priced(4_000);
        await store.insertMessages([m], undefined, charge([m]));
        const refunds = await Promise.all([
          store.refundMessage('acc-a', m.id, t0 + 1),
          store.refundMessage('acc-a', m.id, t0 + 1).catch(() => null),
        ]);
        assert.deepEqual(
          refunds.filter((r) => r !== null),
          [10_000],
        );
        assert.equal(await store.refundMessage('acc-a', m.id, t0 + 2), null);
        assert.equal(await store.refundMessage('acc-a', makeMessage().id, t0 + 2), null);
        assert.equal(await store.refundMessage('acc-b', m.id, t0 + 2), null, 'not another account');
        assert.deepEqual(await store.getBalance('acc-a'), { balance: 10_000, currency: 'EUR' });
        const [refund] = await store.listLedger('acc-a', null, 1);
        assert.deepEqual([refund?.kind, refund?.amount, refund?.messageId], ['refund', 4_000, m.id]);
      });

      test("a canceled group's unsent messages are refunded together, once", async () => {
        await store.creditAccount('acc-a', 10_000, 'EUR', t0, null);
        const group = { groupId: 'batch-1' };
        const canceled = priced(1_000, group);
        const sent = priced(1_000, { ...group, submittedAt: t0 });
        const waiting = priced(1_000, group);
        const refundedAlready = priced(1_000, group);
        const other = priced(1_000, { groupId: 'batch-2' });
        const all = [canceled, sent, waiting, refundedAlready, other];
        await store.insertMessages(all, undefined, charge(all));
        await store.refundMessage('acc-a', refundedAlready.id, t0);
        // The one on the wire (submittedAt) is canceled with them, but a carrier had it.
        assert.equal(await store.cancelGroup('batch-1', t0 + 1, [waiting.id]), 3);
        assert.equal(await store.refundGroup('batch-1', t0 + 2), 1, 'only the canceled one never sent');
        assert.equal(await store.refundGroup('batch-1', t0 + 3), 0);
        assert.deepEqual(await store.getBalance('acc-a'), { balance: 7_000, currency: 'EUR' });
        const [refund] = await store.listLedger('acc-a', null, 1);
        assert.deepEqual([refund?.kind, refund?.messageId], ['refund', canceled.id]);
      });

      test('usage groups outbound messages by day, connector and number; refunded ones cost nothing', async () => {
        const day = Date.UTC(2026, 11, 5);
        const rows = [
          priced(10_000, { createdAt: day + 1000, to: '+447700900001', connectorId: 'a', segments: 2 }),
          priced(5_000, { createdAt: day + 2000, to: '+447700900001', connectorId: 'a' }),
          priced(5_000, { createdAt: day + 3000, to: '+447700900001', connectorId: 'a', status: 'rejected' }),
          priced(7_000, { createdAt: day + 86_400_000, to: '+15550100', connectorId: 'b' }),
          makeMessage({ createdAt: day + 4000, to: '+15550100', direction: 'mo' }),
          priced(1_000, { createdAt: day - 1, to: '+15550100' }),
        ];
        await store.insertMessages(rows);
        const usage = (by: 'day' | 'connector' | 'to') =>
          store
            .usage('acc-a', day, day + 2 * 86_400_000, by)
            .then((rows) => rows.sort((x, y) => String(x.group).localeCompare(String(y.group))));
        const totals = (messages: number, parts: number, price: number, cost: number) => ({
          currency: 'EUR',
          messages,
          parts,
          price,
          cost,
        });
        assert.deepEqual(await usage('day'), [
          { group: day, ...totals(3, 4, 20_000, 15_000) },
          { group: day + 86_400_000, ...totals(1, 1, 7_000, 7_000) },
        ]);
        assert.deepEqual(await usage('connector'), [
          { group: 'a', ...totals(3, 4, 20_000, 15_000) },
          { group: 'b', ...totals(1, 1, 7_000, 7_000) },
        ]);
        assert.deepEqual(await usage('to'), [
          { group: '+15550100', ...totals(1, 1, 7_000, 7_000) },
          { group: '+447700900001', ...totals(3, 4, 20_000, 15_000) },
        ]);
        assert.deepEqual(await store.usage('acc-b', day, day + 86_400_000, 'day'), []);
      });
    });

    describe('stats', () => {
      test('counts add up per minute, filter by account and connector, and are purged by age', async () => {
        const count = (minute: number, accountId: string, connectorId: string, n: number) => ({
          metric: 'delivered',
          minute,
          accountId,
          connectorId,
          n,
        });
        await store.addStatsCounts([
          count(600, 'a', 'c1', 2),
          count(600, 'b', 'c2', 1),
          count(660, 'a', 'c1', 4),
        ]);
        // Added to what is there (another node's counts for the same minute), the same key twice
        // in one call included.
        await store.addStatsCounts([
          count(600, 'a', 'c1', 1),
          count(600, 'a', 'c1', 2),
          { ...count(600, 'a', 'c1', 7), metric: 'failed' },
        ]);
        const read = (q: Partial<Parameters<Store['statsSeries']>[0]>) =>
          store.statsSeries({ metrics: ['delivered'], from: 0, to: 10_000, ...q });
        const delivered = (minute: number, n: number) => ({ metric: 'delivered', minute, n });
        assert.deepEqual(await read({}), [delivered(600, 6), delivered(660, 4)]);
        assert.deepEqual(await read({ accountId: 'a' }), [delivered(600, 5), delivered(660, 4)]);
        assert.deepEqual(await read({ connectorId: 'c2' }), [delivered(600, 1)]);
        assert.deepEqual(await read({ accountId: 'b', connectorId: 'c1' }), []);
        assert.deepEqual(await read({ from: 601 }), [delivered(660, 4)]);
        assert.deepEqual(await read({ to: 660 }), [delivered(600, 6)]);
        assert.deepEqual(await read({ metrics: ['failed'] }), [{ metric: 'failed', minute: 600, n: 7 }]);
        assert.deepEqual(await read({ metrics: ['failed', 'delivered'] }), [
          delivered(600, 6),
          { metric: 'failed', minute: 600, n: 7 },
          delivered(660, 4),
        ]);
        await store.purgeStats(660);
        assert.deepEqual(await read({}), [delivered(660, 4)]);
      });

      test('webhook backlog per account: waiting, failing, given up, the last error', async () => {
        const hook = (accountId: string) => ({
          accountId,
          url: 'https://example.com/hook',
          secret: null,
          body: '{}',
          nextAttemptAt: t0,
          createdAt: t0,
        });
        const a1 = await store.enqueueWebhook(hook('acc-a'));
        const a2 = await store.enqueueWebhook(hook('acc-a'));
        await store.enqueueWebhook(hook('acc-a'));
        const b1 = await store.enqueueWebhook(hook('acc-b'));
        await store.rescheduleWebhook(a1, t0 + 100, 'HTTP 500');
        await store.rescheduleWebhook(a2, t0 + 100, 'timeout');
        await store.finishWebhook(a2, 'abandoned');
        await store.finishWebhook(b1, 'delivered');
        assert.deepEqual(await store.webhookBacklog(), [
          { accountId: 'acc-a', pending: 2, failing: 1, abandoned: 1, lastError: 'timeout' },
        ]);
      });
    });
  });
}
