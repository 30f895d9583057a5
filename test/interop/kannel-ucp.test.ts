// Kannel 1.4.5's own UCP/EMI driver (`smsc = emi`, bearerbox) as an independent SMT against
// our UCP/EMI simulator: it logs in (60) and keeps the link up (31); a message sent through
// its sendsms reaches the simulator asking for a notification, and the notification (53)
// our simulator sends back reaches Kannel's dlr-url; messages the simulator delivers (52),
// a long one in parts among them, reach Kannel's get-url. Code we did not write checks our
// server side.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { UcpSimulatedMessage } from '../../src/simulator/index.ts';
import { UcpSmscSimulator } from '../../src/simulator/index.ts';
import { waitFor } from '../e2e/helpers.ts';
import { requirePeer } from '../peers/available.ts';
import { kannelCallbacks, startKannel } from '../peers/kannel.ts';

const closers: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

test('Kannel smsc = emi ↔ our UCP/EMI simulator: sendsms with a notification, and inbound', async (t) => {
  if (!requirePeer(t, 'Kannel')) return;
  const sim = new UcpSmscSimulator({
    accounts: [{ systemId: 'kannel', password: 'kpass' }],
    deliveryDelayMs: 50,
  });
  const { port: simPort } = await sim.listen(0);
  closers.push(() => sim.close());
  const submits: UcpSimulatedMessage[] = [];
  sim.on('submit', (m) => submits.push(m));

  const hooks = await kannelCallbacks();
  closers.push(() => hooks.close());
  const hits = () => hooks.calls.map((u) => u.searchParams);

  const dir = mkdtempSync(join(tmpdir(), 'smsgw-kannel-emi-'));
  closers.push(async () => rmSync(dir, { recursive: true, force: true }));
  const kannel = await startKannel({
    dir,
    smsc: `group = smsc
smsc = emi
smsc-id = emi
host = 127.0.0.1
port = ${simPort}
smsc-username = "kannel"
smsc-password = "kpass"
keepalive = 2
window = 32
our-port = 0
reconnect-delay = 2
`,
    extra: `
group = sms-service
keyword = default
get-url = "http://127.0.0.1:${hooks.port}/mo?from=%p&to=%P&text=%b"
accept-x-kannel-headers = true
max-messages = 0
catch-all = true
`,
  });
  closers.push(async () => kannel.stop());
  assert.equal(sim.stats.binds, 1, 'Kannel logged in with operation 60');
  await waitFor(() => sim.stats.alerts > 0, 30_000, 'a keep-alive alert (31) from Kannel');

  const dlrUrl = `http://127.0.0.1:${hooks.port}/dlr?status=%d&to=%p`;
  const send = await waitFor(
    async () => {
      const res = await fetch(
        `${kannel.sendsmsUrl}?username=u&password=p&to=447700900001&text=${encodeURIComponent('Hello via Kannel EMI')}&dlr-mask=3&dlr-url=${encodeURIComponent(dlrUrl)}`,
      ).catch(() => null);
      return res && res.status === 202 ? res : undefined;
    },
    30_000,
    'Kannel sendsms up',
  );
  assert.match(await send.text(), /Accepted for delivery/);
  const submit = await waitFor(() => submits[0], 30_000, 'the submit (51) from Kannel');
  assert.deepEqual(
    [submit.to, submit.text, submit.operation.NRq],
    ['447700900001', 'Hello via Kannel EMI', '1'],
  );
  const dlr = await waitFor(
    () => hits().find((h) => h.get('status') === '1'),
    30_000,
    "Kannel's dlr-url with status 1 (delivered)",
  ).catch((err: Error) => assert.fail(`${err.message}\n${kannel.log()}`));
  assert.equal(dlr.get('to'), '447700900001');

  sim.injectInbound({ from: '+447700900002', to: '12345', text: 'Hello Kannel from EMI' });
  const mo = await waitFor(
    () => hits().find((h) => h.get('text') === 'Hello Kannel from EMI'),
    30_000,
    'MO at get-url',
  );
  assert.equal(mo.get('from'), '447700900002');
  assert.equal(mo.get('to'), '12345');

  // A long one comes in parts with a concatenation UDH in XSer; Kannel joins them.
  const long = 'A long inbound message over EMI, joined by Kannel from its parts. '.repeat(4);
  assert.equal(sim.injectInbound({ from: '+447700900003', to: '12345', text: long }), 2);
  await waitFor(
    () => hits().find((h) => h.get('text') === long),
    30_000,
    'the long MO joined at get-url',
  ).catch((err: Error) =>
    assert.fail(
      `${err.message}\n${hits()
        .map((h) => h.get('text'))
        .join('\n')}\n${kannel.log()}`,
    ),
  );
  assert.equal(sim.stats.deliveriesDropped, 0);
});
