// Property tests over random input from a seeded PRNG (seeds are printed on failure): split
// then reassemble in shuffled order with duplicates gives the text back, parts respect the
// size of an SMS and never cut an escape or a surrogate pair, and the 7-bit packing and the
// encodings round-trip.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NationalLanguage, SplitOptions } from '../../src/sms/index.ts';
import {
  calculateSegments,
  countSegments,
  decodeText,
  encodeText,
  NATIONAL_LANGUAGES,
  packSeptets,
  parseUdh,
  Reassembler,
  splitMessage,
  udhFillBits,
  unpackSeptets,
} from '../../src/sms/index.ts';
import { Prng } from './prng.ts';

// Pieces random texts are made of: GSM characters, extension characters, letters of national
// tables, other scripts, combining marks, surrogate pairs, emoji sequences.
const pools: string[][] = [
  [...'abcdefghijklmnopqrstuvwxyz ABCXYZ 0123456789 .,;:!?'],
  [...'@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¡ÄÖÑÜ§¿äöñüà'],
  [...'{}[]~\\|^€\f'],
  [...'ğĞşŞıİçáíóúÁÍÓÚêÊôÔãõâÂÀ'],
  [...'ЖжПриветмир你好世界こんにちはمرحباשלום'],
  ['नमस्ते', 'क्ष', 'ি', 'e\u0301', 'a\u0308\u0323', 'か\u3099'],
  ['😀', '🙏', '𝄞', '👍🏽', '🇬🇧', '1️⃣', '👨‍👩‍👧‍👦', '🧑‍🤝‍🧑', '🏳️‍🌈'],
  ['“', '”', '–', '…', '\u00a0'],
];

function randomText(prng: Prng): string {
  // Mostly one or two pools, so that GSM-only texts are common.
  const chosen = [prng.pick(pools), prng.int(3) === 0 ? prng.pick(pools) : pools[0]!];
  const length = prng.pick([0, 1, 5, 70, 150, 160, 161, 200, 320, 700]) + prng.int(20);
  let text = '';
  while (text.length < length) text += prng.pick(prng.pick(chosen));
  return text;
}

function randomOptions(prng: Prng): SplitOptions {
  const languages: NationalLanguage[] = [];
  if (prng.int(3) === 0)
    for (let i = prng.int(3) + 1; i > 0; i--) languages.push(prng.pick(NATIONAL_LANGUAGES));
  return {
    mode: prng.pick(['udh', 'sar'] as const),
    referenceBits: prng.pick([8, 16] as const),
    reference: prng.int(0x10000),
    smartReplace: prng.int(2) === 0,
    nationalLanguages: languages,
    maxParts: 255,
  };
}

/** Octets a part takes on the air, with the concatenation IE the SMSC adds for SAR. */
function airOctets(
  part: { payload: Buffer; udh?: Buffer; sar?: unknown },
  encoding: string,
  bits: 8 | 16,
): number {
  let header = part.udh?.length ?? 0;
  if (part.sar) header += (header === 0 ? 1 : 0) + (bits === 16 ? 6 : 5);
  if (encoding === 'gsm7') return header + Math.ceil((udhFillBits(header) + part.payload.length * 7) / 8);
  return header + part.payload.length;
}

describe('properties', () => {
  test('split, shuffle, duplicate, reassemble: the text comes back', () => {
    for (let seed = 1; seed <= 600; seed++) {
      const prng = new Prng(seed);
      const text = randomText(prng);
      const options = randomOptions(prng);
      const where = `seed ${seed}`;
      const split = splitMessage(text, options);
      if (!options.smartReplace) assert.equal(split.text, text, where);
      assert.equal(split.segments, split.parts.length, where);
      assert.equal(calculateSegments(text, options).segments, split.segments, where);
      assert.deepEqual(
        countSegments(text, options),
        { encoding: split.encoding, segments: split.segments },
        where,
      );

      for (const part of split.parts) {
        assert.ok(airOctets(part, split.encoding, options.referenceBits!) <= 140, where);
        if (split.encoding === 'gsm7') assert.notEqual(part.payload.at(-1), 0x1b, where);
        if (split.encoding === 'ucs2' && part.payload.length >= 2) {
          const first = part.payload.readUInt16BE(0);
          assert.ok(first < 0xdc00 || first > 0xdfff, `${where}: part starts with a low surrogate`);
        }
      }

      const deliveries = split.parts.map((part) => ({ part }));
      if (deliveries.length > 1) for (let i = prng.int(4); i > 0; i--) deliveries.push(prng.pick(deliveries));
      prng.shuffle(deliveries);
      const r = new Reassembler();
      const results = deliveries.map(({ part }) => {
        if (part.sar) return r.addSarPart('k', part.payload, split.dataCoding, part.sar);
        const shortMessage = part.udh ? Buffer.concat([part.udh, part.payload]) : part.payload;
        if (part.udh) return r.addUdhPart('k', shortMessage, split.dataCoding);
        return { text: decodeText(shortMessage, split.encoding) };
      });
      const done = results.filter((x) => x !== undefined);
      assert.equal(done.length, 1, `${where}: one message`);
      assert.equal(done[0]!.text, split.text, where);
      assert.equal(r.pending, 0, where);
    }
  });

  test('part sizes use the room: every part but the last is nearly full', () => {
    for (let seed = 1000; seed < 1200; seed++) {
      const prng = new Prng(seed);
      const text = randomText(prng);
      const split = splitMessage(text, { maxParts: 255 });
      for (const part of split.parts.slice(0, -1)) {
        // Only an escape (1 septet), a surrogate pair or a grapheme cluster kept whole
        // (up to 11 units in the pools) can leave room unused.
        const room = split.encoding === 'gsm7' ? 153 - part.payload.length : 67 - part.payload.length / 2;
        assert.ok(room >= 0 && room <= 10, `seed ${seed}: ${room} left`);
      }
    }
  });

  test('7-bit packing round-trips for any septets and fill bits', () => {
    const prng = new Prng(77);
    for (let i = 0; i < 2000; i++) {
      const septets = Buffer.alloc(prng.int(300));
      for (let j = 0; j < septets.length; j++) septets[j] = prng.int(128);
      const fill = prng.int(7);
      const packed = packSeptets(septets, fill);
      assert.equal(packed.length, Math.ceil((fill + septets.length * 7) / 8));
      assert.deepEqual(unpackSeptets(packed, septets.length, fill), septets, `case ${i}`);
    }
  });

  test('encodeText and decodeText round-trip', () => {
    const prng = new Prng(4242);
    for (let i = 0; i < 1000; i++) {
      const gsmText = Array.from({ length: prng.int(100) }, () =>
        prng.pick(prng.pick(pools.slice(0, 3))),
      ).join('');
      assert.equal(decodeText(encodeText(gsmText, 'gsm7'), 'gsm7'), gsmText);
      const any = randomText(prng);
      assert.equal(decodeText(encodeText(any, 'ucs2'), 'ucs2'), any);
      const lang = prng.pick(NATIONAL_LANGUAGES);
      const shift = lang === 'es' ? { singleShift: lang } : { lockingShift: lang, singleShift: lang };
      const national = [...'abc ABC 123 {}[]'].filter(() => prng.int(2) === 0).join('');
      assert.equal(decodeText(encodeText(national, 'gsm7', shift), 'gsm7', shift), national);
    }
  });

  test('what buildUdh writes, parseUdh reads', () => {
    const prng = new Prng(9);
    for (let i = 0; i < 500; i++) {
      const split = splitMessage('x'.repeat(200 + prng.int(2000)), {
        reference: prng.int(0x10000),
        referenceBits: prng.pick([8, 16] as const),
        maxParts: 255,
      });
      split.parts.forEach((part, index) => {
        const parsed = parseUdh(part.udh!)!;
        assert.deepEqual(
          [parsed.concat!.reference, parsed.concat!.total, parsed.concat!.sequence],
          [split.reference, split.parts.length, index + 1],
        );
      });
    }
  });
});
