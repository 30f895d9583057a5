// Duplicate detection for a batch of millions of numbers in bounded memory: every number
// (E.164 up to 15 digits, or a short code) is one exact double, kept in an open-addressing
// table of a Float64Array filled to three quarters at most — 11 to 21 bytes a number, where
// a Set of strings costs ~100. (Half full at most, 2.4M numbers took a 64 MB table, and 96 MB
// while it grew; the probes a fuller table costs did not show in its time.)

/**
 * The number as a unique non-zero integer below 2^53: its digit count is folded in
 * (10^digits + value) so leading zeros still tell numbers apart; short codes (no `+`) are
 * negative so they never meet an international number.
 */
export function numberKey(number: string): number {
  const international = number.startsWith('+');
  const digits = international ? number.slice(1) : number;
  if (!/^\d{1,15}$/.test(digits)) throw new RangeError(`not a normalised number: ${number}`);
  const key = 10 ** digits.length + Number(digits);
  return international ? key : -key;
}

export class NumberSet {
  #table: Float64Array;
  #mask: number;
  size = 0;

  constructor(expected = 1024) {
    let capacity = 16;
    while (capacity * 3 < expected * 4) capacity *= 2;
    this.#table = new Float64Array(capacity);
    this.#mask = capacity - 1;
  }

  /** Adds a key from numberKey; false when it was already there. */
  add(key: number): boolean {
    if (this.size * 4 >= this.#table.length * 3) this.#grow();
    return this.#insert(this.#table, this.#mask, key);
  }

  has(key: number): boolean {
    const table = this.#table;
    for (let i = slot(key) & this.#mask; ; i = (i + 1) & this.#mask) {
      if (table[i] === 0) return false;
      if (table[i] === key) return true;
    }
  }

  #insert(table: Float64Array, mask: number, key: number): boolean {
    for (let i = slot(key) & mask; ; i = (i + 1) & mask) {
      const there = table[i];
      if (there === key) return false;
      if (there === 0) {
        table[i] = key;
        if (table === this.#table) this.size++;
        return true;
      }
    }
  }

  #grow(): void {
    const old = this.#table;
    const table = new Float64Array(old.length * 2);
    const mask = table.length - 1;
    for (const key of old) if (key !== 0) this.#insert(table, mask, key);
    this.#table = table;
    this.#mask = mask;
  }
}

/** Mixes both 32-bit halves of the key (numbers in a list share their high digits). */
function slot(key: number): number {
  const low = key >>> 0;
  const high = Math.floor(key / 4294967296) | 0;
  let h = Math.imul(low ^ Math.imul(high, 0x85ebca6b), 0x9e3779b1);
  h ^= h >>> 15;
  return h >>> 0;
}
