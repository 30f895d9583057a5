// The UCP/EMI codec against the specification's examples (EMI - UCP 4.6) and round trips.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Reassembler } from '../../src/sms/index.ts';
import {
  binaryBodies,
  checksum,
  decodeAlphanumericAddress,
  decodeFrame,
  decodeIra,
  decodeXSer,
  encodeAlphanumericAddress,
  encodeFrame,
  encodeIra,
  encodeXSer,
  fieldsOf,
  formatUcpTime,
  fromUcpAddress,
  namedFields,
  op5xFields,
  parseUcpTime,
  readBody,
  readResult,
  resultFields,
  textBodies,
  textBody,
  toUcpOriginator,
  type UcpDecodeError,
  UcpFramer,
} from '../../src/ucp/index.ts';

const frameOf = (text: string) =>
  Buffer.concat([Buffer.of(0x02), Buffer.from(text, 'latin1'), Buffer.of(0x03)]);

test('the specification’s alert example decodes, and encodes back to the same octets', () => {
  const spec = '02/00035/O/31/0234765439845/0139/A0';
  const frame = decodeFrame(spec);
  assert.deepEqual(frame, { trn: 2, kind: 'O', ot: 31, fields: ['0234765439845', '0139'] });
  assert.deepEqual(encodeFrame(frame), frameOf(spec));
  assert.equal(checksum('02/00035/O/31/0234765439845/0139/'), 'A0');
});

test('the specification’s alphanumeric OAdC (OTOA 5039) packs and unpacks', () => {
  assert.equal(encodeAlphanumericAddress('ALPHA@NUM'), '10412614190438AB4D');
  assert.equal(decodeAlphanumericAddress('10412614190438AB4D'), 'ALPHA@NUM');
  assert.deepEqual(toUcpOriginator('ALPHA@NUM'), { OAdC: '10412614190438AB4D', OTOA: '5039' });
  assert.equal(fromUcpAddress('10412614190438AB4D', '5039'), 'ALPHA@NUM');
  assert.deepEqual(toUcpOriginator('+447700900000'), { OAdC: '447700900000', OTOA: '1139' });
  assert.equal(fromUcpAddress('447700900000', '1139'), '+447700900000');
  assert.equal(fromUcpAddress('00447700900000'), '+447700900000');
  assert.equal(fromUcpAddress('12345'), '12345');
});

test('a 51 with every field round-trips; LEN and checksum are checked', () => {
  const op = Object.fromEntries(op5xFields.map((name, i) => [name, String(i).padStart(2, '0')]));
  const octets = encodeFrame({ trn: 99, kind: 'O', ot: 51, fields: fieldsOf(op5xFields, op) });
  const text = octets.subarray(1, -1).toString('latin1');
  assert.equal(Number(text.slice(3, 8)), text.length, 'LEN counts everything between STX and ETX');
  const back = decodeFrame(text);
  assert.equal(back.trn, 99);
  assert.deepEqual(namedFields(op5xFields, back.fields), { ...op, AdC: '00' });

  const badSum = `${text.slice(0, -2)}${text.endsWith('00') ? '01' : '00'}`;
  assert.throws(
    () => decodeFrame(badSum),
    (e: UcpDecodeError) => e.ec === '01' && e.header?.trn === 99,
  );
  const badLen = text.replace(/^99\/\d{5}/, '99/00010');
  assert.throws(
    () => decodeFrame(badLen),
    (e: UcpDecodeError) => e.ec === '02',
  );
  assert.throws(() => encodeFrame({ trn: 1, kind: 'O', ot: 51, fields: ['a/b'] }), /holds/);
  assert.throws(() => encodeFrame({ trn: 100, kind: 'O', ot: 51, fields: [] }), /TRN/);
});

test('results: ACK with MVP and SM for the 50-series, ACK and SM for the others, NAck with EC', () => {
  assert.deepEqual(resultFields(51, { ack: true, sm: '0612345678:010196010101' }), [
    'A',
    '',
    '0612345678:010196010101',
  ]);
  assert.deepEqual(resultFields(60, { ack: true }), ['A', '']);
  assert.deepEqual(resultFields(31, { ack: false, ec: '02' }), ['N', '02', '']);
  const ack = readResult(
    decodeFrame(encodeFrame({ trn: 5, kind: 'R', ot: 51, fields: ['A', '', '06:0101'] }).subarray(1, -1)),
  );
  assert.deepEqual(ack, { ack: true, ec: '', mvp: '', sm: '06:0101' });
  const nack = readResult({ trn: 5, kind: 'R', ot: 60, fields: ['N', '07', 'no'] });
  assert.deepEqual(nack, { ack: false, ec: '07', sm: 'no', mvp: '' });
});

test('IRA text, XSer and timestamps', () => {
  assert.equal(encodeIra('Hello @'), '48656C6C6F2040');
  assert.equal(decodeIra(encodeIra('Grüße')), 'Grüße');
  assert.throws(() => encodeIra('€'), /outside IRA/);
  const xser = encodeXSer([
    { type: 1, data: Buffer.from('050003010201', 'hex') },
    { type: 2, data: Buffer.of(8) },
  ]);
  assert.equal(xser, '0106050003010201020108');
  assert.deepEqual(decodeXSer(xser), [
    { type: 1, data: Buffer.from('050003010201', 'hex') },
    { type: 2, data: Buffer.of(8) },
  ]);
  assert.throws(() => decodeXSer('0106050003'), /runs past/);
  const when = new Date(Date.UTC(2026, 11, 5, 21, 4, 9));
  assert.equal(formatUcpTime(when), '051226210409');
  assert.equal(formatUcpTime(when, false), '0512262104');
  assert.equal(parseUcpTime('051226210409')?.getTime(), when.getTime());
  assert.equal(parseUcpTime('310226000000'), null, 'no 31 February');
  assert.equal(parseUcpTime('05122621'), null);
});

test('a long text becomes MT 3 parts with a concatenation UDH in XSer, and reassembles', () => {
  const text = 'The quick brown fox jumps over the lazy dog. '.repeat(8).trim();
  const bodies = textBodies(text, 'auto', { reference: 7 });
  assert.equal(bodies.length, 3);
  const reassembler = new Reassembler();
  let done: ReturnType<Reassembler['addUdhPart']>;
  for (const [i, body] of bodies.entries()) {
    assert.equal(body.MT, '3');
    const read = readBody(body);
    assert.deepEqual([...read.udh!], [5, 0, 3, 7, 3, i + 1]);
    done = reassembler.addUdhPart('k', Buffer.concat([read.udh!, read.payload]), read.dataCoding);
  }
  assert.equal(done!.text, text);
  assert.equal(done!.encoding, 'gsm7', 'IRA text GSM can write is read as GSM 7-bit');
  reassembler.close();
  assert.deepEqual(readBody(textBody('ÿ', null)), { udh: null, dataCoding: 3, payload: Buffer.of(0xff) });
});

test('UCS-2 and binary go as MT 4 with NB, the data coding in XSer 02; GSM text beyond IRA as UCS-2', () => {
  const [ucs2] = textBodies('Привет', 'auto', { reference: 1 });
  assert.equal(ucs2!.MT, '4');
  assert.equal(ucs2!.NB, '0096');
  assert.equal(ucs2!.XSer, '020108');
  assert.equal(Buffer.from(ucs2!.Msg!, 'hex').swap16().toString('utf16le'), 'Привет');
  const [euro] = textBodies('5 €', 'gsm7', { reference: 1 });
  assert.equal(euro!.MT, '4', '€ has no IRA code');
  const [binary] = binaryBodies(Buffer.from('0102ff', 'hex'), { reference: 1 });
  assert.deepEqual(readBody(binary!), { udh: null, dataCoding: 4, payload: Buffer.from('0102ff', 'hex') });
  // Packed GSM 7-bit from another sender: NB counts septets' bits.
  const packed = readBody({ MT: '4', NB: '0035', Msg: 'C8329BFD06', XSer: '020100' });
  assert.equal(packed.payload.toString('latin1'), 'Hello');
});

test('the framer finds frames across chunks and skips noise between them', () => {
  const frames: string[] = [];
  const framer = new UcpFramer((body) => frames.push(body.toString('latin1')));
  const one = frameOf('02/00035/O/31/0234765439845/0139/A0');
  const two = encodeFrame({ trn: 2, kind: 'R', ot: 31, fields: ['A', ''] });
  const stream = Buffer.concat([Buffer.from('\r\nnoise'), one, Buffer.from('x'), two]);
  for (let i = 0; i < stream.length; i += 7) framer.push(stream.subarray(i, i + 7));
  assert.deepEqual(frames, ['02/00035/O/31/0234765439845/0139/A0', two.subarray(1, -1).toString('latin1')]);
  // A frame cut off by a new STX is dropped; the next one still reads.
  frames.length = 0;
  framer.push(Buffer.concat([Buffer.from('\x0201/000'), one]));
  assert.deepEqual(frames, ['02/00035/O/31/0234765439845/0139/A0']);
});
