// Batches across the upgrade to staged recipients: a SQLite store written by schema version 8
// (fixtures/sqlite-v8-batches.sql, every recipient a message at upload) with one batch stopped
// mid-send and one paused opens with today's code, and both finish with every recipient sent
// once: nothing sent before the upgrade is sent again, nothing left out, the counts adding
// up to the total at every look.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import type { Connector, OutboundSms } from '../../src/connectors/index.ts';
import { api, gatewayFrom, groupMessages, waitFor } from '../e2e/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'smsgw-batch-upgrade-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The fixture's batches: what each held at the upgrade. */
const held = { id: '01m952fmakzhhavrpe5ac8cwf1', total: 20, deliveredBefore: 1 };
const sending = { id: '01m952fmd6g3wh4zfr51kcrec0', total: 60, deliveredBefore: 20 };

test('batches stored as messages by schema version 8 finish after the upgrade, each recipient sent once', async (t) => {
  const path = join(dir, 'gw.db');
  const db = new DatabaseSync(path);
  db.exec(readFileSync(new URL('../store/fixtures/sqlite-v8-batches.sql', import.meta.url), 'utf8'));
  const before = new Map(
    db
      .prepare('SELECT group_id, to_addr, status FROM messages')
      .all()
      .map((r) => [`${r['group_id']} ${r['to_addr']}`, r['status'] as string]),
  );
  db.close();
  assert.equal(before.size, held.total + sending.total);

  // The connector is the one the old store's messages were routed to.
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:${path}
accounts: [{ id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }]
connectors:
  - { id: carrier, type: simulator, deliveryDelayMs: 5 }
routes:
  mt: [{ connectors: [carrier] }]
`);
  t.after(() => gw.close());
  const sent: string[] = [];
  const carrier = gw.app.gateway.connectors.get('carrier') as Connector;
  const send = carrier.send.bind(carrier);
  carrier.send = (sms: OutboundSms) => {
    sent.push(sms.to);
    return send(sms);
  };
  const client = api(gw.base, 'acme-key-1');

  /** Looks at the batch until it completes, its counts adding up to its total at every look. */
  const finished = (batch: { id: string; total: number }) =>
    waitFor(
      async () => {
        const { body } = await client('GET', `/v1/batches/${batch.id}`);
        const counts = body.counts as Record<string, number>;
        assert.equal(
          Object.values(counts).reduce((a, b) => a + b, 0),
          batch.total,
          JSON.stringify(counts),
        );
        return body.status === 'completed' && counts.delivered === batch.total && body;
      },
      30_000,
      `batch ${batch.id} completed`,
    );

  await finished(sending);
  // The paused one stays held until its owner resumes it.
  const pausedView = (await client('GET', `/v1/batches/${held.id}`)).body;
  assert.equal(pausedView.status, 'paused');
  assert.equal(pausedView.counts.paused, held.total - held.deliveredBefore);
  assert.equal((await client('POST', `/v1/batches/${held.id}/resume`)).status, 200);
  await finished(held);

  for (const batch of [sending, held]) {
    const messages = await groupMessages(gw.app, 'acme', batch.id);
    const tos = messages.map((m) => m.to);
    assert.equal(new Set(tos).size, batch.total, 'one message per recipient');
    assert.equal(tos.length, batch.total);
    assert.ok(messages.every((m) => m.status === 'delivered'));
  }
  // Sent now: exactly those not delivered before the upgrade, each once.
  const notYet = [...before].filter(([, status]) => status !== 'delivered').map(([key]) => key.split(' ')[1]);
  assert.equal(notYet.length, held.total - held.deliveredBefore + sending.total - sending.deliveredBefore);
  assert.deepEqual([...sent].sort(), notYet.sort());
});
