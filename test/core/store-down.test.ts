// The pipeline's rules when the store refuses writes, on a store whose writes the test breaks
// and mends (the end-to-end tests fill a real disk and stop a real PostgreSQL): answers that
// come while it is broken are kept and recorded later, nothing is sent meanwhile and
// nothing twice, accepting is refused as store_unavailable, storeHealth tells.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SubmitResult } from '../../src/connectors/index.ts';
import { StoreUnavailableError } from '../../src/core/index.ts';
import { SqliteStore, type Store } from '../../src/store/index.ts';
import { waitFor } from '../e2e/helpers.ts';
import { gatewayOn, ManualConnector } from './manual-connector.ts';

const writes = new Set(['insertMessages', 'updateMessage', 'linkSmscIds', 'putRecord']);

/**
 * An in-memory store whose writes fail while `broken`; `refused` counts the failed ones.
 * While `reclaims` is set, reclaimMessages waits for it to resolve (a slow cluster store);
 * while `answers` is set, a write is taken (counted in `taken`; it succeeds) and answered
 * once it resolves.
 */
function breakableStore() {
  const inner = new SqliteStore(':memory:');
  const state: {
    broken: boolean;
    refused: number;
    reclaims: Promise<void> | null;
    answers: Promise<void> | null;
    taken: number;
  } = {
    broken: false,
    refused: 0,
    reclaims: null,
    answers: null,
    taken: 0,
  };
  const store = new Proxy(inner, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      if (name === 'reclaimMessages')
        return async (...args: unknown[]) => {
          await state.reclaims;
          return value.apply(target, args);
        };
      if (!writes.has(name as string)) return value.bind(target);
      return (...args: unknown[]) => {
        // Taken before the store broke; its answer comes later.
        const answered = state.answers;
        if (answered) {
          state.taken++;
          return answered.then(() => value.apply(target, args));
        }
        if (!state.broken) return value.apply(target, args);
        state.refused++;
        return Promise.reject(new Error('database or disk is full'));
      };
    },
  }) as Store;
  return { store, state };
}

const ok = (id: string): SubmitResult => ({ ok: true, smscIds: [`smsc-${id}`] });

test('answers that come while the store refuses writes are recorded once it takes them, and nothing is sent meanwhile', async (t) => {
  const window = 4;
  const carrier = new ManualConnector(window);
  const { store, state } = breakableStore();
  const { gateway } = await gatewayOn(t, carrier, store);
  assert.equal(gateway.storeHealth().ok, true);
  const accepted = await gateway.submitMany(
    'acme',
    Array.from({ length: 10 }, (_, i) => ({ to: `+4477009${10000 + i}`, from: 'ACME', text: `m ${i}` })),
  );
  const ids = accepted.map((r) => ('message' in r ? r.message.id : assert.fail('refused')));
  await waitFor(() => carrier.pending.length === window, 5_000, 'a window on the wire');

  state.broken = true;
  carrier.answer(window, (sms) => ok(sms.messageId));
  await waitFor(() => !gateway.storeHealth().ok, 5_000, 'the store seen down');
  assert.match(gateway.storeHealth().lastError ?? '', /disk is full/);
  await assert.rejects(
    gateway.submit('acme', { to: '+447700900999', from: 'ACME', text: 'refused' }),
    (err) =>
      err instanceof StoreUnavailableError && err.code === 'store_unavailable' && err.httpStatus === 503,
  );
  // The kept outcomes are tried again (and refused) several times: nothing goes meanwhile.
  const refusedAtAnswer = state.refused;
  await waitFor(() => state.refused >= refusedAtAnswer + 3, 10_000, 'writes tried again');
  assert.equal(carrier.sent.length, window, 'nothing sent while answers cannot be recorded');
  // Memory tells what the store cannot yet: these are submitted, not cancelable.
  const onDisk = (await store.getMessage(ids[0]!))!;
  assert.equal(onDisk.status, 'queued');
  assert.equal(gateway.live(onDisk).status, 'submitted');

  state.broken = false;
  await waitFor(() => gateway.storeHealth().ok, 10_000, 'the store seen back');
  for (let answered = window; answered < ids.length; ) {
    await waitFor(() => carrier.pending.length > 0, 5_000, 'sending resumed');
    answered += carrier.pending.length;
    carrier.answer(carrier.pending.length, (sms) => ok(sms.messageId));
  }
  for (const id of ids) {
    const m = await waitFor(async () => {
      const stored = await store.getMessage(id);
      return stored?.status === 'submitted' && stored;
    });
    assert.equal(m.connectorId, 'manual');
    assert.ok(m.submittedAt);
    const submitted = (await store.listEvents(id)).filter((e) => e.type === 'submitted');
    assert.deepEqual(
      submitted.map((e) => e.detail?.smscIds),
      [[`smsc-${id}`]],
    );
    assert.equal(await store.findSmscId('manual', `smsc-${id}`).then((l) => l?.messageId), id);
  }
  assert.deepEqual(carrier.sent.map((s) => s.messageId).sort(), [...ids].sort(), 'every message sent once');
});

test('a write that fails while the store is being reclaimed keeps the store down', async (t) => {
  const { store, state } = breakableStore();
  const { gateway } = await gatewayOn(t, new ManualConnector(4), store);
  const submit = (text: string) => gateway.submit('acme', { to: '+447700900999', from: 'ACME', text });

  state.broken = true;
  await assert.rejects(submit('refused'), StoreUnavailableError);
  assert.equal(gateway.storeHealth().ok, false);
  // The store writes again; what this gateway holds is being claimed back, slowly.
  let reclaimed = () => {};
  state.reclaims = new Promise<void>((resolve) => {
    reclaimed = resolve;
  });
  state.broken = false;
  assert.equal(await gateway.checkStore(), true);
  // Before the reclaim ends the store fails again: that failure is the newest word.
  state.broken = true;
  assert.equal(await gateway.checkStore(), false);
  reclaimed();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(gateway.storeHealth().ok, false, 'a reclaim begun before the failure does not mend it');
  await assert.rejects(submit('still refused'), StoreUnavailableError);

  state.reclaims = null;
  state.broken = false;
  await waitFor(() => gateway.storeHealth().ok, 10_000, 'the store seen back');
  const accepted = await submit('accepted');
  assert.equal((await store.getMessage(accepted.id))?.text, 'accepted');
});

test('a write answered after another failed, but taken before it, does not bring the store back', async (t) => {
  const { store, state } = breakableStore();
  const { gateway } = await gatewayOn(t, new ManualConnector(4), store);
  const submit = (text: string) => gateway.submit('acme', { to: '+447700900999', from: 'ACME', text });

  let answer = () => {};
  state.answers = new Promise<void>((resolve) => {
    answer = resolve;
  });
  const early = submit('taken before the failure');
  await waitFor(() => state.taken === 1, 5_000, 'the write taken');
  state.answers = null;
  state.broken = true;
  await assert.rejects(submit('refused'), StoreUnavailableError);
  assert.equal(gateway.storeHealth().ok, false);
  // The store took the first before it broke: that is an accepted message, and no news of now.
  answer();
  assert.equal((await early).text, 'taken before the failure');
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(gateway.storeHealth().ok, false, 'an old write answered late does not mend the store');
  await assert.rejects(submit('still refused'), StoreUnavailableError);

  state.broken = false;
  await waitFor(() => gateway.storeHealth().ok, 10_000, 'the store seen back');
  assert.equal((await submit('accepted')).text, 'accepted');
});
