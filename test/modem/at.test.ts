// The AT reader: responses split into their lines and final result code, the PDU prompt,
// unsolicited result codes (and +CDS's PDU line) told apart from the answer being read.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AtReader, atFields, finalResult } from '../../src/modem/index.ts';

test('final result codes: OK, ERROR, +CME ERROR and +CMS ERROR with their numbers', () => {
  assert.deepEqual(finalResult('OK'), { ok: true });
  assert.deepEqual(finalResult('ERROR'), { ok: false, kind: 'error', code: null, line: 'ERROR' });
  assert.deepEqual(finalResult('+CME ERROR: 16'), {
    ok: false,
    kind: 'cme',
    code: 16,
    line: '+CME ERROR: 16',
  });
  assert.deepEqual(finalResult('+CMS ERROR: 304'), {
    ok: false,
    kind: 'cms',
    code: 304,
    line: '+CMS ERROR: 304',
  });
  assert.equal(finalResult('+CMS ERROR: SIM busy')?.ok, false);
  assert.equal(finalResult('+CSQ: 21,99'), null);
});

test('a response arriving in pieces, its echo dropped, ends with its final code', () => {
  const reader = new AtReader();
  reader.expect('AT+CSQ');
  assert.deepEqual(reader.push('AT+CSQ\r\r\n+CS'), []);
  assert.deepEqual(reader.push('Q: 21,99\r\n\r\nO'), []);
  assert.deepEqual(reader.push('K\r\n'), [{ type: 'response', lines: ['+CSQ: 21,99'], final: { ok: true } }]);
});

test('the > prompt with no line end, then the answer to the PDU', () => {
  const reader = new AtReader();
  reader.expect('AT+CMGS=23');
  assert.deepEqual(reader.push('\r\n> '), [{ type: 'prompt' }]);
  assert.deepEqual(reader.push('\r\n+CMGS: 7\r\n\r\nOK\r\n'), [
    { type: 'response', lines: ['+CMGS: 7'], final: { ok: true } },
  ]);
});

test('the > prompt with a status report right behind it in the same read is still the prompt', () => {
  const reader = new AtReader();
  reader.expect('AT+CMGS=23');
  assert.deepEqual(reader.push('\r\n> \r\n+CDS: 25\r\n06000B91\r\n'), [
    { type: 'prompt' },
    { type: 'urc', name: '+CDS', value: '25', pdu: '06000B91' },
  ]);
  // And a prompt whose space comes in the next read.
  reader.expect('AT+CMGS=23');
  assert.deepEqual(reader.push('\r\n>'), [{ type: 'prompt' }]);
  assert.deepEqual(reader.push(' \r\n+CMGS: 8\r\n\r\nOK\r\n'), [
    { type: 'response', lines: ['+CMGS: 8'], final: { ok: true } },
  ]);
});

test('unsolicited codes in the middle of an answer go apart; +CDS takes its PDU line', () => {
  const reader = new AtReader();
  reader.expect('AT+CMGR=3');
  const events = reader.push(
    '\r\n+CMTI: "SM",4\r\n+CMGR: 0,,24\r\n0791\r\n\r\n+CDS: 25\r\n06000B91\r\n\r\n+CMS ERROR: 321\r\n',
  );
  assert.deepEqual(events, [
    { type: 'urc', name: '+CMTI', value: '"SM",4' },
    { type: 'urc', name: '+CDS', value: '25', pdu: '06000B91' },
    {
      type: 'response',
      lines: ['+CMGR: 0,,24', '0791'],
      final: { ok: false, kind: 'cms', code: 321, line: '+CMS ERROR: 321' },
    },
  ]);
});

test('+CREG is the answer to AT+CREG? and unsolicited otherwise', () => {
  const reader = new AtReader();
  reader.expect('AT+CREG?');
  assert.deepEqual(reader.push('+CREG: 0,1\r\nOK\r\n+CREG: 2\r\n'), [
    { type: 'response', lines: ['+CREG: 0,1'], final: { ok: true } },
    { type: 'urc', name: '+CREG', value: '2' },
  ]);
});

test('fields: quoted, bare and empty', () => {
  assert.deepEqual(atFields('"SM",3'), ['SM', '3']);
  assert.deepEqual(atFields('0,,24'), ['0', '', '24']);
  assert.deepEqual(atFields('"","+15550100",145'), ['', '+15550100', '145']);
});
