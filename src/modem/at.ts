// What a GSM modem writes back on its serial line (3GPP TS 27.007 / 27.005, verbose
// results): lines ending in CR LF, the final result code that ends a command (OK, ERROR,
// +CME ERROR: n, +CMS ERROR: n), the `> ` prompt that asks for a PDU, and unsolicited
// result codes that may come at any time (+CMTI, +CDS and its PDU line, +CMT ...). Sans-I/O:
// text in, events out.

/** How a command ended. */
export type FinalResult =
  | { ok: true }
  | { ok: false; kind: 'error' | 'cme' | 'cms' | 'no-carrier'; code: number | null; line: string };

export type AtEvent =
  /** Every line the modem wrote for the command being answered, then how it ended. */
  | { type: 'response'; lines: string[]; final: FinalResult }
  | { type: 'prompt' }
  /** An unsolicited result code; `pdu` is the line that follows +CMT and +CDS. */
  | { type: 'urc'; name: string; value: string; pdu?: string };

/** URCs that carry their PDU on the next line (PDU mode). */
const twoLineUrcs = new Set(['+CMT', '+CDS', '+CBM']);
/** Unsolicited codes this reader knows; other lines go to the command being answered. */
const urcNames = new Set([
  '+CMTI',
  '+CMT',
  '+CDSI',
  '+CDS',
  '+CBM',
  '+CBMI',
  '+CREG',
  '+CGREG',
  'RING',
  '^BOOT',
]);

/** A command as messages name it: without its arguments (a PIN among them) or control characters. */
export function commandName(command: string): string {
  return command.split('=')[0]!.replace(/[\x00-\x1f]/g, '');
}

/** The final result code a line is, or null. */
export function finalResult(line: string): FinalResult | null {
  if (line === 'OK') return { ok: true };
  if (line === 'ERROR') return { ok: false, kind: 'error', code: null, line };
  if (line === 'NO CARRIER') return { ok: false, kind: 'no-carrier', code: null, line };
  const m = /^\+(CME|CMS) ERROR:\s*(.*)$/.exec(line);
  if (!m) return null;
  const code = /^\d+$/.test(m[2]!) ? Number(m[2]) : null;
  return { ok: false, kind: m[1] === 'CME' ? 'cme' : 'cms', code, line };
}

/** `+CMTI: "SM",3` → name `+CMTI`, value `"SM",3`; a line without `: ` is all name. */
function splitCode(line: string): { name: string; value: string } {
  const colon = line.indexOf(':');
  if (colon < 0) return { name: line, value: '' };
  return { name: line.slice(0, colon), value: line.slice(colon + 1).trim() };
}

export class AtReader {
  #buffer = '';
  #lines: string[] = [];
  /** The response prefix of the command being answered (`+CREG` for AT+CREG?), or null. */
  #answering: string | null = null;
  #echo: string | null = null;
  /** A two-line URC waiting for its PDU line. */
  #urc: { name: string; value: string } | null = null;

  /**
   * A command was written: lines until the next final result code belong to it. `command`
   * is what was written (its echo is dropped, if the modem echoes).
   */
  expect(command: string): void {
    this.#lines = [];
    this.#echo = command;
    const m = /^AT([+^$#*%][A-Z0-9]+)/i.exec(command);
    this.#answering = m ? m[1]!.toUpperCase() : '';
  }

  /** No command is being answered (after a timeout, say): lines that come are not its. */
  reset(): void {
    this.#buffer = '';
    this.#lines = [];
    this.#answering = null;
    this.#echo = null;
    this.#urc = null;
  }

  push(text: string): AtEvent[] {
    this.#buffer += text;
    const events: AtEvent[] = [];
    for (;;) {
      // The prompt ends no line: a `>` where a line would start is it, whatever follows in
      // the same read (a status report may come right behind it). No other line starts so.
      const prompt = /^\s*> ?/.exec(this.#buffer);
      if (prompt) {
        this.#buffer = this.#buffer.slice(prompt[0].length);
        events.push({ type: 'prompt' });
        continue;
      }
      const end = this.#buffer.search(/[\r\n]/);
      if (end < 0) break;
      const line = this.#buffer.slice(0, end).trim();
      this.#buffer = this.#buffer.slice(end + 1);
      if (line !== '') this.#line(line, events);
    }
    // A line this long is no modem's: drop it rather than grow without end.
    if (this.#buffer.length > 4096) this.#buffer = '';
    return events;
  }

  #line(line: string, events: AtEvent[]): void {
    if (this.#urc !== null) {
      events.push({ type: 'urc', ...this.#urc, pdu: line });
      this.#urc = null;
      return;
    }
    if (this.#echo !== null && line === this.#echo) {
      this.#echo = null;
      return;
    }
    const answering = this.#answering;
    const { name, value } = splitCode(line);
    const isUrc = urcNames.has(name.toUpperCase()) && name.toUpperCase() !== answering;
    if (isUrc || answering === null) {
      if (twoLineUrcs.has(name.toUpperCase())) this.#urc = { name: name.toUpperCase(), value };
      else events.push({ type: 'urc', name: name.toUpperCase(), value });
      return;
    }
    const final = finalResult(line);
    if (final === null) {
      this.#lines.push(line);
      return;
    }
    events.push({ type: 'response', lines: this.#lines, final });
    this.#lines = [];
    this.#answering = null;
    this.#echo = null;
  }
}

/** The quoted or bare fields of a response value: `"SM",3` → ['SM', '3']. */
export function atFields(value: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      fields.push(field.trim());
      field = '';
    } else field += ch;
  }
  fields.push(field.trim());
  return fields;
}
