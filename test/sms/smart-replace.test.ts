// Smart replacement: which characters become which, and that nothing else changes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isGsm7, smartReplace } from '../../src/sms/index.ts';

const gsm = (text: string) => smartReplace(text, (c) => isGsm7(c));

describe('smartReplace', () => {
  test('quotes, dashes, ellipsis, spaces, invisible characters', () => {
    assert.equal(gsm('‘a’ “b” „c“ «d» ‹e›'), `'a' "b" "c" "d" <e>`);
    assert.equal(gsm('a–b—c‒d−e‐f'), 'a-b-c-d-e-f');
    assert.equal(gsm('wait…'), 'wait...');
    assert.equal(gsm('a\u00a0b\u2009c\u202fd\u3000e\tf'), 'a b c d e f');
    assert.equal(gsm('in\u00advisible\u200b\ufeff'), 'invisible');
    assert.equal(gsm('a`b´c'), "a'b'c");
  });

  test('accented letters the alphabet lacks lose their accent; those it has stay', () => {
    assert.equal(gsm('naïve façade crème brûlée'), 'naive facade crème brulée');
    assert.equal(gsm('ÁÂÃ áâã ŁĆŚ'), 'AAA aaa ŁCS'); // Ł has no decomposition: kept
  });

  test('compatibility forms: ligatures, full width, fractions', () => {
    assert.equal(gsm('ﬁne ＨＥＬＬＯ ½ ™'), 'fine HELLO 1/2 TM');
  });

  test('a decomposed letter composes first', () => {
    assert.equal(gsm('e\u0301'), 'é'); // é is in the alphabet
    assert.equal(gsm('Ω'), 'Ω'); // OHM SIGN is the Greek capital omega
  });

  test('what has no plain spelling stays as it is', () => {
    assert.equal(gsm('Жук 😀 你好'), 'Жук 😀 你好');
  });

  test('the test decides what is kept', () => {
    assert.equal(
      smartReplace('“ñ”', (c) => c.charCodeAt(0) < 0x80),
      '"n"',
    );
  });
});
