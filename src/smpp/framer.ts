// Cuts a TCP byte stream into PDUs. A PDU that lies wholly within a chunk is decoded where
// it lies (its Buffers are views of the chunk); only a PDU that straddles chunks is copied,
// into a buffer of exactly its command_length. So at most one PDU, of at most
// maxPduLength octets, is ever held.

import { decodePduAt, SmppDecodeError } from './codec.ts';
import { CommandStatus } from './constants.ts';
import type { Pdu } from './pdu.ts';

/**
 * Called synchronously from push, in stream order. They should not throw: an exception
 * leaves push with the rest of that chunk unread.
 */
export interface FramerHandlers {
  pdu(pdu: Pdu): void;
  /**
   * The header was readable, the body was not, or the command is unknown: answer it
   * (generic_nack or the command's response, with err.status) and keep going.
   */
  invalid(err: SmppDecodeError): void;
  /**
   * command_length below 16 or above maxPduLength: there is no telling where the next PDU
   * starts, so the stream is lost; close the connection. The framer ignores any further input.
   */
  fatal(err: Error): void;
}

export interface FramerOptions {
  /**
   * Largest command_length accepted. Default 69,632: a data_sm or submit_sm carrying a
   * full 65,535-octet message_payload plus its mandatory fields and a few other TLVs.
   */
  maxPduLength?: number;
}

export const defaultMaxPduLength = 65536 + 4096;

const headerLength = 16;

export class PduFramer {
  readonly #handlers: FramerHandlers;
  readonly #maxPduLength: number;
  /** The first octets of a straddling PDU while its command_length is still incomplete. */
  readonly #lengthBytes = Buffer.alloc(4);
  #lengthHave = 0;
  /** The straddling PDU, once its length is known, and how much of it has arrived. */
  #partial: Buffer | null = null;
  #partialHave = 0;
  #dead = false;

  constructor(handlers: FramerHandlers, options: FramerOptions = {}) {
    this.#handlers = handlers;
    this.#maxPduLength = options.maxPduLength ?? defaultMaxPduLength;
  }

  /** Octets held for a PDU that has not fully arrived. */
  get buffered(): number {
    return this.#partial === null ? this.#lengthHave : this.#partialHave;
  }

  push(chunk: Buffer): void {
    if (this.#dead) return;
    let offset = 0;
    const size = chunk.length;

    // Finish the PDU that straddles into this chunk.
    if (this.#lengthHave > 0 || this.#partial !== null) {
      offset = this.#continue(chunk);
      if (offset < 0) return;
    }

    // Fast path: every PDU that lies wholly within the chunk is decoded in place.
    while (size - offset >= 4) {
      const length = chunk.readUInt32BE(offset);
      if (!this.#lengthOk(length)) return;
      if (size - offset < length) break;
      this.#dispatch(chunk, offset, length);
      offset += length;
    }

    // Keep the start of the next PDU.
    const rest = size - offset;
    if (rest === 0) return;
    if (rest < 4) {
      chunk.copy(this.#lengthBytes, 0, offset, size);
      this.#lengthHave = rest;
      return;
    }
    this.#partial = Buffer.allocUnsafe(chunk.readUInt32BE(offset));
    this.#partialHave = chunk.copy(this.#partial, 0, offset, size);
  }

  /** Feeds the straddling PDU; returns where the chunk's unread bytes start, or -1 when it is used up. */
  #continue(chunk: Buffer): number {
    let offset = 0;
    if (this.#partial === null) {
      const take = Math.min(4 - this.#lengthHave, chunk.length);
      chunk.copy(this.#lengthBytes, this.#lengthHave, 0, take);
      this.#lengthHave += take;
      offset = take;
      if (this.#lengthHave < 4) return -1;
      const length = this.#lengthBytes.readUInt32BE(0);
      this.#lengthHave = 0;
      if (!this.#lengthOk(length)) return -1;
      this.#partial = Buffer.allocUnsafe(length);
      this.#lengthBytes.copy(this.#partial, 0);
      this.#partialHave = 4;
    }
    const partial = this.#partial;
    const copied = chunk.copy(partial, this.#partialHave, offset);
    this.#partialHave += copied;
    offset += copied;
    if (this.#partialHave < partial.length) return -1;
    this.#partial = null;
    this.#partialHave = 0;
    this.#dispatch(partial, 0, partial.length);
    return offset;
  }

  #lengthOk(length: number): boolean {
    if (length >= headerLength && length <= this.#maxPduLength) return true;
    this.#dead = true;
    this.#partial = null;
    this.#partialHave = 0;
    this.#lengthHave = 0;
    this.#handlers.fatal(
      new SmppDecodeError(
        0,
        0,
        CommandStatus.ESME_RINVCMDLEN,
        `command_length ${length} is outside 16–${this.#maxPduLength}; the stream cannot be followed`,
      ),
    );
    return false;
  }

  #dispatch(buf: Buffer, offset: number, length: number): void {
    let pdu: Pdu;
    try {
      pdu = decodePduAt(buf, offset, length);
    } catch (err) {
      this.#handlers.invalid(
        err instanceof SmppDecodeError
          ? err
          : new SmppDecodeError(
              buf.readUInt32BE(offset + 4),
              buf.readUInt32BE(offset + 12),
              CommandStatus.ESME_RSYSERR,
              `the PDU could not be decoded: ${(err as Error).message}`,
            ),
      );
      return;
    }
    this.#handlers.pdu(pdu);
  }
}
