// CSV answers (usage, a message search): RFC 4180 lines, CRLF-terminated; the parser of
// uploaded CSV and the refusal of one it could not read.
import { createRequire } from 'node:module';
import type { Options, Parser } from 'csv-parse';
import { GatewayError } from '../core/index.ts';

// csv-parse is loaded by the first upload that needs it: an idle gateway holds none of it.
const require = createRequire(import.meta.url);

/** A csv-parse stream: bytes or text in, records out. */
export function csvParser(options: Options): Parser {
  return (require('csv-parse') as typeof import('csv-parse')).parse(options);
}

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
