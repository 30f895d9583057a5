// The TPDU codec against PDUs published by others (the widely cited "hellohello" pair of
// dreamfabric's PDU guide, a modem's +CDS status report), and round trips of what it builds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildUdh,
  concatIe,
  decodeText,
  decodeTpdu,
  encodeGsm7,
  encodeSubmit,
  relativeValidity,
  SmsError,
  splitMessage,
} from '../../src/sms/index.ts';

const hex = (s: string) => Buffer.from(s, 'hex');

test('SMS-SUBMIT "hellohello" to +46708251358, 4 days relative validity, as published', () => {
  const tpdu = encodeSubmit({
    to: '+46708251358',
    reference: 0,
    statusReport: false,
    validitySeconds: 4 * 86_400,
    dcs: 0x00,
    userData: encodeGsm7('hellohello'),
  });
  // The published PDU with its "00" (no service centre address) prefix.
  assert.equal(`00${tpdu.toString('hex').toUpperCase()}`, '0011000B916407281553F80000AA0AE8329BFD4697D9EC37');
});

test('SMS-DELIVER "hellohello" from 27838890001 through +27381000015, as published', () => {
  const pdu = hex('07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37');
  const tpduLength = pdu.length - 8; // the modem's <length> leaves the SCA out
  const d = decodeTpdu(pdu, tpduLength);
  assert.equal(d.type, 'deliver');
  if (d.type !== 'deliver') return;
  assert.equal(d.from, '27838890001'); // TON national (0xC8): no +
  assert.equal(d.encoding, 'gsm7');
  assert.equal(d.udh, null);
  assert.equal(decodeText(d.payload, 'gsm7'), 'hellohello');
  // 99-03-29 15:16:59 at +02:00 (eight quarter hours).
  assert.equal(d.serviceCentreTime.toISOString(), '2099-03-29T13:16:59.000Z');
});

test('SMS-STATUS-REPORT from a +CDS line (no SCA before it), as published', () => {
  const r = decodeTpdu(hex('06000B910221815716F2709021510121807090215101718000'), 25);
  assert.deepEqual(r, {
    type: 'status-report',
    reference: 0,
    recipient: '+20121875612',
    serviceCentreTime: new Date('2007-09-12T13:10:12.000Z'),
    dischargeTime: new Date('2007-09-12T13:10:17.000Z'),
    status: 0,
  });
});

test('a status report with the SCA before it is read past it by <length>', () => {
  // Constructed: SCA +31624000000, TP-MR 0x9C, TP-ST 0x46 (validity period expired); 25 TPDU octets.
  const r = decodeTpdu(hex('07911326040000F0069C0B911326880736F4111011719551401110117195714046'), 25);
  assert.equal(r.type, 'status-report');
  if (r.type !== 'status-report') return;
  assert.equal(r.reference, 0x9c);
  assert.equal(r.recipient, '+31628870634');
  assert.equal(r.status, 0x46);
});

test('UCS-2 with a concatenation header: UDHI set, octet lengths, decodes back', () => {
  const udh = buildUdh([concatIe(0x2a, 2, 1)]);
  const userData = Buffer.from('Привет', 'utf16le').swap16();
  const tpdu = encodeSubmit({ to: '15550100', reference: 7, statusReport: true, dcs: 0x08, udh, userData });
  // SRR + UDHI + SUBMIT, MR 7, 8 digits TON unknown, PID 0, DCS 8, UDL 6 + 12.
  assert.equal(tpdu.subarray(0, 9).toString('hex'), '610708815155100000');
  assert.equal(tpdu[9], 0x08);
  assert.equal(tpdu[10], 18);
  assert.deepEqual(tpdu.subarray(11), Buffer.concat([udh, userData]));
});

test('GSM 7-bit after a UDH: the septet count includes the header, text starts on a septet', () => {
  const split = splitMessage('x'.repeat(200), { encoding: 'gsm7', mode: 'udh', reference: 3, maxParts: 5 });
  const part = split.parts[0]!;
  const tpdu = encodeSubmit({
    to: '+447700900001',
    reference: 1,
    statusReport: false,
    dcs: 0,
    udh: part.udh!,
    userData: part.payload,
  });
  // 6 UDH octets are 7 septets (with one fill bit); 153 septets of text: 160.
  const udlAt = 12; // first octet, MR, address (2 + 6), PID, DCS
  assert.equal(tpdu[udlAt], 160);
  assert.equal(tpdu.length, udlAt + 1 + 140);
  // Read back as a deliver would be: swap the header for an SMS-DELIVER's and decode.
  const deliver = Buffer.concat([
    hex('440b914477009000f1'),
    hex('0000'),
    hex('32107021000000'),
    tpdu.subarray(udlAt),
  ]);
  const d = decodeTpdu(deliver);
  assert.equal(d.type, 'deliver');
  if (d.type !== 'deliver') return;
  assert.deepEqual(d.udh, part.udh);
  assert.equal(decodeText(d.payload, 'gsm7'), 'x'.repeat(153));
});

test('an alphanumeric sender is read from its packed septets', () => {
  // "Google" as TON alphanumeric: 6 septets = 42 bits = 11 semi-octets.
  const d = decodeTpdu(hex('000BD0C7F7FBCC2E03000032017021000000' + '05C8329BFD06'));
  assert.equal(d.type, 'deliver');
  if (d.type === 'deliver') assert.equal(d.from, 'Google');
});

test('TP-VP relative: each range of TS 23.040 9.2.3.12.1', () => {
  assert.equal(relativeValidity(60), 0); // at least 5 minutes
  assert.equal(relativeValidity(12 * 3600), 143);
  assert.equal(relativeValidity(24 * 3600), 167);
  assert.equal(relativeValidity(4 * 86_400), 170);
  assert.equal(relativeValidity(5 * 7 * 86_400), 197);
  assert.equal(relativeValidity(10 * 365 * 86_400), 255);
});

test('malformed PDUs are SmsError invalid_pdu, never another exception', () => {
  for (const bad of [
    '',
    '04',
    '040b91',
    '06000b91',
    '01000b91',
    '440b914477009000f100003210702100000005ff',
  ]) {
    assert.throws(
      () => decodeTpdu(hex(bad)),
      (err: unknown) => err instanceof SmsError && err.code === 'invalid_pdu',
      bad,
    );
  }
});

test('what an SMS-SUBMIT cannot carry is refused', () => {
  const base = { reference: 0, statusReport: false, dcs: 0, userData: encodeGsm7('hi') };
  assert.throws(() => encodeSubmit({ ...base, to: 'ACME' }), SmsError);
  assert.throws(() => encodeSubmit({ ...base, to: '+1', reference: 256 }), SmsError);
  assert.throws(() => encodeSubmit({ ...base, to: '+1', userData: Buffer.alloc(161) }), SmsError);
});
