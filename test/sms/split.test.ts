// Splitting into parts: the per-part limits of TS 23.040, boundaries that must not be cut,
// the three SMPP long-message modes, national language tables, options and errors.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  calculateSegments,
  chooseEncoding,
  countSegments,
  decodeText,
  Iei,
  parseUdh,
  SmsError,
  splitBinary,
  splitMessage,
} from '../../src/sms/index.ts';

const a = (n: number) => 'a'.repeat(n);
const sizes = (r: { parts: { payload: Buffer }[] }, unit = 1) => r.parts.map((p) => p.payload.length / unit);
const code = (c: string) => (err: unknown) => err instanceof SmsError && err.code === c;

describe('part sizes', () => {
  test('GSM 7-bit: 160 alone, 153 per part, 152 with a 16-bit reference', () => {
    const one = splitMessage(a(160));
    assert.deepEqual(sizes(one), [160]);
    assert.equal(one.parts[0]!.udh, undefined);
    assert.equal(one.parts[0]!.sar, undefined);
    assert.equal(one.reference, undefined);
    assert.deepEqual(sizes(splitMessage(a(161))), [153, 8]);
    assert.deepEqual(sizes(splitMessage(a(306))), [153, 153]);
    assert.deepEqual(sizes(splitMessage(a(307), { referenceBits: 16 })), [152, 152, 3]);
  });

  test('UCS-2: 70 alone, 67 per part, 66 with a 16-bit reference', () => {
    assert.deepEqual(sizes(splitMessage('Ж'.repeat(70)), 2), [70]);
    assert.deepEqual(sizes(splitMessage('Ж'.repeat(71)), 2), [67, 4]);
    assert.deepEqual(sizes(splitMessage('Ж'.repeat(134), { referenceBits: 16 }), 2), [66, 66, 2]);
  });

  test('8-bit encodings: 140 alone, 134 per part, 133 with a 16-bit reference', () => {
    assert.deepEqual(sizes(splitMessage(`é${a(139)}`, { encoding: 'latin1' })), [140]);
    assert.deepEqual(sizes(splitMessage(a(141), { encoding: 'ascii' })), [134, 7]);
    assert.deepEqual(sizes(splitBinary(Buffer.alloc(268), { referenceBits: 16 })), [133, 133, 2]);
  });

  test('the UDH of each part', () => {
    const split = splitMessage(a(400), { reference: 0x42 });
    assert.equal(split.reference, 0x42);
    assert.deepEqual(
      split.parts.map((p) => p.udh!.toString('hex')),
      ['050003420301', '050003420302', '050003420303'],
    );
    const wide = splitMessage(a(400), { reference: 0x1234, referenceBits: 16 });
    assert.equal(wide.parts[1]!.udh!.toString('hex'), '06080412340302');
    assert.equal(splitMessage(a(400), { reference: 0x1234 }).reference, 0x34);
  });

  test('the default reference changes from message to message', () => {
    const first = splitMessage(a(200)).reference;
    const second = splitMessage(a(200)).reference;
    assert.notEqual(first, second);
  });
});

describe('what a cut never splits', () => {
  test('a GSM escape sequence stays with its character', () => {
    const split = splitMessage(`${a(152)}€${a(10)}`);
    assert.deepEqual(sizes(split), [152, 12]);
    assert.equal(split.parts[1]!.payload.subarray(0, 2).toString('hex'), '1b65');
    // Across the second boundary too.
    assert.deepEqual(sizes(splitMessage(`${a(305)}|${a(5)}`)), [153, 152, 7]);
  });

  test('a surrogate pair stays whole', () => {
    const split = splitMessage(`${'Ж'.repeat(66)}😀${'Ж'.repeat(10)}`);
    assert.deepEqual(sizes(split, 2), [66, 12]);
    assert.equal(decodeText(split.parts[1]!.payload, 'ucs2').slice(0, 2), '😀');
  });

  test('a grapheme cluster stays whole when a part can hold it', () => {
    const family = '👨‍👩‍👧‍👦'; // 11 code units
    assert.deepEqual(sizes(splitMessage(`${'Ж'.repeat(60)}${family}${'Ж'.repeat(10)}`), 2), [60, 21]);
    assert.deepEqual(sizes(splitMessage(`${'Ж'.repeat(65)}🇬🇧${'Ж'.repeat(5)}`), 2), [65, 9]);
    assert.deepEqual(sizes(splitMessage(`${'Ж'.repeat(66)}e\u0301${'Ж'.repeat(4)}`), 2), [66, 6]);
    assert.deepEqual(sizes(splitMessage(`${'Ж'.repeat(66)}\r\n${'Ж'.repeat(5)}`), 2), [66, 7]);
  });

  test('a cluster longer than a part is split between code points where the part ends', () => {
    const zalgo = `Z${'\u0301'.repeat(100)}`;
    assert.deepEqual(sizes(splitMessage(zalgo), 2), [67, 34]);
    const emojiZalgo = `${'😀'.repeat(40)}`; // no clusters: pairs only
    assert.deepEqual(sizes(splitMessage(emojiZalgo), 2), [66, 14]);
  });
});

describe('modes', () => {
  test('sar: same part sizes, SAR values instead of a UDH', () => {
    const split = splitMessage(a(400), { mode: 'sar', reference: 0x1234, referenceBits: 16 });
    assert.deepEqual(sizes(split), [152, 152, 96]);
    assert.deepEqual(
      split.parts.map((p) => [p.udh, p.sar]),
      [1, 2, 3].map((sequence) => [undefined, { reference: 0x1234, total: 3, sequence }]),
    );
  });

  test('sar: the reference is 16 bits whatever the part size', () => {
    const split = splitMessage(a(400), { mode: 'sar', reference: 0x1234 });
    assert.deepEqual(sizes(split), [153, 153, 94]);
    assert.equal(split.parts[0]!.sar!.reference, 0x1234);
  });

  test('payload: one part with all of it, and the segments it will cost', () => {
    const split = splitMessage(a(400), { mode: 'payload' });
    assert.equal(split.parts.length, 1);
    assert.equal(split.parts[0]!.payload.length, 400);
    assert.equal(split.parts[0]!.udh, undefined);
    assert.equal(split.segments, 3);
  });
});

describe('maxParts', () => {
  test('defaults to 10 and throws rather than truncate', () => {
    assert.equal(splitMessage(a(1530)).parts.length, 10);
    assert.throws(() => splitMessage(a(1531)), code('too_many_parts'));
    assert.throws(() => splitMessage(a(1531), { mode: 'payload' }), code('too_many_parts'));
    assert.equal(splitMessage(a(1531), { maxParts: 11 }).parts.length, 11);
    assert.throws(() => splitMessage(a(400), { maxParts: 2 }), code('too_many_parts'));
  });

  test('countSegments counts as splitMessage splits, with the same refusals', () => {
    assert.deepEqual(countSegments(a(1530)), { encoding: 'gsm7', segments: 10 });
    assert.deepEqual(countSegments(`${a(70)}€`), { encoding: 'gsm7', segments: 1 });
    assert.deepEqual(countSegments(`${a(70)}ж`), { encoding: 'ucs2', segments: 2 });
    assert.throws(() => countSegments(a(1531)), code('too_many_parts'));
    assert.throws(() => countSegments(a(400), { maxParts: 2 }), code('too_many_parts'));
    assert.throws(() => countSegments('x', { maxParts: 256 }), code('invalid_argument'));
    assert.throws(() => countSegments('ж', { encoding: 'gsm7' }), code('unencodable'));
  });

  test('at most 255, the most a concatenation IE can number', () => {
    assert.throws(() => splitMessage('x', { maxParts: 256 }), code('invalid_argument'));
    assert.equal(splitMessage(a(153 * 255), { maxParts: 255 }).parts.length, 255);
    assert.throws(() => splitMessage(a(153 * 255 + 1), { maxParts: 255 }), code('too_many_parts'));
  });
});

describe('encodings', () => {
  test('auto: GSM 7-bit when it fits, else UCS-2; data_coding to match', () => {
    assert.deepEqual([splitMessage('Hi').encoding, splitMessage('Hi').dataCoding], ['gsm7', 0]);
    assert.deepEqual([splitMessage('Hi 😀').encoding, splitMessage('Hi 😀').dataCoding], ['ucs2', 8]);
    assert.equal(splitMessage('Hi', { flash: true }).dataCoding, 0xf0);
    assert.equal(splitMessage('Ж', { messageClass: 1 }).dataCoding, 0x19);
  });

  test('an explicit encoding that cannot represent the text throws', () => {
    assert.throws(() => splitMessage('Жук', { encoding: 'gsm7' }), code('unencodable'));
    assert.throws(() => splitMessage('Жук', { encoding: 'latin1' }), code('unencodable'));
    assert.equal(splitMessage('Hi', { encoding: 'ucs2' }).parts[0]!.payload.toString('hex'), '00480069');
  });

  test('smart replacement only when it avoids UCS-2', () => {
    const text = '“Quotes” – dashes… and\u00a0spaces';
    assert.deepEqual(chooseEncoding(text), { encoding: 'ucs2', text });
    assert.deepEqual(chooseEncoding(text, { smartReplace: true }), {
      encoding: 'gsm7',
      text: '"Quotes" - dashes... and spaces',
    });
    // An emoji needs UCS-2 anyway: the text stays as written.
    assert.deepEqual(chooseEncoding(`${text} 😀`, { smartReplace: true }), {
      encoding: 'ucs2',
      text: `${text} 😀`,
    });
    const split = splitMessage(text, { smartReplace: true });
    assert.equal(split.text, '"Quotes" - dashes... and spaces');
    assert.equal(split.encoding, 'gsm7');
    assert.equal(splitMessage('“é”', { encoding: 'latin1', smartReplace: true }).text, '"é"');
    assert.equal(splitMessage('naïve', { encoding: 'gsm7', smartReplace: true }).text, 'naive');
  });
});

describe('national language tables', () => {
  const turkish = 'Şişli’de buluşalım mı? Görüşürüz, iyi günler.';

  test('are used only when enabled', () => {
    assert.equal(chooseEncoding(turkish).encoding, 'ucs2');
    assert.equal(chooseEncoding(turkish, { nationalLanguages: ['tr'] }).encoding, 'ucs2'); // ’
    const choice = chooseEncoding(turkish, { nationalLanguages: ['tr'], smartReplace: true });
    assert.deepEqual(choice, {
      encoding: 'gsm7',
      text: "Şişli'de buluşalım mı? Görüşürüz, iyi günler.",
      shift: { lockingShift: 'tr' },
    });
  });

  test('a single part carries the shift IE and holds 155 septets', () => {
    const text = `ğ${a(154)}`;
    const split = splitMessage(text, { nationalLanguages: ['tr'] });
    assert.equal(split.parts.length, 1);
    assert.equal(split.parts[0]!.udh!.toString('hex'), '03250101');
    assert.equal(split.parts[0]!.payload.length, 155);
    assert.equal(splitMessage(`${text}a`, { nationalLanguages: ['tr'] }).parts.length, 2);
  });

  test('parts carry concatenation and shift IEs: 149 septets beside one, 146 beside two', () => {
    const locking = splitMessage(`ğ${a(200)}`, { nationalLanguages: ['tr'], reference: 9 });
    assert.deepEqual(sizes(locking), [149, 52]);
    const udh = parseUdh(locking.parts[0]!.udh!)!;
    assert.deepEqual(udh.concat, { reference: 9, total: 2, sequence: 1, referenceBits: 8 });
    assert.equal(udh.lockingShift, 'tr');
    // ğ and ç need Turkish locking; Spanish á only the Spanish single-shift table.
    const both = splitMessage(`ğá${a(200)}`, { nationalLanguages: ['tr', 'es'] });
    assert.deepEqual(both.shift, { lockingShift: 'tr', singleShift: 'es' });
    assert.deepEqual(sizes(both), [146, 57]);
    assert.equal(
      both.parts[0]!.udh!.toString('hex'),
      `0b0003${both.reference!.toString(16).padStart(2, '0')}0201250101240102`,
    );
  });

  test('Spanish uses the single-shift IE', () => {
    const split = splitMessage('¿Qué tal, José? Mañana a la misma hora: Ávila.', {
      nationalLanguages: ['es'],
    });
    assert.equal(split.encoding, 'gsm7');
    assert.deepEqual(split.shift, { singleShift: 'es' });
    assert.equal(split.parts[0]!.udh!.toString('hex'), '03240102');
  });

  test('the cheapest tables win: default when they fit one SMS, else fewest segments', () => {
    assert.equal(chooseEncoding('Hello €', { nationalLanguages: ['pt'] }).shift, undefined);
    // 100 € is 200 septets with the default tables; Portuguese locking has € as one septet.
    const euros = calculateSegments('€'.repeat(100), { nationalLanguages: ['pt'] });
    assert.deepEqual([euros.segments, euros.shift], [1, { lockingShift: 'pt' }]);
    assert.equal(calculateSegments('€'.repeat(100)).segments, 2);
  });

  test('Indian languages', () => {
    const hindi = 'नमस्ते, आप कैसे हैं?';
    const choice = chooseEncoding(hindi, { nationalLanguages: ['hi'] });
    assert.equal(choice.encoding, 'gsm7');
    assert.deepEqual(choice.shift, { lockingShift: 'hi' });
    assert.throws(() => splitMessage('x', { nationalLanguages: ['xx' as never] }), code('invalid_argument'));
  });
});

describe('calculateSegments', () => {
  test('counts in the units of the encoding', () => {
    assert.deepEqual(calculateSegments('hello'), {
      encoding: 'gsm7',
      segments: 1,
      characters: 5,
      perSegment: 160,
      used: 5,
      remaining: 155,
      text: 'hello',
    });
    const long = calculateSegments(`${a(160)}€`);
    assert.deepEqual(
      [long.segments, long.characters, long.perSegment, long.used, long.remaining],
      [2, 162, 153, 9, 144],
    );
    const empty = calculateSegments('');
    assert.deepEqual([empty.segments, empty.characters, empty.remaining], [1, 0, 160]);
  });

  test('names the characters that force UCS-2', () => {
    const info = calculateSegments('Price: 5€ — café ñ 😀 — ok');
    assert.equal(info.encoding, 'ucs2');
    assert.deepEqual(info.unicodeCharacters, ['—', '😀']);
    assert.equal(info.characters, 26);
    assert.equal(info.remaining, 44);
  });

  test('extra IEs take room', () => {
    const ports = { id: Iei.PORTS_16, data: Uint8Array.of(0x0b, 0x84, 0x23, 0xf0) };
    const info = calculateSegments('x', { encoding: 'binary', ies: [ports] });
    assert.equal(info.perSegment, 133);
    const split = splitBinary(Buffer.alloc(200), { ies: [ports], reference: 1 });
    assert.deepEqual(sizes(split), [128, 72]);
    assert.equal(split.parts[0]!.udh!.toString('hex'), '0b00030102010504' + '0b8423f0');
  });
});

describe('splitBinary', () => {
  test('140 octets alone, 134 per part, binary data_coding', () => {
    assert.deepEqual(sizes(splitBinary(Buffer.alloc(140))), [140]);
    const split = splitBinary(new Uint8Array(300).fill(7), { messageClass: 1 });
    assert.deepEqual(sizes(split), [134, 134, 32]);
    assert.equal(split.encoding, 'binary');
    assert.equal(split.dataCoding, 0xf5);
  });
});

describe('argument checks', () => {
  test('bad options are argument errors', () => {
    assert.throws(() => splitMessage('x', { mode: 'both' as never }), code('invalid_argument'));
    assert.throws(() => splitMessage('x', { referenceBits: 12 as never }), code('invalid_argument'));
    assert.throws(() => splitMessage('x', { reference: -1 }), code('invalid_argument'));
    assert.throws(() => splitMessage('x', { encoding: 'utf8' as never }), code('invalid_argument'));
    assert.throws(() => splitMessage(42 as never), code('invalid_argument'));
  });
});
