// Encoding choice and segment counts against an independent implementation, the npm
// `sms-segments-calculator` (Twilio's segment calculator), over a corpus of texts.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { calculateSegments, splitMessage } from '../../src/sms/index.ts';
import { corpus, intentionalDifferences } from './corpus.ts';

const { SegmentedMessage } = createRequire(import.meta.url)('sms-segments-calculator') as {
  SegmentedMessage: new (text: string) => { encodingName: 'GSM-7' | 'UCS-2'; segmentsCount: number };
};

function theirs(text: string): { encoding: string; segments: number } {
  const message = new SegmentedMessage(text);
  return { encoding: message.encodingName === 'GSM-7' ? 'gsm7' : 'ucs2', segments: message.segmentsCount };
}

describe('corpus against sms-segments-calculator', () => {
  test('the corpus has at least 60 texts', () => {
    assert.ok(corpus.length >= 60, `${corpus.length} texts`);
  });

  for (const { name, text } of corpus) {
    test(name, () => {
      const ours = calculateSegments(text);
      assert.deepEqual({ encoding: ours.encoding, segments: ours.segments }, theirs(text));
      // splitMessage agrees with calculateSegments.
      const split = splitMessage(text, { maxParts: 255 });
      assert.equal(split.parts.length, ours.segments);
      assert.equal(split.encoding, ours.encoding);
    });
  }

  for (const { name, text, ours, theirs: expected } of intentionalDifferences) {
    test(`intentional difference: ${name}`, () => {
      assert.equal(calculateSegments(text).segments, ours);
      assert.equal(theirs(text).segments, expected);
    });
  }
});
