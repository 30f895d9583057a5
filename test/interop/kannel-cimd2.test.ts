// Kannel 1.4.5's own CIMD2 driver (bearerbox `smsc = cimd2`) as the independent client of our
// CIMD2 simulator: it logs in, a message sent through its sendsms reaches the simulator with
// its text intact and a status report travels back to Kannel's dlr-url, and messages the
// simulator injects (a long one in parts among them) reach Kannel's get-url.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cimd2ToText } from '../../src/cimd2/index.ts';
import { Cimd2Simulator } from '../../src/simulator/index.ts';
import { waitFor } from '../e2e/helpers.ts';
import { requirePeer } from '../peers/available.ts';
import { kannelCallbacks, startKannel } from '../peers/kannel.ts';

const closers: Array<() => unknown> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

test('Kannel smsc=cimd2 ↔ our CIMD2 simulator: sendsms with a receipt back, inbound to get-url', async (t) => {
  if (!requirePeer(t, 'Kannel')) return;
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-kannel-cimd2-'));
  closers.push(() => rmSync(dir, { recursive: true, force: true }));
  const sim = new Cimd2Simulator({
    deliveryDelayMs: 50,
    accounts: [{ systemId: 'kannel', password: 'kpw' }],
  });
  const { port: simPort } = await sim.listen(0);
  closers.push(() => sim.close());

  const web = await kannelCallbacks();
  closers.push(() => web.close());
  /** The URLs Kannel called (their escapes are of UTF-8). */
  const calls = web.calls;

  const kannel = await startKannel({
    dir,
    smsc: `group = smsc
smsc = cimd2
smsc-id = cimd
host = 127.0.0.1
port = ${simPort}
smsc-username = "kannel"
smsc-password = "kpw"
keepalive = 30
reconnect-delay = 2
`,
    extra: `
group = sms-service
keyword = default
catch-all = true
max-messages = 0
get-url = "http://127.0.0.1:${web.port}/mo?from=%p&to=%P&text=%a"
`,
  });
  closers.push(() => kannel.stop());
  assert.ok(sim.stats.binds > 0, 'Kannel logged in to the CIMD2 simulator');

  // Kannel → simulator, with a status report back to its dlr-url.
  const text = 'Hello via Kannel @home_now ÄÖäö £5';
  const dlrUrl = `http://127.0.0.1:${web.port}/dlr?status=%d&to=%p`;
  const send = await waitFor(
    async () => {
      const res = await fetch(
        `${kannel.sendsmsUrl}?username=u&password=p&from=12345&to=447700900001&charset=UTF-8&text=${encodeURIComponent(text)}&dlr-mask=3&dlr-url=${encodeURIComponent(dlrUrl)}`,
      ).catch(() => null);
      return res && res.status === 202 ? res : undefined;
    },
    30_000,
    'Kannel sendsms up',
  );
  assert.match(await send.text(), /Accepted for delivery/);
  const submitted = await waitFor(() => [...sim.messages.values()][0], 30_000, 'submit at the simulator');
  assert.equal(submitted.to, '447700900001');
  assert.equal(submitted.from, '12345');
  assert.equal(cimd2ToText(submitted.text!), text);
  assert.ok(submitted.statusReportRequest !== 0, 'Kannel asked for a status report');
  const dlr = await waitFor(
    () => calls.find((u) => u.pathname.startsWith('/dlr') && u.searchParams.get('status') === '1'),
    30_000,
    'Kannel dlr-url called with status 1 (delivered)',
  );
  assert.equal(dlr.searchParams.get('to'), '447700900001');

  // Simulator → Kannel: a short message and a long one in three parts, which Kannel joins.
  sim.injectInbound({ from: '+447700900002', to: '12345', text: 'Hi Kannel @home_now ÄÖ' });
  const long = `Long one: ${'abcdefghij'.repeat(33)}`;
  assert.equal(sim.injectInbound({ from: '+447700900003', to: '12345', text: long }), 3);
  const short = await waitFor(
    () => calls.find((u) => u.pathname.startsWith('/mo') && u.searchParams.get('from') === '+447700900002'),
    30_000,
    'get-url called for the short inbound',
  );
  assert.equal(short.searchParams.get('text'), 'Hi Kannel @home_now ÄÖ');
  assert.equal(short.searchParams.get('to'), '12345');
  const joined = await waitFor(
    () => calls.find((u) => u.pathname.startsWith('/mo') && u.searchParams.get('from') === '+447700900003'),
    30_000,
    'get-url called for the long inbound',
  );
  assert.equal(joined.searchParams.get('text'), long);
});
