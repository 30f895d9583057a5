// CSV answers (usage, a message search): RFC 4180 lines, CRLF-terminated; and the refusal
// of an uploaded CSV the parser could not read.
import { GatewayError } from '../core/index.ts';

/** A value as one CSV cell: quoted when it holds a comma, a quote or a line break. */
export function csvCell(value: unknown): string {
  const s = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Cells as one CSV line, CRLF included. */
export function csvLine(cells: unknown[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** csv-parse's error (an unclosed quote, a row too long) as `400 invalid_csv` with its line; anything else null. */
export function csvRefusal(err: unknown): GatewayError | null {
  const e = err as Error & { code?: unknown; lines?: number };
  if (typeof e?.code !== 'string' || !e.code.startsWith('CSV_')) return null;
  return new GatewayError('invalid_csv', `CSV line ${e.lines ?? '?'}: ${e.message}`, 'csv');
}
