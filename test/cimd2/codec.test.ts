// The CIMD2 codec against the interface specification's examples: framing, checksum, the
// parameters, and the default character conversion with its special combinations.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Cimd2DecodeError,
  Cimd2EncodeError,
  Cimd2Framer,
  cimd2ToSeptets,
  cimd2ToText,
  decodePacket,
  encodePacket,
  intParam,
  param,
  textToCimd2,
} from '../../src/cimd2/index.ts';
import { decodeGsm7, encodeGsm7 } from '../../src/sms/index.ts';
import { Prng } from '../sms/prng.ts';

test('a login packet is STX, OO:NNN, TAB-ended parameters and ETX, as the spec writes it', () => {
  const bytes = encodePacket({
    operation: 1,
    packetNumber: 1,
    params: [
      [10, 'MyUserId'],
      [11, 'my()'],
    ],
  });
  // The header's octets as the spec lists them: 2 48 49 58 48 48 49 9.
  assert.deepEqual([...bytes.subarray(0, 8)], [2, 48, 49, 58, 48, 48, 49, 9]);
  assert.equal(bytes.toString('latin1'), '\x0201:001\t010:MyUserId\t011:my()\t\x03');
  assert.deepEqual(decodePacket(bytes), {
    operation: 1,
    packetNumber: 1,
    params: [
      [10, 'MyUserId'],
      [11, 'my()'],
    ],
  });
});

test('the checksum sums STX through the last TAB; a wrong one is told apart', () => {
  const packet = { operation: 3, packetNumber: 255, params: [[21, '+358501234567'] as [number, string]] };
  const bytes = encodePacket(packet, { checksum: true });
  const sum = [...bytes.subarray(0, bytes.length - 3)].reduce((a, b) => (a + b) & 0xff, 0);
  assert.equal(
    bytes.toString('latin1', bytes.length - 3, bytes.length - 1),
    sum.toString(16).toUpperCase().padStart(2, '0'),
  );
  assert.deepEqual(decodePacket(bytes), packet);
  const wrong = Buffer.from(bytes);
  wrong[wrong.length - 2] = wrong[wrong.length - 2] === 0x30 ? 0x31 : 0x30;
  assert.throws(
    () => decodePacket(wrong),
    (err: Cimd2DecodeError) => err.badChecksum && err.packetNumber === 255 && err.operation === 3,
  );
});

test('parameters keep their order and repeats; integers read as numbers', () => {
  const p = decodePacket(
    Buffer.from('\x0253:003\t021:+358501234567\t060:970406103045\t900:300\t\x03', 'latin1'),
  );
  assert.equal(p.operation, 53);
  assert.equal(param(p, 21), '+358501234567');
  assert.equal(param(p, 60), '970406103045');
  assert.equal(intParam(p, 900), 300);
  assert.equal(param(p, 33), undefined);
  // The spec's binary example: six octets in user data binary.
  const b = decodePacket(Buffer.from('\x0203:007\t021:123\t034:0500032a0301\t\x03', 'latin1'));
  assert.equal(Buffer.from(param(b, 34)!, 'hex').length, 6);
});

test('malformed packets are refused with what is wrong', () => {
  assert.throws(() => decodePacket(Buffer.from('\x021:001\t\x03', 'latin1')), /header/);
  assert.throws(() => decodePacket(Buffer.from('\x0201:001\t10:x\t\x03', 'latin1')), /PPP:value/);
  assert.throws(() => decodePacket(Buffer.from('\x0201:001\t010:x\tZZZ\x03', 'latin1')), /checksum/);
  assert.throws(
    () => encodePacket({ operation: 3, packetNumber: 1, params: [[33, 'a\tb']] }),
    Cimd2EncodeError,
  );
  assert.throws(() => encodePacket({ operation: 100, packetNumber: 1, params: [] }), Cimd2EncodeError);
});

test('the framer cuts a stream at ETX, skips what lies between packets, and restarts at a new STX', () => {
  const framer = new Cimd2Framer(64);
  const a = encodePacket({ operation: 40, packetNumber: 1, params: [] });
  const b = encodePacket({ operation: 90, packetNumber: 1, params: [] });
  const stream = Buffer.concat([Buffer.from('noise'), a, Buffer.from('\r\n'), b]);
  const frames = [...framer.push(stream.subarray(0, 9)), ...framer.push(stream.subarray(9))];
  assert.deepEqual(frames, [a, b]);
  // A packet that lost its ETX is dropped at the next STX.
  assert.deepEqual(framer.push(Buffer.concat([Buffer.from('\x0240:003\t'), a])), [a]);
  assert.throws(() => framer.push(Buffer.concat([Buffer.of(2), Buffer.alloc(100, 0x41)])), /no ETX/);
});

test("character conversion: the spec's 7-bit example and every GSM character round-trip", () => {
  // Example 22 of the spec: the first GSM characters through special combinations.
  assert.equal(textToCimd2('@£$¥èéùìòÇ'), "_Oa_L-$_Y-_e`_e'_u`_i`_o`_C,");
  assert.equal(cimd2ToText("_Oa_L-$_Y-_e`_e'_u`_i`_o`_C,"), '@£$¥èéùìòÇ');
  // Example 21: the same over an 8-bit link, ISO 8859-1 octets as they are.
  assert.equal(
    cimd2ToText(Buffer.from([64, 163, 36, 165, 232, 233, 249, 236, 242, 199]).toString('latin1')),
    '@£$¥èéùìòÇ',
  );
  const all =
    '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
  const wire = textToCimd2(all)!;
  assert.match(wire, /^[\x0a\x0d\x20-\x7e]*$/, 'only printable ASCII (and CR/LF) on the wire');
  assert.equal(cimd2ToText(wire), all);
  assert.deepEqual(cimd2ToSeptets(wire), encodeGsm7(all));
});

test('character conversion: the extension table travels behind _XX', () => {
  assert.equal(textToCimd2('€'), '_XXe');
  assert.equal(textToCimd2('{}'), '_XX(_XX)');
  assert.equal(textToCimd2('[~]\\^|'), '_XX<_XX=_XX>_XX/_XX_gl_XX_!!');
  assert.equal(cimd2ToText('_XXe_XX(_XX)_XX<_XX=_XX>_XX/_XX_gl_XX_!!'), '€{}[~]\\^|');
  assert.equal(textToCimd2('emoji 😀'), undefined, 'not in the GSM alphabet');
});

test('character conversion: what the wire may hold besides the table reads sensibly', () => {
  // The ISO 646 Nordic positions, as Nokia's table and Kannel read them.
  assert.equal(cimd2ToText('[\\]{|}'), 'ÄÖÅäöå');
  // A lone underscore, and one that starts no known combination, are underscores.
  assert.equal(cimd2ToText('a_b'), 'a_b');
  assert.equal(cimd2ToText('_zz_'), '_zz_');
  assert.equal(cimd2ToText('_--'), '_');
  assert.equal(cimd2ToText('_qq'), '"');
  assert.equal(decodeGsm7(cimd2ToSeptets('\u20ac')), '?', 'a character GSM lacks becomes ?');
});

test('random streams: the framer and decoder throw nothing but their own errors, and what decodes re-encodes the same', () => {
  const prng = new Prng(0xc1d2);
  const alphabet = [...'\x02\x03\t:0123456789_AF', 'x', '\x00', '\xff'];
  let decoded = 0;
  for (let round = 0; round < 2_000; round++) {
    // Half the rounds: a valid packet with a few octets changed; the others: noise.
    const length = prng.int(60);
    const bytes =
      round % 2 === 0
        ? encodePacket(
            {
              operation: 3,
              packetNumber: prng.int(256),
              params: [
                [21, '447700900001'],
                [33, 'hi _Oa'],
              ],
            },
            { checksum: prng.int(2) === 1 },
          )
        : Buffer.from(Array.from({ length }, () => prng.pick(alphabet)).join(''), 'latin1');
    if (round % 2 === 0) {
      for (let i = prng.int(3); i > 0; i--) bytes[prng.int(bytes.length)] = prng.pick(alphabet).charCodeAt(0);
    }
    const framer = new Cimd2Framer(40);
    let frames: Buffer[] = [];
    try {
      frames = framer.push(bytes);
    } catch (err) {
      assert.ok(err instanceof Cimd2DecodeError, `round ${round}: ${String(err)}`);
    }
    for (const frame of frames) {
      try {
        const packet = decodePacket(frame);
        assert.deepEqual(decodePacket(encodePacket(packet)), packet, `round ${round}`);
        decoded++;
      } catch (err) {
        assert.ok(
          err instanceof Cimd2DecodeError || err instanceof Cimd2EncodeError,
          `round ${round}: ${String(err)}`,
        );
      }
    }
  }
  assert.ok(decoded > 200, `${decoded} packets decoded`);
});
