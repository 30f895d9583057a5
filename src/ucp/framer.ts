// Cuts a TCP byte stream into UCP frames: from an STX to the next ETX. Octets outside a
// frame are skipped (line noise); a frame longer than LEN can say is dropped and the
// search starts again at the next STX.
import { ETX, maxFrameLength, STX } from './codec.ts';

export class UcpFramer {
  readonly #onFrame: (body: Buffer) => void;
  readonly #onOverlong: () => void;
  #parts: Buffer[] = [];
  #have = 0;
  #inFrame = false;

  /** `onFrame` gets the octets between STX and ETX. */
  constructor(onFrame: (body: Buffer) => void, onOverlong: () => void = () => {}) {
    this.#onFrame = onFrame;
    this.#onOverlong = onOverlong;
  }

  /** Octets held for a frame that has not ended yet. */
  get buffered(): number {
    return this.#have;
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (!this.#inFrame) {
        const start = chunk.indexOf(STX, at);
        if (start < 0) return;
        this.#inFrame = true;
        at = start + 1;
        continue;
      }
      const end = chunk.indexOf(ETX, at);
      const stop = end < 0 ? chunk.length : end;
      // A new STX inside a frame means the one before was cut off: start over from it.
      const restart = chunk.subarray(at, stop).indexOf(STX);
      if (restart >= 0) {
        this.#reset();
        at += restart;
        this.#inFrame = false;
        continue;
      }
      const piece = chunk.subarray(at, stop);
      this.#have += piece.length;
      if (this.#have > maxFrameLength) {
        this.#reset();
        this.#inFrame = false;
        this.#onOverlong();
        at = stop;
        continue;
      }
      this.#parts.push(Buffer.from(piece));
      if (end < 0) return;
      const body = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts);
      this.#reset();
      this.#inFrame = false;
      at = end + 1;
      this.#onFrame(body);
    }
  }

  #reset(): void {
    this.#parts = [];
    this.#have = 0;
  }
}
