// A JSON batch body (POST /v1/batches) read without building its list at once. Up to 1 MiB
// it is parsed whole, as every JSON body is. A larger one is a list of thousands to millions
// of recipients: parsed whole, 2.4 million of them (55 MB) took the gateway from 160 to
// 660 MB, and the uploads one gateway runs at once could take gigabytes. It is kept as the
// bytes that came and read twice: as it arrives, for its settings and to check every
// element (so bad input refuses the batch before a row is stored); then one element at a
// time as the batch stores them. JSON does not order an object's fields, so the settings
// may come after the list.
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import type { ParsedTokenInfo } from '@streamparser/json';
import { bodyNestedTooDeep, maxBodyDepth } from '../api/index.ts';
import { GatewayError } from '../core/index.ts';

// @streamparser/json is loaded by the first body too large to parse whole: an idle gateway
// holds none of it.
const require = createRequire(import.meta.url);
const streamParser = () => require('@streamparser/json') as typeof import('@streamparser/json');

/** A JSON body up to this size is parsed whole. */
export const wholeJsonBytes = 1024 * 1024;

export interface JsonBodyOptions {
  /** The field whose array is read an element at a time. */
  list: string;
  /** Parses a body read whole, as any other JSON body of the API is. */
  parseWhole(text: string): Promise<unknown>;
  /** Refuses an element of the list (an unknown field), given its place in it. */
  checkItem(item: unknown, index: number): void;
}

/**
 * The body's fields. When it is larger than `wholeJsonBytes` and has the list, the list's
 * field is a `StreamedList` over the body's bytes.
 */
export async function readJsonBody(body: Readable, o: JsonBodyOptions): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  let reader: ListReader | null = null;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (reader) reader.write(chunk);
    else if (size > wholeJsonBytes) {
      reader = new ListReader(o, false);
      for (const c of chunks) reader.write(c);
    }
  }
  if (!reader) return o.parseWhole(Buffer.concat(chunks).toString('utf8'));
  reader.end();
  return reader.hasList ? { ...reader.fields, [o.list]: new StreamedList(chunks, o) } : { ...reader.fields };
}

/** The elements of a large body's list, read from its bytes as they are taken; once. */
export class StreamedList implements AsyncIterable<unknown> {
  #chunks: Buffer[] | null;
  readonly #o: JsonBodyOptions;

  constructor(chunks: Buffer[], o: JsonBodyOptions) {
    this.#chunks = chunks;
    this.#o = o;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<unknown> {
    const chunks = this.#chunks;
    if (!chunks) throw new Error('a streamed list is read once');
    this.#chunks = null;
    const reader = new ListReader(this.#o, true);
    for (let i = 0; i < chunks.length; i++) {
      reader.write(chunks[i]!);
      // Each part of the body is let go once read: memory falls as the rows are stored.
      chunks[i] = empty;
      yield* reader.take();
    }
  }
}

const empty = Buffer.alloc(0);

/** Where the reader is in the body's top-level object. */
type At = 'start' | 'firstKey' | 'key' | 'colon' | 'value' | 'afterValue' | 'done';
/** Where it is in the list: after `[`, after a comma, after an element. */
type InList = 'first' | 'next' | 'after';

/**
 * Sans-I/O: bytes in, the top-level fields and the list's elements out. The top level and
 * the list are walked here, token by token; each field's value and each element is built
 * by a token parser, and an element is checked, or kept until taken, never both.
 */
class ListReader {
  /** The fields read so far (a null prototype: a `__proto__` field is a field like another). */
  readonly fields: Record<string, unknown> = Object.create(null);
  hasList = false;
  readonly #o: JsonBodyOptions;
  /** Elements are kept for `take` (the second reading), or checked and dropped (the first). */
  readonly #keepItems: boolean;
  /** Strings are gathered in a buffer: appended to a string, a 36 MB `csv` took a minute. */
  readonly #tokenizer = new (streamParser().Tokenizer)({ stringBufferSize: 64 * 1024 });
  /** Builds one value after another: a field's, or the list's elements. */
  readonly #values = new (streamParser().TokenParser)({ paths: ['$'], separator: '' });
  /** The tokenizer's token kinds, taken once rather than at every token. */
  readonly #types = streamParser().TokenType;
  #at: At = 'start';
  #inList: InList | null = null;
  #key = '';
  /** Arrays and objects open in the value being built. */
  #building = 0;
  #items: unknown[] = [];
  #count = 0;

  constructor(o: JsonBodyOptions, keepItems: boolean) {
    this.#o = o;
    this.#keepItems = keepItems;
    this.#tokenizer.onToken = (token) => this.#token(token);
    this.#values.onValue = ({ value }) => {
      if (this.#inList === null) this.fields[this.#key] = value;
      else if (this.#keepItems) this.#items.push(value);
      else this.#o.checkItem(value, this.#count++);
    };
  }

  write(chunk: Buffer): void {
    try {
      this.#tokenizer.write(chunk);
    } catch (err) {
      throw err instanceof GatewayError ? err : invalidJson((err as Error).message);
    }
  }

  end(): void {
    if (this.#at !== 'done') throw invalidJson('the body ends before its JSON does');
  }

  /** The elements read since the last call. */
  take(): unknown[] {
    const items = this.#items;
    this.#items = [];
    return items;
  }

  #token(info: ParsedTokenInfo): void {
    const TokenType = this.#types;
    const { token, value } = info;
    const opens = token === TokenType.LEFT_BRACE || token === TokenType.LEFT_BRACKET;
    const closes = token === TokenType.RIGHT_BRACE || token === TokenType.RIGHT_BRACKET;
    if (this.#building > 0) {
      this.#build(info, opens, closes);
      return;
    }
    if (this.#inList !== null) {
      if (token === TokenType.RIGHT_BRACKET && this.#inList !== 'next') {
        this.#inList = null;
        this.#at = 'afterValue';
      } else if (token === TokenType.COMMA && this.#inList === 'after') this.#inList = 'next';
      else if (this.#inList === 'after' || closes || token === TokenType.COMMA) throw unexpected(value);
      else this.#startValue(info, opens);
      return;
    }
    switch (this.#at) {
      case 'start':
        if (token !== TokenType.LEFT_BRACE) throw invalidJson('a batch is a JSON object');
        this.#at = 'firstKey';
        return;
      case 'firstKey':
      case 'key':
        if (token === TokenType.RIGHT_BRACE && this.#at === 'firstKey') {
          this.#at = 'done';
          return;
        }
        if (token !== TokenType.STRING) throw unexpected(value);
        this.#key = value as string;
        // Parsed whole, the last of two would win; read apart, the list cannot be taken back.
        if (this.#key === this.#o.list && this.hasList)
          throw new GatewayError('invalid_field', `${this.#o.list} is given twice`, this.#o.list);
        this.#at = 'colon';
        return;
      case 'colon':
        if (token !== TokenType.COLON) throw unexpected(value);
        this.#at = 'value';
        return;
      case 'value':
        if (closes || token === TokenType.COMMA || token === TokenType.COLON) throw unexpected(value);
        if (token === TokenType.LEFT_BRACKET && this.#key === this.#o.list) {
          this.#inList = 'first';
          this.hasList = true;
        } else this.#startValue(info, opens);
        return;
      case 'afterValue':
        if (token === TokenType.COMMA) this.#at = 'key';
        else if (token === TokenType.RIGHT_BRACE) this.#at = 'done';
        else throw unexpected(value);
        return;
      case 'done':
        throw invalidJson('more follows the JSON object');
    }
  }

  /** The first token of a field's value or of an element. */
  #startValue(info: ParsedTokenInfo, opens: boolean): void {
    if (opens) this.#build(info, true, false);
    else {
      this.#values.write(info);
      this.#valueDone();
    }
  }

  /** A token of an array or object being built. */
  #build(info: ParsedTokenInfo, opens: boolean, closes: boolean): void {
    // The top-level object, and the list when in it, are levels too.
    if (opens && ++this.#building + (this.#inList === null ? 1 : 2) > maxBodyDepth) throw bodyNestedTooDeep();
    this.#values.write(info);
    if (closes && --this.#building === 0) this.#valueDone();
  }

  #valueDone(): void {
    if (this.#inList === null) this.#at = 'afterValue';
    else this.#inList = 'after';
  }
}

function invalidJson(why: string): GatewayError {
  return new GatewayError('invalid_request', `the body is not valid JSON: ${why}`);
}

function unexpected(value: ParsedTokenInfo['value']): GatewayError {
  return invalidJson(`unexpected ${JSON.stringify(value)}`);
}
