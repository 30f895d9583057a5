// Money is kept exact: integer micro-units (millionths of the currency's main unit) inside,
// JSON numbers in the main unit outside (CONTRACT §8.1).

const microsPerUnit = 1_000_000;

export function toMicros(amount: number): number {
  return Math.round(amount * microsPerUnit);
}

export function fromMicros(micros: number): number {
  return micros / microsPerUnit;
}
