// CSV answers (usage, a message search): RFC 4180 lines, CRLF-terminated.

/** A value as one CSV cell: quoted when it holds a comma, a quote or a line break. */
export function csvCell(value: unknown): string {
  const s = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Cells as one CSV line, CRLF included. */
export function csvLine(cells: unknown[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}
