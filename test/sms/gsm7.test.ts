// GSM 7-bit: the default alphabet and extension table, national language tables, the packed
// form. Vectors worked out by hand from 3GPP TS 23.038.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LOCKING_SHIFT_TABLES, SINGLE_SHIFT_TABLES } from '../../src/sms/gsm7-tables.ts';
import type { Gsm7Shift } from '../../src/sms/index.ts';
import {
  decodeGsm7,
  encodeGsm7,
  gsm7Length,
  isGsm7,
  NATIONAL_LANGUAGES,
  packSeptets,
  SmsError,
  udhFillBits,
  unencodableGsm7Characters,
  unpackSeptets,
} from '../../src/sms/index.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('default alphabet', () => {
  test('maps characters to the septets of TS 23.038 6.2.1', () => {
    assert.equal(hex(encodeGsm7('@£$¥èéùìòÇ\nØø\rÅå')), '000102030405060708090a0b0c0d0e0f');
    assert.equal(hex(encodeGsm7('Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ')), '101112131415161718191a1c1d1e1f');
    assert.equal(hex(encodeGsm7(' !"#¤%&\'()*+,-./')), '202122232425262728292a2b2c2d2e2f');
    assert.equal(hex(encodeGsm7('¡AZÄÖÑÜ§¿azäöñüà')), '40415a5b5c5d5e5f60617a7b7c7d7e7f');
  });

  test('every septet but the escape decodes to a character that encodes back to it', () => {
    for (let code = 0; code < 128; code++) {
      if (code === 0x1b) continue;
      const ch = decodeGsm7(Uint8Array.of(code));
      assert.equal(ch.length, 1);
      assert.deepEqual([...encodeGsm7(ch)], [code], `septet 0x${code.toString(16)}`);
    }
  });

  test('extension characters take an escape and a code', () => {
    assert.equal(hex(encodeGsm7('\f^{}\\[~]|€')), '1b0a1b141b281b291b2f1b3c1b3d1b3e1b401b65');
    assert.equal(gsm7Length('a€'), 3);
    assert.equal(decodeGsm7(Buffer.from('1b651b3c', 'hex')), '€[');
  });

  test('characters outside the tables are refused and named', () => {
    assert.equal(isGsm7('Hello'), true);
    assert.equal(isGsm7('Hello ç'), false);
    assert.equal(gsm7Length('`'), -1);
    assert.deepEqual(unencodableGsm7Characters('aç😀çb'), ['ç', '😀']);
    assert.throws(
      () => encodeGsm7('naïve'),
      (err: unknown) => err instanceof SmsError && err.code === 'unencodable' && /U\+00EF/.test(err.message),
    );
  });

  test('decoding is tolerant', () => {
    // An escape before a code the extension table lacks reads as the default character.
    assert.equal(decodeGsm7(Uint8Array.of(0x1b, 0x41)), 'A');
    // ESC ESC and a trailing ESC read as a space; octets above 0x7F as U+FFFD.
    assert.equal(decodeGsm7(Uint8Array.of(0x41, 0x1b, 0x1b, 0x42, 0x1b)), 'A B ');
    assert.equal(decodeGsm7(Uint8Array.of(0x41, 0xc1)), 'A\ufffd');
    assert.equal(decodeGsm7(new Uint8Array(0)), '');
  });
});

describe('national language tables', () => {
  test('all thirteen languages have a single-shift table and all but Spanish a locking one', () => {
    for (const lang of NATIONAL_LANGUAGES) {
      assert.equal(SINGLE_SHIFT_TABLES[lang].length, 128, lang);
      if (lang !== 'es') assert.equal(LOCKING_SHIFT_TABLES[lang].length, 128, lang);
    }
    assert.equal('es' in LOCKING_SHIFT_TABLES, false);
  });

  test('every character of every table round-trips through its table', () => {
    for (const lang of NATIONAL_LANGUAGES) {
      const shifts: { shift: Gsm7Shift; table: string }[] = [
        { shift: { singleShift: lang }, table: SINGLE_SHIFT_TABLES[lang] },
      ];
      if (lang !== 'es') shifts.push({ shift: { lockingShift: lang }, table: LOCKING_SHIFT_TABLES[lang] });
      for (const { shift, table } of shifts) {
        for (let code = 0; code < 128; code++) {
          const ch = table[code]!;
          if (code === 0x1b || ch === '\0') continue;
          const septets = encodeGsm7(ch, shift);
          assert.equal(
            decodeGsm7(septets, shift),
            ch,
            `${lang} ${JSON.stringify(shift)} 0x${code.toString(16)}`,
          );
          const inLocking = shift.lockingShift !== undefined || LOCKING_SHIFT_TABLES.default.includes(ch);
          assert.equal(septets.length, inLocking ? 1 : 2);
        }
      }
    }
  });

  test('Turkish (A.3.1, A.2.1)', () => {
    const tr = { lockingShift: 'tr' } as const;
    assert.equal(hex(encodeGsm7('€ıĞğŞşİç', tr)), '04070b0c1c1d4060');
    assert.equal(decodeGsm7(Buffer.from('04070b0c1c1d4060', 'hex'), tr), '€ıĞğŞşİç');
    // The rest of the locking table is the default one.
    assert.equal(hex(encodeGsm7('@ABCabcÄÖ', tr)), '004142436162635b5c');
    assert.equal(hex(encodeGsm7('ğıŞçİĞş€', { singleShift: 'tr' })), '1b671b691b531b631b491b471b731b65');
  });

  test('Spanish (A.2.2) has a single-shift table only', () => {
    assert.equal(hex(encodeGsm7('ÁÍÓÚáíóúç', { singleShift: 'es' })), '1b411b491b4f1b551b611b691b6f1b751b09');
    assert.throws(() => encodeGsm7('á', { lockingShift: 'es' as never }), SmsError);
  });

  test('Portuguese (A.3.3, A.2.3)', () => {
    const pt = { lockingShift: 'pt' } as const;
    assert.equal(hex(encodeGsm7('êçÔôÁáªÇÀ∞^\\€Ó|ÂâÊÉ', pt)), '04090b0c0e0f12131415161718191a1c1d1e1f');
    assert.equal(hex(encodeGsm7('ºÍÃÕÚ~ãõ`', pt)), '24405b5c5d607b7c7d');
    assert.equal(hex(encodeGsm7('ÀÂãõâ', { singleShift: 'pt' })), '1b411b611b7b1b7c1b7f');
  });

  test('Hindi (A.3.6, A.2.6) and Urdu (A.3.13)', () => {
    const hi = { lockingShift: 'hi', singleShift: 'hi' } as const;
    // न (U+0928) is 0x2F in the locking table; । (U+0964) is 0x19 in the single-shift one.
    assert.equal(hex(encodeGsm7('न।A', hi)), '2f1b191b41');
    assert.equal(decodeGsm7(Buffer.from('2f1b191b41', 'hex'), hi), 'न।A');
    assert.equal(hex(encodeGsm7('ا', { lockingShift: 'ur' })), '00');
  });
});

describe('packed 7-bit', () => {
  test('packs least significant bit first (TS 23.038 6.1.2.1.1)', () => {
    assert.equal(hex(packSeptets(encodeGsm7('hellohello'))), 'e8329bfd4697d9ec37');
    assert.equal(decodeGsm7(unpackSeptets(Buffer.from('e8329bfd4697d9ec37', 'hex'), 10)), 'hellohello');
  });

  test('eight septets fill seven octets exactly', () => {
    const packed = packSeptets(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
    assert.equal(packed.length, 7);
    assert.deepEqual([...unpackSeptets(packed)], [1, 2, 3, 4, 5, 6, 7, 8]);
  });

  test('fill bits put the text on a septet boundary after a UDH', () => {
    assert.equal(udhFillBits(6), 1); // 8-bit concatenation UDH
    assert.equal(udhFillBits(7), 0); // 16-bit concatenation UDH
    assert.equal(udhFillBits(4), 3);
    assert.equal(udhFillBits(12), 2);
    assert.equal(hex(packSeptets(Uint8Array.of(0x41, 0x42), 1)), '8242');
    assert.deepEqual([...unpackSeptets(Buffer.from('8242', 'hex'), 2, 1)], [0x41, 0x42]);
  });

  test('unpacking asks for no more septets than the octets hold', () => {
    assert.equal(unpackSeptets(Buffer.from('e832', 'hex'), 100).length, 2);
    assert.equal(unpackSeptets(new Uint8Array(0)).length, 0);
    assert.throws(() => packSeptets(Uint8Array.of(1), 7), SmsError);
  });
});
