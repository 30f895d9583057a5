// How the PostgreSQL store gathers a batch's message writes into bulks (postgres-bulk.ts):
// which writes go together, what the one write sent says, and how each write's outcome is
// read back. What the database does with them: the conformance suite (postgres.test.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BulkWrite, gatherBulks, type PgWrite } from '../../src/store/postgres-bulk.ts';

const insert = (id: string, extra: Record<string, unknown> = {}): PgWrite => ({
  op: 'insertMessages',
  messages: [{ id, createdAt: 1, status: 'queued' }],
  idempotency: null,
  charge: null,
  instance: 'i1',
  ...extra,
});
const update = (id: string, patch: Record<string, unknown>, type?: string): PgWrite => ({
  op: 'updateMessage',
  id,
  patch,
  event: type ? { at: 2, type, detail: null } : null,
});
const link = (smscId: string, messageId: string) => ({
  connectorId: 'c',
  smscId,
  messageId,
  part: 1,
  parts: 1,
});
const finish = (id: number): PgWrite => ({ op: 'finishWebhook', id, outcome: 'delivered', at: 3 });
const enqueue: PgWrite = {
  op: 'enqueueWebhook',
  accountId: 'a',
  url: 'https://x',
  body: '{}',
  instance: 'i1',
};
const announce: PgWrite = { op: 'announce', notice: '{}' };

/** Each part as the writes' ops: a bulk as an array of them. */
const shape = (parts: Array<PgWrite | BulkWrite>) =>
  parts.map((part) => (part instanceof BulkWrite ? part.writes.map((w) => w.op) : part.op));

describe('gathering a batch into bulks', () => {
  test('a run of message writes goes as one bulk; a write a bulk cannot take goes alone, between runs', () => {
    const parts = gatherBulks([
      insert('a'),
      update('a', { status: 'sending' }),
      { op: 'linkSmscIds', links: [link('s1', 'a')] },
      announce,
      enqueue,
      finish(7),
      { op: 'releaseMessages', ids: ['b'], instance: 'i1' },
    ]);
    assert.deepEqual(shape(parts), [
      ['insertMessages', 'updateMessage', 'linkSmscIds'],
      'announce',
      ['enqueueWebhook', 'finishWebhook', 'releaseMessages'],
    ]);
  });

  test('a lone message write goes as itself', () => {
    assert.deepEqual(shape(gatherBulks([announce, update('a', {}), announce])), [
      'announce',
      'updateMessage',
      'announce',
    ]);
  });

  test('an insert of a message updated or released earlier in the run, or a second finish, starts the next', () => {
    assert.deepEqual(
      shape(
        gatherBulks([
          update('a', { status: 'sending' }),
          insert('b'),
          insert('a'),
          { op: 'releaseMessages', ids: ['c'], instance: 'i1' },
          insert('c'),
          finish(1),
          finish(1),
        ]),
      ),
      [
        ['updateMessage', 'insertMessages'],
        ['insertMessages', 'releaseMessages'],
        ['insertMessages', 'finishWebhook'],
        'finishWebhook',
      ],
    );
  });

  test('the write sent merges patches per message, keeps the last link per SMSC id, events in call order', () => {
    const [bulk] = gatherBulks([
      insert('a'),
      update('a', { status: 'sending', attempts: 1 }, 'sending'),
      { op: 'linkSmscIds', links: [link('s1', 'a'), link('s2', 'a')] },
      update('b', { status: 'failed' }),
      update('a', { status: 'submitted', error: null }, 'submitted'),
      { op: 'linkSmscIds', links: [link('s1', 'b')] },
    ]);
    assert.ok(bulk instanceof BulkWrite);
    const sent = bulk.write('i1');
    assert.deepEqual(sent.updates, [
      { id: 'a', patch: { status: 'submitted', attempts: 1, error: null } },
      { id: 'b', patch: { status: 'failed' } },
    ]);
    assert.deepEqual(
      (sent.events as Array<{ messageId: string; type: string }>).map((e) => [e.messageId, e.type]),
      [
        ['a', 'queued'],
        ['a', 'sending'],
        ['a', 'submitted'],
      ],
    );
    assert.deepEqual(sent.links, [link('s2', 'a'), link('s1', 'b')]);
    assert.deepEqual([sent.op, sent.instance], ['bulk', 'i1']);
  });

  test("each write's outcome comes from the bulk's answer, in call order", () => {
    const [bulk] = gatherBulks([
      update('a', {}),
      enqueue,
      update('gone', { status: 'failed' }),
      finish(9),
      enqueue,
      finish(10),
    ]);
    assert.ok(bulk instanceof BulkWrite);
    assert.deepEqual(bulk.outcomes([['gone'], [10], [41, 42], []]), [
      { ok: true, value: null },
      { ok: true, value: 41 },
      { ok: false, name: 'StoreNotFoundError', message: 'no message gone' },
      { ok: true, value: null },
      { ok: true, value: 42 },
      { ok: false, name: 'StoreNotFoundError', message: 'no webhook delivery 10' },
    ]);
  });

  test("a charged insert's rows carry its place; its outcome is its charge's", () => {
    const refusal = { ok: false, name: 'StoreLimitError', message: 'balance 0 does not cover 5' };
    const [bulk] = gatherBulks([
      insert('a', { charge: { accountId: 'acc', debits: [] } }),
      insert('b', { idempotency: { accountId: 'acc', key: 'k' } }),
      insert('c', { charge: { accountId: 'acc', debits: [] } }),
    ]);
    assert.ok(bulk instanceof BulkWrite);
    const sent = bulk.write('i1');
    assert.deepEqual(sent.charges, [
      { write: 0, charge: { accountId: 'acc', debits: [] } },
      { write: 2, charge: { accountId: 'acc', debits: [] } },
    ]);
    assert.deepEqual(
      (sent.messages as Array<{ id: string; write: number }>).map((m) => [m.id, m.write]),
      [
        ['a', 0],
        ['b', 1],
        ['c', 2],
      ],
    );
    assert.deepEqual(sent.idempotency, [{ accountId: 'acc', key: 'k', write: 1 }]);
    assert.deepEqual(bulk.outcomes([[], [], [], [[95], refusal]]), [
      { ok: true, value: [95] },
      { ok: true, value: null },
      refusal,
    ]);
  });
});
