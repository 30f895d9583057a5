// The inbound side of a carrier connector (SMPP, UCP, CIMD2): parts reassembled, kept by the
// sink until their set completes (when it can keep them), whole messages handed to the sink,
// and the work still under way, which a stop waits for.
import { BoundedMap, stringBytes } from '../core/index.ts';
import type { ReassembledMessage } from '../sms/index.ts';
import { parseUdh, Reassembler } from '../sms/index.ts';
import type { ConnectorLogger } from './logger.ts';
import { keptPartId } from './parts.ts';
import type { ConnectorSink, InboundSms } from './types.ts';

/**
 * Completed long messages the sink refused, kept for the peer's redelivery of the last part:
 * bytes, not a count, as a message's length is the peer's to choose (up to 255 parts).
 */
const maxRefusedBytes = 16 * 2 ** 20;

export interface InboundPart {
  /** Sender and receiver, `from\u0000to`, as the reassembler keys its sets. */
  key: string;
  /** The part's identity: the same when the peer sends the very same part again. */
  id: string;
  /** The short message as received (with its UDH when `udh`). */
  body: Buffer;
  dataCoding: number;
  udh: boolean;
  /** The SAR fields of a SAR part (SMPP), else null. */
  sar: { reference: number; total: number; sequence: number } | null;
}

export interface InboundSetup {
  connectorId: string;
  sink: ConnectorSink;
  log: ConnectorLogger;
  /** How long the parts of a long message are waited for before it goes on incomplete (5 minutes when not given). */
  reassemblyTimeoutMs: number | undefined;
  /** What the log calls the other end ("SMSC", "SMS centre"). */
  peer: string;
}

export class InboundParts {
  readonly #setup: InboundSetup;
  #reassembler: Reassembler;
  readonly #work = new Set<Promise<void>>();
  /** Keyed by the exact last part that completed them, which the peer sends again. */
  readonly #refused = new BoundedMap<string, InboundSms>(
    maxRefusedBytes,
    (id, sms) =>
      200 +
      stringBytes(id) +
      stringBytes(sms.from) +
      stringBytes(sms.to) +
      stringBytes(sms.text) +
      (sms.binary?.length ?? 0),
  );

  constructor(setup: InboundSetup) {
    this.#setup = setup;
    this.#reassembler = this.#newReassembler();
  }

  #newReassembler(): Reassembler {
    const timeoutMs = this.#setup.reassemblyTimeoutMs ?? 300_000;
    return new Reassembler({
      timeoutMs,
      sweepIntervalMs: Math.min(10_000, Math.max(10, timeoutMs / 4)),
      onExpire: (message) => this.track(this.#deliverSet(message)),
    });
  }

  /** A fresh reassembler, for a start after a stop. */
  renew(): void {
    this.#reassembler = this.#newReassembler();
  }

  /** Work a stop waits for (an answer to the peer, a set handed over). */
  track(work: Promise<void>): void {
    this.#work.add(work);
    void work.then(() => this.#work.delete(work));
  }

  /**
   * Takes a part: true when the peer is to be acknowledged, false when the part or the
   * message it completed was not kept and the peer is to send it again.
   */
  async receive(part: InboundPart): Promise<boolean> {
    const { key, body, dataCoding, sar } = part;
    const { connectorId, sink, log, peer } = this.#setup;
    const concat = part.udh
      ? parseUdh(body)?.concat
      : sar
        ? { ...sar, referenceBits: 16 as const }
        : undefined;
    // The peer sends the very same part again after a refusal; by then the reassembler has
    // closed its set, so the message it completed is kept under the part's identity.
    let sms = this.#refused.get(part.id);
    let completed: ReassembledMessage | undefined;
    if (sms !== undefined) {
      this.#refused.delete(part.id);
    } else {
      let done: ReassembledMessage | undefined;
      if (part.udh) done = this.#reassembler.addUdhPart(key, body, dataCoding);
      else if (sar !== null) done = this.#reassembler.addSarPart(key, body, dataCoding, sar);
      else done = this.#reassembler.add(key, { reference: 0, total: 1, sequence: 1 }, body, dataCoding);
      if (done === undefined) {
        // Kept until the other parts come: on disk before it is acknowledged, if the sink can.
        if (concat && sink.parts) {
          try {
            await sink.parts.keep(connectorId, { id: keptPartId(key, concat), key, body, dataCoding, sar });
          } catch (err) {
            log.warn(
              { connector: connectorId, err },
              `part of a long inbound message not kept; the ${peer} will retry`,
            );
            return false;
          }
        }
        return true;
      }
      sms = inboundSmsOf(this.#setup.connectorId, done);
      if (concat) completed = done;
    }
    try {
      await sink.inbound(sms);
      if (completed) await this.#forgetParts(completed);
      return true;
    } catch (err) {
      log.warn(
        { connector: connectorId, from: sms.from, err },
        `sink refused an inbound message; the ${peer} will retry`,
      );
      if (sms.segments > 1) this.#refused.set(part.id, sms);
      return false;
    }
  }

  /** Parts kept before a restart go back into the reassembler; a set they complete goes on. */
  async replayKept(): Promise<void> {
    const { connectorId, sink } = this.#setup;
    if (!sink.parts) return;
    for (const part of await sink.parts.kept(connectorId)) {
      const done = part.sar
        ? this.#reassembler.addSarPart(part.key, part.body, part.dataCoding, part.sar)
        : this.#reassembler.addUdhPart(part.key, part.body, part.dataCoding);
      if (done) this.track(this.#deliverSet(done));
    }
  }

  /** At a stop: waits for the work under way, once the sets still open are dealt with. */
  async close(): Promise<void> {
    // Their parts were acknowledged already: kept durably they wait for the next start;
    // held in memory only, what came is handed over rather than lost.
    if (!this.#setup.sink.parts) this.#reassembler.flush();
    this.#reassembler.close();
    await Promise.allSettled([...this.#work]);
  }

  /** A set that timed out incomplete, or was completed by kept parts: handed over, then forgotten. */
  async #deliverSet(message: ReassembledMessage): Promise<void> {
    const { connectorId, sink, log } = this.#setup;
    const sms = inboundSmsOf(this.#setup.connectorId, message);
    if (!message.complete) {
      log.warn(
        { connector: connectorId, from: sms.from, parts: message.parts, missing: message.missing },
        'long inbound message incomplete; handing over the parts that came',
      );
    }
    try {
      await sink.inbound(sms);
      await this.#forgetParts(message);
    } catch (err) {
      log.error(
        { connector: connectorId, from: sms.from, err },
        'incomplete inbound message lost: the sink refused it',
      );
    }
  }

  /** The kept parts of a set handed over (the reference size is not in `message`: both). */
  async #forgetParts(message: ReassembledMessage): Promise<void> {
    const { connectorId, sink } = this.#setup;
    if (!sink.parts) return;
    const ids: string[] = [];
    for (let sequence = 1; sequence <= message.total; sequence++) {
      for (const referenceBits of [8, 16] as const) {
        ids.push(keptPartId(message.key, { reference: message.reference, sequence, referenceBits }));
      }
    }
    await sink.parts.forget(connectorId, ids);
  }
}

/** A reassembled message (keyed `from\u0000to`) as the sink takes it. */
export function inboundSmsOf(connectorId: string, message: ReassembledMessage): InboundSms {
  const [from, to] = message.key.split('\u0000') as [string, string];
  const binary = message.encoding === 'binary';
  return {
    connectorId,
    from,
    to,
    text: binary ? null : message.text,
    binary: binary ? message.payload : null,
    encoding: message.encoding,
    segments: message.parts,
    complete: message.complete,
    receivedAt: Date.now(),
  };
}
