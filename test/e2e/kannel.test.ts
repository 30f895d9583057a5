// Kannel 1.4.5 as a real ESME: its bearerbox binds to our SMPP server, a message sent
// through its sendsms reaches our simulator carrier, and Kannel's dlr-url is called with
// the delivery report our receipt carried back.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { requirePeer } from '../peers/available.ts';
import { kannelCallbacks, smppLink, startKannel } from '../peers/kannel.ts';
import { gatewayFrom, waitFor } from './helpers.ts';

const closers: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

test('Kannel sendsms → our SMPP server → simulator → receipt → Kannel dlr-url', async (t) => {
  if (!requirePeer(t, 'Kannel')) return;
  const dlrs = await kannelCallbacks();
  closers.push(() => dlrs.close());

  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  # No defaultCountry: Kannel sends numbers written without + as TON national, and
  # international digits under it are read as international.
  - { id: kannel, apiKeys: [kannel-key-1], smpp: { systemId: kannel, password: kpass } }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 50 }
routes:
  mt: [{ connectors: [sim] }]
`);
  closers.push(() => gw.close());

  const dir = join(gw.dir, 'kannel');
  const kannel = await startKannel({
    dir,
    smsc: smppLink({ id: 'gw', port: gw.app.smppAddress!.port, systemId: 'kannel', password: 'kpass' }),
  });
  closers.push(async () => kannel.stop());
  const dlrUrl = `http://127.0.0.1:${dlrs.port}/dlr?status=%d&to=%p&smsc_reply=%A`;
  const send = await waitFor(
    async () => {
      const res = await fetch(
        `${kannel.sendsmsUrl}?username=u&password=p&to=447700900001&text=${encodeURIComponent('Hello via Kannel')}&dlr-mask=3&dlr-url=${encodeURIComponent(dlrUrl)}`,
      ).catch(() => null);
      return res && res.status === 202 ? res : undefined;
    },
    30_000,
    'Kannel sendsms up',
  );
  assert.match(await send.text(), /Accepted for delivery/);

  const delivered = await waitFor(
    () => dlrs.calls.find((u) => u.searchParams.get('status') === '1')?.searchParams,
    30_000,
    'Kannel dlr-url called with status 1',
  );
  assert.equal(delivered.get('to'), '447700900001');
  assert.match(delivered.get('smsc_reply') ?? '', /stat:DELIVRD/);
  const list = await fetch(`${gw.base}/v1/messages`, {
    headers: { authorization: 'Bearer kannel-key-1' },
  }).then((r) => r.json() as Promise<{ data: Array<{ text: string; status: string; to: string }> }>);
  const m = list.data.find((x) => x.text === 'Hello via Kannel');
  assert.ok(m, 'stored under the Kannel account');
  assert.equal(m.status, 'delivered');
  assert.equal(m.to, '+447700900001');
  assert.ok(existsSync(join(dir, 'bearerbox.log')));
});
