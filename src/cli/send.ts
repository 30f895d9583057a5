// `smsgw send` (CONTRACT §7): a batch from a CSV, or one message, through a running
// gateway's REST API — the CSV streamed up as it is read, with a progress bar for the upload
// and one for delivery, and a summary at the end.
import { createReadStream, statSync } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { parseArgs } from 'node:util';

const help = `usage: smsgw send (--csv FILE | --to NUMBER) --text TEXT [options]

Sends through a running gateway: a batch to every row of a CSV (its header row names the
number column, \`to\`, and the variables the text uses: "Hi {{name}}"), or one message.

options:
  --url URL             the gateway (default $SMSGW_URL, else http://127.0.0.1:8080)
  --key KEY             the account's API key (default $SMSGW_API_KEY)
  --text TEXT           the message; {{column}} takes the recipient's value
  --from SENDER         sender id or number (default: the account's)
  --csv FILE            recipients, uploaded as the file is read
  --to NUMBER           one recipient
  --priority P          emergency | otp | transactional | bulk (batches default to bulk)
  --send-at TIME        send later (ISO 8601)
  --country CC          country of numbers written without one (e.g. GB)
  --mps N               batch pace, messages a second
  --quiet-hours A-B     no messages between these local times (e.g. 21:00-08:00)
  --tags A,B            tags for routing (match.tags), comma-separated
  --dry-run             counts, encodings, segments and routes; nothing is sent
  --no-wait             stop once the gateway has accepted (prints the id)
  --receipts SECONDS    after sending, wait this long for delivery receipts (default 30)
  --timeout SECONDS     give up waiting after this long (default 86400)
`;

type Values = Record<string, string | boolean | undefined>;

export async function sendCommand(argv: string[]): Promise<number> {
  let values: Values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        key: { type: 'string' },
        text: { type: 'string' },
        from: { type: 'string' },
        csv: { type: 'string' },
        to: { type: 'string' },
        priority: { type: 'string' },
        'send-at': { type: 'string' },
        country: { type: 'string' },
        mps: { type: 'string' },
        'quiet-hours': { type: 'string' },
        tags: { type: 'string' },
        'dry-run': { type: 'boolean' },
        'no-wait': { type: 'boolean' },
        receipts: { type: 'string', default: '30' },
        timeout: { type: 'string', default: '86400' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`smsgw send: ${(err as Error).message}\n${help}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  const problems: string[] = [];
  if (!values.text) problems.push('--text is required');
  if (!values.csv === !values.to) problems.push('give --csv FILE or --to NUMBER (one of them)');
  const key = (values.key as string | undefined) ?? process.env.SMSGW_API_KEY;
  if (!key) problems.push('--key (or SMSGW_API_KEY) is required');
  const seconds = (name: string) => {
    const n = Number(values[name]);
    if (!(Number.isFinite(n) && n >= 0)) problems.push(`--${name} must be a number of seconds`);
    return n * 1000;
  };
  const receiptsMs = seconds('receipts');
  const timeoutMs = seconds('timeout');
  if (problems.length > 0) {
    process.stderr.write(`smsgw send: ${problems.join('; ')}\n${help}`);
    return 2;
  }
  const client = new Client(
    ((values.url as string | undefined) ?? process.env.SMSGW_URL ?? 'http://127.0.0.1:8080').replace(
      /\/$/,
      '',
    ),
    key!,
  );
  try {
    return values.csv
      ? await sendBatch(client, values, { receiptsMs, timeoutMs })
      : await sendOne(client, values, { receiptsMs, timeoutMs });
  } catch (err) {
    process.stderr.write(`\nsmsgw send: ${(err as Error).message}\n`);
    return 1;
  }
}

interface Waits {
  receiptsMs: number;
  timeoutMs: number;
}

async function sendBatch(client: Client, v: Values, waits: Waits): Promise<number> {
  const file = v.csv as string;
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    process.stderr.write(`smsgw send: cannot read ${file}: ${(err as Error).message}\n`);
    return 2;
  }
  const query = new URLSearchParams();
  for (const [option, param] of [
    ['text', 'text'],
    ['from', 'from'],
    ['priority', 'priority'],
    ['send-at', 'sendAt'],
    ['country', 'country'],
    ['mps', 'mps'],
    ['quiet-hours', 'quietHours'],
    ['tags', 'tags'],
  ] as const) {
    if (typeof v[option] === 'string') query.set(param, v[option] as string);
  }
  if (v['dry-run']) query.set('dryRun', 'true');

  const upload = new ProgressBar('upload  ', size, formatBytes);
  let sent = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sent += chunk.length;
      upload.update(sent);
      done(null, chunk);
    },
  });
  const started = Date.now();
  const body = Readable.toWeb(createReadStream(file).pipe(counted)) as ReadableStream<Uint8Array>;
  const created = await client.request('POST', `/v1/batches?${query}`, body, 'text/csv');
  upload.finish(`${formatBytes(size)} in ${seconds(Date.now() - started)}`);
  const skipped = Object.entries(created.skipped as Record<string, number>)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  if (v['dry-run']) {
    const out = [
      `dry run: ${created.total} messages from ${created.rows} rows, ${created.segments} segments`,
      `  encodings: ${Object.entries(created.encodings as Record<string, number>)
        .map(([e, n]) => `${e} ${n}`)
        .join(', ')}`,
      ...(created.routes as Array<{ connectors: string[]; segments: number }>).map(
        (r) => `  route ${r.connectors.join(' → ')}: ${r.segments} segments`,
      ),
      `  skipped: ${skipped || 'none'}`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
    return 0;
  }
  process.stdout.write(
    `batch ${created.id}: ${created.total} messages accepted (${created.status}), skipped: ${skipped || 'none'}\n`,
  );
  if (v['no-wait']) return 0;

  const total = created.total as number;
  const delivery = new ProgressBar('delivery', total, (n) => String(n));
  const deadline = Date.now() + waits.timeoutMs;
  let batch = created;
  let receiptsUntil: number | null = null;
  for (;;) {
    batch = await client.request('GET', `/v1/batches/${created.id}`);
    const counts = batch.counts as Record<string, number>;
    const left =
      (counts.queued ?? 0) + (counts.scheduled ?? 0) + (counts.paused ?? 0) + (counts.sending ?? 0);
    // Every count by status: at 100% (all left the gateway) most are still waiting for receipts.
    const note = `${countsText(counts) || 'none yet'}${batch.rate ? `, ${batch.rate}/s` : ''}${
      batch.etaSeconds ? `, ${seconds((batch.etaSeconds as number) * 1000)} left` : ''
    }${batch.status === 'paused' ? ' (paused)' : ''}`;
    delivery.update(total - left, note);
    const sentAll = ['completed', 'canceled', 'failed'].includes(batch.status as string);
    if (sentAll) receiptsUntil ??= Date.now() + waits.receiptsMs;
    if (sentAll && ((counts.submitted ?? 0) === 0 || Date.now() >= receiptsUntil!)) break;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  delivery.finish(`${batch.status} after ${seconds(Date.now() - started)}`);
  const counts = countsText(batch.counts as Record<string, number>);
  process.stdout.write(
    `summary: batch ${batch.id} ${batch.status}; ${total} messages: ${counts || 'none'}; skipped: ${skipped || 'none'}\n`,
  );
  return batch.status === 'completed' ? 0 : 1;
}

async function sendOne(client: Client, v: Values, waits: Waits): Promise<number> {
  const started = Date.now();
  const body: Record<string, unknown> = { to: v.to, text: v.text };
  for (const [option, field] of [
    ['from', 'from'],
    ['priority', 'priority'],
    ['send-at', 'sendAt'],
    ['country', 'country'],
  ] as const) {
    if (typeof v[option] === 'string') body[field] = v[option];
  }
  if (typeof v.tags === 'string') body.tags = v.tags.split(',');
  const accepted = await client.request('POST', '/v1/messages', JSON.stringify(body), 'application/json');
  process.stdout.write(
    `message ${accepted.id} to ${accepted.to}: ${accepted.status} (${accepted.segments} segment(s), ${accepted.encoding})\n`,
  );
  if (v['no-wait']) return 0;
  const bar = new ProgressBar('delivery', 1, (n) => String(n));
  const deadline = Date.now() + Math.min(waits.timeoutMs, waits.receiptsMs + 60_000);
  let m = accepted;
  for (;;) {
    m = await client.request('GET', `/v1/messages/${accepted.id}`);
    bar.update(m.status === 'delivered' ? 1 : 0, m.status as string);
    if (finalStatuses.has(m.status as string) || Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  bar.finish(`${m.status} after ${seconds(Date.now() - started)}`);
  const error = m.error as { code: string; message: string } | null;
  process.stdout.write(
    `summary: message ${m.id} ${m.status}${error ? ` (${error.code}: ${error.message})` : ''}\n`,
  );
  return m.status === 'delivered' ? 0 : 1;
}

/** `delivered 480, submitted 20`: the statuses that have messages. */
function countsText(counts: Record<string, number>): string {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${status} ${n}`)
    .join(', ');
}

const finalStatuses = new Set(['delivered', 'undelivered', 'expired', 'rejected', 'failed', 'canceled']);

class Client {
  readonly #base: string;
  readonly #key: string;

  constructor(base: string, key: string) {
    this.#base = base;
    this.#key = key;
  }

  /** The JSON answer; a refusal throws with the gateway's own error message. */
  async request(
    method: string,
    path: string,
    body?: string | ReadableStream<Uint8Array>,
    contentType?: string,
  ): Promise<Record<string, unknown>> {
    const res = await fetch(this.#base + path, {
      method,
      headers: {
        authorization: `Bearer ${this.#key}`,
        ...(contentType ? { 'content-type': contentType } : {}),
      },
      body,
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      // Not JSON: reported with the status below.
    }
    if (!res.ok) {
      const error = json.error as { code?: string; message?: string; field?: string } | undefined;
      throw new Error(
        `${method} ${path.split('?')[0]}: ${res.status} ${error?.code ?? ''}${error?.message ? ` — ${error.message}` : text ? ` — ${text.slice(0, 200)}` : ''}`,
      );
    }
    return json;
  }
}

/**
 * One line on stderr, redrawn in place on a terminal; elsewhere a line every tenth. Either way
 * the last state stays on screen at the end (receipts keep coming after 100%).
 */
class ProgressBar {
  readonly #label: string;
  readonly #total: number;
  readonly #format: (n: number) => string;
  readonly #tty = process.stderr.isTTY === true;
  #shownTenth = -1;
  #drawnAt = 0;
  #shownLine = '';
  #lastLine = '';

  constructor(label: string, total: number, format: (n: number) => string) {
    this.#label = label;
    this.#total = total;
    this.#format = format;
    this.#lastLine = this.#line(0, total > 0 ? 0 : 1, '');
  }

  update(done: number, note = ''): void {
    const share = this.#total > 0 ? Math.min(1, done / this.#total) : 1;
    this.#lastLine = this.#line(done, share, note);
    if (this.#tty) {
      const now = Date.now();
      if (now - this.#drawnAt < 100 && share < 1) return;
      this.#drawnAt = now;
      process.stderr.write(`\r\x1b[K${this.#lastLine}`);
      return;
    }
    const tenth = Math.floor(share * 10);
    if (tenth === this.#shownTenth) return;
    this.#shownTenth = tenth;
    this.#shownLine = this.#lastLine;
    process.stderr.write(`${this.#lastLine}\n`);
  }

  finish(note: string): void {
    if (this.#tty) process.stderr.write(`\r\x1b[K${this.#lastLine}\n`);
    else if (this.#lastLine !== this.#shownLine) process.stderr.write(`${this.#lastLine}\n`);
    process.stderr.write(`${this.#label} done: ${note}\n`);
  }

  #line(done: number, share: number, note: string): string {
    const width = 30;
    const filled = Math.round(share * width);
    return `${this.#label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}% ${this.#format(done)}/${this.#format(this.#total)}${note ? `  ${note}` : ''}`;
  }
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function seconds(ms: number): string {
  return ms < 60_000
    ? `${(ms / 1000).toFixed(1)} s`
    : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
