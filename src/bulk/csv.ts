// Recipients from a CSV, read as it streams in: the header row names the columns (`to`,
// then the template's variables), each further row is one recipient. Nothing is kept but
// the row being read, so a million-row upload needs no more memory than a ten-row one.
import { pipeline, type Readable } from 'node:stream';
import { csvParser, csvRefusal, uploadStream } from '../api/index.ts';
import { GatewayError } from '../core/index.ts';

export interface RecipientRow {
  to: string;
  vars: Record<string, string>;
}

/** Names the number column may have; the first one found is used. */
const numberColumns = ['to', 'number', 'phone', 'msisdn', 'mobile'];
/** A longer row is refused rather than buffered (a missing quote swallows the file). */
const maxRowBytes = 64 * 1024;

/**
 * Rows of a CSV (text or a byte stream) as recipients. The variables a template needs must
 * be columns (`variables`), checked against the header before any row is read.
 */
export async function* csvRecipients(
  source: string | Readable,
  variables: readonly string[],
): AsyncGenerator<RecipientRow> {
  const parser = csvParser({
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    max_record_size: maxRowBytes,
  });
  // A string goes in slices, taken as the rows are: given whole, every row would be parsed
  // and held at once (2.4M rows of a 36 MB `csv` field took the gateway to 954 MB).
  // pipeline destroys the parser with the source's error (a client that went away).
  pipeline(
    typeof source === 'string' ? uploadStream(source, Number.POSITIVE_INFINITY) : source,
    parser,
    () => {},
  );
  let header: string[] | null = null;
  let to = -1;
  try {
    for await (const row of parser as AsyncIterable<string[]>) {
      if (header === null) {
        header = row;
        const lower = row.map((c) => c.toLowerCase());
        to = numberColumns.reduce((found, name) => (found >= 0 ? found : lower.indexOf(name)), -1);
        if (to < 0)
          throw new GatewayError(
            'invalid_csv',
            `the header row must name the number column (${numberColumns.join(', ')})`,
            'csv',
          );
        const missing = variables.filter((v) => !row.includes(v));
        if (missing.length > 0)
          throw new GatewayError(
            'unknown_variable',
            `the text uses ${missing.map((v) => `{{${v}}}`).join(', ')}, which the CSV header does not name`,
            'text',
          );
        continue;
      }
      const vars: Record<string, string> = {};
      for (let i = 0; i < header.length; i++) vars[header[i]!] = row[i] ?? '';
      yield { to: row[to] ?? '', vars };
    }
  } catch (err) {
    throw csvRefusal(err) ?? err;
  } finally {
    parser.destroy();
  }
  if (header === null) throw new GatewayError('invalid_csv', 'the CSV is empty: no header row', 'csv');
}
