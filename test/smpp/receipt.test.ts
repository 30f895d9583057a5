// Delivery receipts as SMSCs really write them, and matching their ids to submit_sm_resp ids.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MessageState } from '../../src/smpp/constants.ts';
import { type PduOf, shortMessagePdu } from '../../src/smpp/pdu.ts';
import {
  buildReceiptTlvs,
  canonicalStat,
  formatReceipt,
  normaliseMessageId,
  parseReceipt,
  receiptFromPdu,
  submittedIdOf,
} from '../../src/smpp/receipt.ts';
import { networkErrorCode } from '../../src/smpp/tlv.ts';

const utc = (iso: string) => new Date(`${iso}Z`);

describe('receipt: formatting (Appendix B)', () => {
  test('the appendix layout, 10-digit UTC dates, the text cut at 20 characters', () => {
    const text = formatReceipt({
      id: '1a2b3c',
      submitDate: utc('2024-03-15T12:30:45'),
      doneDate: utc('2024-03-15T12:31:02'),
      stat: 'DELIVRD',
      text: 'Your verification code is 482913',
    });
    assert.equal(
      text,
      'id:1a2b3c sub:001 dlvrd:001 submit date:2403151230 done date:2403151231 stat:DELIVRD err:000 text:Your verification co',
    );
  });

  test('err as a number pads to 3 digits, as a string stays as it is; dlvrd follows stat', () => {
    const base = { id: '7', submitDate: utc('2024-01-01T00:00:00'), doneDate: utc('2024-01-01T00:00:00') };
    assert.match(
      formatReceipt({ ...base, stat: 'UNDELIV', err: 34 }),
      /dlvrd:000 .* stat:UNDELIV err:034 text:$/,
    );
    assert.match(
      formatReceipt({ ...base, stat: 'UNDELIV', err: 'G06', sub: 2, dlvrd: 1 }),
      /sub:002 dlvrd:001 .* err:G06 /,
    );
  });

  test('what we format, we parse', () => {
    const fields = {
      id: '0911897980',
      sub: 1,
      dlvrd: 0,
      submitDate: utc('2012-01-12T15:51:00'),
      doneDate: utc('2012-01-12T15:52:00'),
      stat: 'EXPIRED',
      err: '000',
      text: 'hello: world',
    };
    const parsed = parseReceipt(formatReceipt(fields))!;
    assert.equal(parsed.id, fields.id);
    assert.equal(parsed.sub, 1);
    assert.equal(parsed.dlvrd, 0);
    assert.deepEqual(parsed.submitDate, fields.submitDate);
    assert.deepEqual(parsed.doneDate, fields.doneDate);
    assert.equal(parsed.stat, 'EXPIRED');
    assert.equal(parsed.messageState, MessageState.EXPIRED);
    assert.equal(parsed.text, 'hello: world');
  });
});

describe('receipt: parsing what SMSCs send', () => {
  test('the appendix form', () => {
    const r = parseReceipt(
      'id:0911897980 sub:001 dlvrd:000 submit date:1201121551 done date:1201121551 stat:UNDELIV err:075 text:-PROFILE',
    );
    assert.deepEqual(r, {
      id: '0911897980',
      sub: 1,
      dlvrd: 0,
      submitDate: utc('2012-01-12T15:51:00'),
      doneDate: utc('2012-01-12T15:51:00'),
      stat: 'UNDELIV',
      rawStat: 'UNDELIV',
      messageState: MessageState.UNDELIVERABLE,
      err: '075',
      errorCode: 75,
      text: '-PROFILE',
    });
  });

  test('a hex id and 12-digit dates with seconds', () => {
    const r = parseReceipt(
      'id:1C2D3E4F sub:001 dlvrd:001 submit date:170227101538 done date:170227101541 stat:DELIVRD err:000 text:Test message',
    )!;
    assert.equal(r.id, '1C2D3E4F');
    assert.deepEqual(r.submitDate, utc('2017-02-27T10:15:38'));
    assert.deepEqual(r.doneDate, utc('2017-02-27T10:15:41'));
    assert.equal(r.messageState, MessageState.DELIVERED);
    assert.equal(r.text, 'Test message');
  });

  test("'Text:' and 'ID:' in capitals, and a 14-digit date", () => {
    const r = parseReceipt(
      'ID:3795826442 SUB:001 DLVRD:001 Submit Date:20180913151000 Done Date:1809131510 Stat:DELIVRD Err:000 Text:Hello world',
    )!;
    assert.equal(r.id, '3795826442');
    assert.deepEqual(r.submitDate, utc('2018-09-13T15:10:00'));
    assert.equal(r.stat, 'DELIVRD');
    assert.equal(r.text, 'Hello world');
  });

  test('extra vendor fields are skipped; a UUID id is kept whole', () => {
    const r = parseReceipt(
      'id:8f6a1e0e-3c4d-4b5a-9e2f-0a1b2c3d4e5f sub:001 dlvrd:001 submit date:2003161045 done date:2003161046 stat:DELIVRD err:000 mcc:234 mnc:15 imsi:234150000000000 text:Your code',
    )!;
    assert.equal(r.id, '8f6a1e0e-3c4d-4b5a-9e2f-0a1b2c3d4e5f');
    assert.equal(r.err, '000');
    assert.equal(r.text, 'Your code');
  });

  test('err with letters, and an empty text', () => {
    const r = parseReceipt(
      'id:6d3a sub:001 dlvrd:000 submit date:2201011200 done date:2201011205 stat:UNDELIV err:G06 text:',
    )!;
    assert.equal(r.err, 'G06');
    assert.equal(r.errorCode, undefined);
    assert.equal(r.text, '');
    assert.equal(parseReceipt('id:1 stat:UNDELIV err:0x1A')!.errorCode, 26);
  });

  test('any field order; submit_date / done_date spellings', () => {
    const r = parseReceipt(
      'stat:DELIVRD err:000 id:12345 done_date:2403151231 submit_date:2403151230 sub:001 dlvrd:001',
    )!;
    assert.equal(r.id, '12345');
    assert.deepEqual(r.submitDate, utc('2024-03-15T12:30:00'));
    assert.deepEqual(r.doneDate, utc('2024-03-15T12:31:00'));
    assert.equal(r.text, undefined);
  });

  test('text runs to the end once id and stat are known, colons and all', () => {
    const r = parseReceipt(
      'id:42 sub:001 dlvrd:001 submit date:2403151230 done date:2403151231 stat:DELIVRD err:000 text:Code: 1234 stat:FAKE id:9',
    )!;
    assert.equal(r.id, '42');
    assert.equal(r.stat, 'DELIVRD');
    assert.equal(r.text, 'Code: 1234 stat:FAKE id:9');
    // text before the other fields ends at the next key
    const early = parseReceipt('text:hi there id:43 stat:REJECTD')!;
    assert.equal(early.text, 'hi there');
    assert.equal(early.stat, 'REJECTD');
  });

  test('vendor stat words map onto the appendix words and message states', () => {
    const cases: Array<[string, string, number]> = [
      ['DELIVRD', 'DELIVRD', 2],
      ['DELIVERED', 'DELIVRD', 2],
      ['Deliver', 'DELIVRD', 2],
      ['EXPIRED', 'EXPIRED', 3],
      ['DELETED', 'DELETED', 4],
      ['UNDELIV', 'UNDELIV', 5],
      ['UNDELIVERABLE', 'UNDELIV', 5],
      ['FAILED', 'UNDELIV', 5],
      ['ACCEPTD', 'ACCEPTD', 6],
      ['ACCEPTED', 'ACCEPTD', 6],
      ['UNKNOWN', 'UNKNOWN', 7],
      ['REJECTD', 'REJECTD', 8],
      ['REJECTED', 'REJECTD', 8],
      ['ENROUTE', 'ENROUTE', 1],
      ['SKIPPED', 'SKIPPED', 9],
      ['2', 'DELIVRD', 2],
      ['BANANA', 'UNKNOWN', 7],
    ];
    for (const [word, stat, state] of cases) {
      const r = parseReceipt(`id:1 stat:${word}`)!;
      assert.equal(r.stat, stat, word);
      assert.equal(r.rawStat, word);
      assert.equal(r.messageState, state, word);
      assert.equal(canonicalStat(word), stat);
    }
  });

  test('text that is not a receipt gives null', () => {
    assert.equal(parseReceipt('Hello, see you at 10:30'), null);
    assert.equal(parseReceipt('id:123 sub:001'), null);
    assert.equal(parseReceipt('stat:DELIVRD'), null);
    assert.equal(parseReceipt(''), null);
  });

  test('unreadable dates are left undefined rather than guessed', () => {
    const r = parseReceipt('id:1 submit date:2413321299 done date:24031 stat:DELIVRD')!;
    assert.equal(r.submitDate, undefined);
    assert.equal(r.doneDate, undefined);
  });
});

describe('receipt: from a deliver_sm', () => {
  const deliver = (shortMessage: string, tlvs?: PduOf<'deliver_sm'>['tlvs']): PduOf<'deliver_sm'> =>
    shortMessagePdu('deliver_sm', {
      sequenceNumber: 1,
      sourceAddrTon: 1,
      sourceAddrNpi: 1,
      sourceAddr: '447700900001',
      destAddrTon: 5,
      destinationAddr: 'Info',
      esmClass: 0x04,
      shortMessage: Buffer.from(shortMessage, 'latin1'),
      ...(tlvs ? { tlvs } : {}),
    });
  const text =
    'id:6699 sub:001 dlvrd:001 submit date:2403151230 done date:2403151231 stat:DELIVRD err:000 text:Hi';

  test('the text alone', () => {
    const r = receiptFromPdu(deliver(text))!;
    assert.equal(r.id, '6699');
    assert.equal(r.stat, 'DELIVRD');
    assert.equal(r.text, 'Hi');
  });

  test('the TLVs win over the text', () => {
    const r = receiptFromPdu(
      deliver(
        text,
        buildReceiptTlvs({
          messageId: '1a2b',
          messageState: MessageState.UNDELIVERABLE,
          networkErrorCode: 34,
        }),
      ),
    )!;
    assert.equal(r.id, '1a2b');
    assert.equal(r.stat, 'UNDELIV');
    assert.equal(r.rawStat, 'DELIVRD');
    assert.equal(r.messageState, MessageState.UNDELIVERABLE);
    assert.deepEqual(r.networkError, { type: 3, code: 34 });
    assert.equal(r.errorCode, 34);
    assert.deepEqual(r.submitDate, utc('2024-03-15T12:30:00'));
  });

  test('the TLVs alone, with an empty short_message', () => {
    const r = receiptFromPdu(deliver('', { receiptedMessageId: 'abc', messageState: MessageState.EXPIRED }))!;
    assert.equal(r.id, 'abc');
    assert.equal(r.stat, 'EXPIRED');
    assert.equal(r.rawStat, '');
    assert.equal(r.text, undefined);
  });

  test('the text in message_payload', () => {
    const r = receiptFromPdu(deliver('', { messagePayload: Buffer.from(text) }))!;
    assert.equal(r.id, '6699');
  });

  test('no id or no state: null', () => {
    assert.equal(receiptFromPdu(deliver('just a message')), null);
    assert.equal(receiptFromPdu(deliver('', { receiptedMessageId: 'abc' })), null);
  });

  test('buildReceiptTlvs', () => {
    assert.deepEqual(buildReceiptTlvs({ messageId: 'x1', messageState: 2 }), {
      receiptedMessageId: 'x1',
      messageState: 2,
    });
    assert.deepEqual(
      buildReceiptTlvs({ messageId: 'x1', messageState: 5, networkErrorCode: 0x0102, networkErrorType: 8 }),
      {
        receiptedMessageId: 'x1',
        messageState: 5,
        networkErrorCode: networkErrorCode(8, 0x0102),
      },
    );
  });
});

describe('receipt: matching ids', () => {
  test('normaliseMessageId: hex-digit ids lower-cased without leading zeros, others only trimmed', () => {
    assert.equal(normaliseMessageId('0001A2B'), '1a2b');
    assert.equal(normaliseMessageId(' 6699 '), '6699');
    assert.equal(normaliseMessageId('0000'), '0');
    assert.equal(normaliseMessageId('AbC-123'), 'AbC-123');
    assert.equal(normaliseMessageId('msg_XYZ'), 'msg_XYZ');
  });

  test('submittedIdOf: a receipt id in the form the SMSC prints it, as its submit_sm_resp gave it', () => {
    // decimal receipt for a hex message_id (0x1a2b = 6699), as many SMSCs print the text
    assert.equal(submittedIdOf('6699', 'decimal'), '1a2b');
    assert.equal(submittedIdOf('10', 'decimal'), 'a');
    // hex receipt for a decimal message_id
    assert.equal(submittedIdOf('00000FF', 'hex'), '255');
    assert.equal(submittedIdOf('10', 'hex'), '16');
    // as submitted: only normalised; ids that are not numbers of that base are kept
    assert.equal(submittedIdOf('0001A2B', 'as-submitted'), '1a2b');
    assert.equal(submittedIdOf('1a2b', 'decimal'), '1a2b');
    assert.equal(submittedIdOf('uuid-1', 'hex'), 'uuid-1');
    assert.equal(submittedIdOf('9'.repeat(50), 'decimal'), '9'.repeat(50));
  });
});
