// Live delivery quality per connector and destination country, measured from receipts: the
// share of the last receipts that said delivered, and how long they took after the submit.
// Least-cost rules with `quality` weigh their costs by it; /metrics and the admin API show it.
import { countryOfNumber } from './numbers.ts';

/** Receipts remembered per connector and country: the window the figures are taken over. */
export const qualityWindow = 100;

export interface QualityFigures {
  connector: string;
  /** ISO 3166 code of the destinations; `''` for numbers without one (short codes). */
  country: string;
  /** Receipts in the window (at most qualityWindow). */
  receipts: number;
  /** Share of them that said delivered (0..1). */
  deliveryRatio: number;
  /** Mean time from submit to a delivered receipt, ms; null when none was delivered. */
  receiptLatencyMs: number | null;
}

/** A ring of the last receipts' outcomes (delivered or not) and latencies. */
class Window {
  readonly delivered = new Uint8Array(qualityWindow);
  readonly latency = new Float64Array(qualityWindow);
  size = 0;
  next = 0;
  deliveredCount = 0;
  latencySum = 0;

  add(delivered: boolean, latencyMs: number): void {
    if (this.size === qualityWindow) {
      // The oldest leaves the window.
      if (this.delivered[this.next]) {
        this.deliveredCount--;
        this.latencySum -= this.latency[this.next]!;
      }
    } else {
      this.size++;
    }
    this.delivered[this.next] = delivered ? 1 : 0;
    this.latency[this.next] = delivered ? latencyMs : 0;
    if (delivered) {
      this.deliveredCount++;
      this.latencySum += latencyMs;
    }
    this.next = (this.next + 1) % qualityWindow;
  }
}

export class RouteQuality {
  /** By `connector\0country`. */
  readonly #windows = new Map<string, Window>();

  /** A final receipt for a message to `to`, sent by `connectorId`, `latencyMs` after its submit. */
  record(connectorId: string, to: string, delivered: boolean, latencyMs: number): void {
    const key = `${connectorId}\0${countryOfNumber(to) ?? ''}`;
    let w = this.#windows.get(key);
    if (!w) {
      w = new Window();
      this.#windows.set(key, w);
    }
    w.add(delivered, Math.max(0, latencyMs));
  }

  /** The figures of one connector for one country; undefined before its first receipt. */
  of(connectorId: string, country: string): QualityFigures | undefined {
    const w = this.#windows.get(`${connectorId}\0${country}`);
    return w ? figures(connectorId, country, w) : undefined;
  }

  /** Every connector and country with receipts. */
  list(): QualityFigures[] {
    return [...this.#windows].map(([key, w]) => {
      const [connector, country] = key.split('\0') as [string, string];
      return figures(connector, country, w);
    });
  }
}

function figures(connector: string, country: string, w: Window): QualityFigures {
  return {
    connector,
    country,
    receipts: w.size,
    deliveryRatio: w.size === 0 ? 0 : w.deliveredCount / w.size,
    receiptLatencyMs: w.deliveredCount === 0 ? null : Math.round(w.latencySum / w.deliveredCount),
  };
}
