// What the carrier connectors share about message parts: a message that brings its own
// header goes as one part, a message's result from its parts', and the identity under which
// a kept inbound part is stored.
import type { SplitResult } from '../sms/index.ts';
import { dataCodingFor, encodeText } from '../sms/index.ts';
import type { OutboundSms, SubmitResult } from './types.ts';

/** One part carrying the message's own header as it is (an ESME's part of a long message). */
export function withOwnHeader(sms: OutboundSms): SplitResult {
  const payload = sms.binary ?? encodeText(sms.text ?? '', sms.encoding);
  return {
    encoding: sms.encoding,
    dataCoding: dataCodingFor(sms.encoding, { flash: sms.flash }),
    text: sms.text ?? '',
    parts: [{ payload, udh: sms.udh! }],
    segments: 1,
  };
}

/** A kept part's id: unique within its connector, the same when the part comes again. */
export function keptPartId(
  key: string,
  c: { reference: number; sequence: number; referenceBits: 8 | 16 },
): string {
  return `${c.referenceBits}/${c.reference}/${c.sequence}/${key}`;
}

/** What the SMSC made of one part of a message. */
export type PartOutcome =
  | { ok: true; smscId: string }
  | Omit<Extract<SubmitResult, { ok: false }>, 'smscIds'>;

/** A message's result from its parts': all accepted, or the first failure with the ids of those that were. */
export function submitResultOf(outcomes: PartOutcome[]): SubmitResult {
  const accepted = outcomes.flatMap((o) => (o.ok ? [o.smscId] : []));
  const failure = outcomes.find((o) => !o.ok);
  if (failure === undefined) return { ok: true, smscIds: accepted };
  return accepted.length > 0 ? { ...failure, smscIds: accepted } : failure;
}
