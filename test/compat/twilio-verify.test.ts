// Twilio Verify v2 with the official `twilio` npm client, unmodified (a custom httpClient
// only swaps verify.twilio.com for our address): a Service, a Verification whose code
// reaches the carrier (an SMSC simulator over SMPP), a wrong and a right VerificationCheck,
// fetch and cancel, and Twilio's error codes for what Verify refuses.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import twilio from 'twilio';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { gatewayFrom, waitFor } from '../e2e/helpers.ts';

const accountSid = 'AC0123456789abcdef0123456789abcdef';
const authToken = 'twilio-key-0001';
let gw: Awaited<ReturnType<typeof gatewayFrom>>;
let smsc: SmscSimulator;
let client: ReturnType<typeof twilio>;
/** Texts that reached the carrier, by destination (without '+'). */
const atCarrier = new Map<string, string[]>();

before(async () => {
  smsc = new SmscSimulator({ deliveryDelayMs: 10 });
  const { port } = await smsc.listen(0);
  smsc.on('submit', (m) => {
    atCarrier.set(m.to, [...(atCarrier.get(m.to) ?? []), m.shortMessage.toString('latin1')]);
  });
  gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - id: app
    apiKeys: [${authToken}]
    defaultFrom: APP
    twilio: { accountSid: ${accountSid} }
    verify: { maxChecks: 3, blockedCountries: [CU] }
  - { id: other, apiKeys: [other-key-0001], twilio: { accountSid: AC00000000000000000000000000000002 } }
connectors:
  - { id: carrier, type: smpp, host: 127.0.0.1, port: ${port}, systemId: gw, password: pw }
routes:
  mt: [{ connectors: [carrier] }]
`);
  const base = new twilio.RequestClient();
  const via = (token: string, sid: string) =>
    twilio(sid, token, {
      httpClient: {
        request: (opts: Parameters<typeof base.request>[0]) =>
          base.request({ ...opts, uri: opts.uri.replace(/^https:\/\/verify\.twilio\.com/, gw.base) }),
      } as unknown as typeof base,
    });
  client = via(authToken, accountSid);
  other = via('other-key-0001', 'AC00000000000000000000000000000002');
  wrongKey = via('wrong-key-0001', accountSid);
});
let other: ReturnType<typeof twilio>;
let wrongKey: ReturnType<typeof twilio>;
after(async () => {
  await gw.close();
  await smsc.close();
});

const codeTo = (number: string) =>
  waitFor(() => {
    const texts = atCarrier.get(number.replace('+', ''));
    return texts?.length ? /\d{4,10}/.exec(texts.at(-1)!)![0] : undefined;
  });

test('a Verify service, a verification by SMS, a wrong then a right check', async () => {
  const service = await client.verify.v2.services.create({ friendlyName: 'Acme', codeLength: 8 });
  assert.match(service.sid, /^VA[0-9a-f]{32}$/);
  assert.equal(service.friendlyName, 'Acme');
  assert.equal(service.codeLength, 8);
  assert.equal((await client.verify.v2.services(service.sid).fetch()).friendlyName, 'Acme');
  assert.ok((await client.verify.v2.services.list()).some((s) => s.sid === service.sid));

  const started = await client.verify.v2
    .services(service.sid)
    .verifications.create({ to: '+447700900101', channel: 'sms' });
  assert.match(started.sid, /^VE[0-9a-f]{32}$/);
  assert.equal(started.status, 'pending');
  assert.equal(started.to, '+447700900101');
  assert.equal(started.channel, 'sms');
  assert.equal(started.serviceSid, service.sid);
  assert.equal(started.sendCodeAttempts.length, 1);

  const code = await codeTo('+447700900101');
  assert.match(code, /^\d{8}$/);
  assert.equal(atCarrier.get('447700900101')![0], `Your Acme verification code is: ${code}`);
  const wrong = String((Number(code) + 1) % 1e8).padStart(8, '0');
  const miss = await client.verify.v2
    .services(service.sid)
    .verificationChecks.create({ to: '+447700900101', code: wrong });
  assert.equal(miss.status, 'pending');
  assert.equal(miss.valid, false);
  const hit = await client.verify.v2
    .services(service.sid)
    .verificationChecks.create({ verificationSid: started.sid, code });
  assert.equal(hit.status, 'approved');
  assert.equal(hit.valid, true);
  assert.equal(
    (await client.verify.v2.services(service.sid).verifications(started.sid).fetch()).status,
    'approved',
  );
  // Approved: nothing pending is left to check.
  await assert.rejects(
    client.verify.v2.services(service.sid).verificationChecks.create({ to: '+447700900101', code }),
    (err: { status: number; code: number }) => err.status === 404 && err.code === 20404,
  );
});

test("cancel, the check limit, Twilio codes for refusals, and one account cannot see another's service", async () => {
  const service = await client.verify.v2.services.create({ friendlyName: 'Limits' });
  const verifications = client.verify.v2.services(service.sid).verifications;
  const started = await verifications.create({ to: '+447700900102', channel: 'sms' });
  const canceled = await client.verify.v2
    .services(service.sid)
    .verifications(started.sid)
    .update({ status: 'canceled' });
  assert.equal(canceled.status, 'canceled');

  const again = await verifications.create({ to: '+447700900103', channel: 'sms' });
  const code = await codeTo('+447700900103');
  const wrong = String((Number(code) + 1) % 1e6).padStart(6, '0');
  const checks = client.verify.v2.services(service.sid).verificationChecks;
  assert.equal((await checks.create({ verificationSid: again.sid, code: wrong })).status, 'pending');
  assert.equal((await checks.create({ verificationSid: again.sid, code: wrong })).status, 'pending');
  await assert.rejects(
    checks.create({ verificationSid: again.sid, code: wrong }),
    (err: { status: number; code: number }) => err.status === 429 && err.code === 60202,
  );

  await assert.rejects(
    verifications.create({ to: '+447700900104', channel: 'call' }),
    (err: { status: number; code: number }) => err.status === 400 && err.code === 60200,
  );
  await assert.rejects(
    verifications.create({ to: '+5372345678', channel: 'sms' }),
    (err: { status: number; code: number }) => err.status === 400 && err.code === 60605,
  );
  await assert.rejects(
    other.verify.v2.services(service.sid).fetch(),
    (err: { status: number; code: number }) => err.status === 404 && err.code === 20404,
  );
  await assert.rejects(
    wrongKey.verify.v2.services.list(),
    (err: { status: number; code: number }) => err.status === 401 && err.code === 20003,
  );
});
