// Our SMS-SUBMIT encoder (src/sms/tpdu.ts) read back by the modem emulator's own decoder,
// written apart from it, over random texts: GSM 7-bit with extension characters, UCS-2 with
// characters outside the BMP, short and long (every part with its concatenation header).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readSubmit } from '../../src/simulator/index.ts';
import { encodeSubmit, splitMessage } from '../../src/sms/index.ts';
import { Prng } from '../sms/prng.ts';

const gsmCharacters = [
  ...'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!"#¤%&\'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà^{}\\[~]|€\n',
];
const otherCharacters = [...'привет你好שלוםαβγ', '😀', '👍🏽', '𝄞'];

test("every SMS-SUBMIT we encode reads back, text and header, with the emulator's decoder", () => {
  const seed = 20261205;
  const prng = new Prng(seed);
  for (let round = 0; round < 300; round++) {
    const length = prng.int(round % 3 === 0 ? 500 : 170) + 1;
    const pool = prng.int(4) === 0 ? [...gsmCharacters, ...otherCharacters] : gsmCharacters;
    let text = '';
    while ([...text].length < length) text += prng.pick(pool);
    const split = splitMessage(text, { mode: 'udh', reference: round & 0xff, maxParts: 255 });
    const to = prng.int(2) === 0 ? `+${4470090000 + prng.int(9999)}` : String(5550100 + prng.int(99));
    const read = split.parts.map((part, i) => {
      const tpdu = encodeSubmit({
        to,
        reference: 0,
        statusReport: i % 2 === 0,
        ...(prng.int(2) === 0 ? { validitySeconds: prng.int(10 * 86_400) } : {}),
        dcs: split.dataCoding,
        ...(part.udh ? { udh: part.udh } : {}),
        userData: part.payload,
      });
      const submit = readSubmit(`00${tpdu.toString('hex')}`, tpdu.length);
      assert.ok(submit, `seed ${seed} round ${round} part ${i + 1}: refused`);
      assert.equal(submit.to, to);
      assert.equal(submit.statusReport, i % 2 === 0);
      const total = split.parts.length;
      assert.deepEqual(
        submit.concat,
        total === 1 ? null : { reference: round & 0xff, total, sequence: i + 1 },
      );
      return submit.text;
    });
    assert.equal(read.join(''), split.text, `seed ${seed} round ${round}`);
  }
});

test('the emulator refuses PDUs whose lengths do not add up', () => {
  const tpdu = encodeSubmit({
    to: '+46708251358',
    reference: 0,
    statusReport: false,
    dcs: 0,
    userData: Buffer.from([0x68, 0x69]),
  });
  const hex = `00${tpdu.toString('hex')}`;
  assert.ok(readSubmit(hex, tpdu.length));
  assert.equal(readSubmit(hex, tpdu.length + 1), null); // not the length AT+CMGS gave
  assert.equal(readSubmit(hex.slice(0, -2), tpdu.length - 1), null); // user data cut short
  assert.equal(readSubmit(`${hex}00`, tpdu.length + 1), null); // an octet too many
  assert.equal(readSubmit('zz', 1), null);
});
