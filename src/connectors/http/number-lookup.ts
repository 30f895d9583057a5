// The online number lookup (HLR / number portability) over HTTP, configured as data as the
// generic provider is (`lookup` in the config): the URL and body are templates of the
// number, the answer's fields are read at dotted paths. Answers are kept in memory
// (bounded, for `ttlSeconds`); a number asked for again while its lookup runs shares it.
// A failure (no answer within `timeoutMs`, not 2xx, no network in the answer) is counted,
// reported to `onFailure` and not kept, so the next message asks again. undici is loaded
// at the first lookup, not with the gateway (a gateway without a lookup never loads it).
import type { Agent } from 'undici';
import type { NumberLookupConfig } from '../../config/index.ts';
import {
  BoundedMap,
  type NetworkInfo,
  type NetworkLookup,
  type NetworkLookupCounts,
} from '../../core/index.ts';
import { nested } from './generic.ts';
import { fillTemplate, parseJson, textAt, valueAt } from './provider.ts';

/** Most of an answer read: a lookup answer is a few hundred bytes. */
const maxAnswerChars = 64 * 1024;

export class HttpNumberLookup implements NetworkLookup {
  readonly onError: 'skip' | 'refuse';
  readonly counts: NetworkLookupCounts = { hits: 0, misses: 0, failures: 0 };
  readonly #config: NumberLookupConfig;
  readonly #cache: BoundedMap<string, { info: NetworkInfo; until: number }>;
  readonly #running = new Map<string, Promise<{ info: NetworkInfo; cached: boolean } | null>>();
  readonly #now: () => number;
  readonly #onFailure: (number: string, reason: string) => void;
  /** Kept-alive connections to the provider (undici, as the http connector: cheaper per request than fetch). */
  /** Made at the first lookup. */
  #agent: Promise<Agent> | null = null;

  constructor(
    config: NumberLookupConfig,
    options: { now?: () => number; onFailure?: (number: string, reason: string) => void } = {},
  ) {
    this.#config = config;
    this.onError = config.onError;
    this.#cache = new BoundedMap(config.cacheSize);
    this.#now = options.now ?? Date.now;
    this.#onFailure = options.onFailure ?? (() => {});
  }

  /** Closes the connections to the provider. */
  async close(): Promise<void> {
    await (await this.#agent)?.close();
  }

  #connections(): Promise<Agent> {
    const { timeoutMs } = this.#config;
    this.#agent ??= import('undici').then(
      ({ Agent }) =>
        new Agent({ headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connect: { timeout: timeoutMs } }),
    );
    return this.#agent;
  }

  lookup(number: string): Promise<{ info: NetworkInfo; cached: boolean } | null> {
    const kept = this.#cache.get(number);
    if (kept && kept.until > this.#now()) {
      this.counts.hits++;
      return Promise.resolve({ info: kept.info, cached: true });
    }
    let running = this.#running.get(number);
    if (!running) {
      running = this.#ask(number).finally(() => this.#running.delete(number));
      this.#running.set(number, running);
    }
    return running;
  }

  async #ask(number: string): Promise<{ info: NetworkInfo; cached: boolean } | null> {
    const c = this.#config;
    const values = { number, digits: number.replace(/^\+/, '') };
    const headers: Record<string, string> = { accept: 'application/json' };
    for (const [name, value] of Object.entries(c.headers ?? {}))
      headers[name.toLowerCase()] = fillTemplate(value, values);
    let body: string | undefined;
    if (c.method === 'POST') {
      body = JSON.stringify(
        nested(Object.entries(c.body ?? {}).map(([name, t]) => [name, fillTemplate(t, values)])),
      );
      headers['content-type'] = 'application/json';
    }
    // Each value is URL-encoded in the URL: `+` would otherwise read as a space.
    const url = c.url.replace(/\{\{\s*(number|digits)\s*\}\}/g, (_, name: 'number' | 'digits') =>
      encodeURIComponent(values[name]),
    );
    let info: NetworkInfo;
    try {
      const target = new URL(url);
      const res = await (await this.#connections()).request({
        origin: target.origin,
        path: `${target.pathname}${target.search}`,
        method: c.method,
        headers,
        body,
      });
      let text = '';
      res.body.setEncoding('utf8');
      for await (const chunk of res.body as AsyncIterable<string>)
        if (text.length < maxAnswerChars) text += chunk;
      if (res.statusCode < 200 || res.statusCode > 299)
        throw new Error(`provider answered ${res.statusCode}: ${text.slice(0, 200)}`);
      info = networkOf(parseJson(text), c.response);
    } catch (err) {
      this.counts.failures++;
      const code = (err as { code?: string }).code;
      const reason =
        code === 'UND_ERR_HEADERS_TIMEOUT' ||
        code === 'UND_ERR_BODY_TIMEOUT' ||
        code === 'UND_ERR_CONNECT_TIMEOUT'
          ? `no answer within ${c.timeoutMs} ms`
          : `${code ? `${code}: ` : ''}${(err as Error).message}`;
      this.#onFailure(number, reason);
      return null;
    }
    this.counts.misses++;
    if (c.ttlSeconds > 0) this.#cache.set(number, { info, until: this.#now() + c.ttlSeconds * 1000 });
    return { info, cached: false };
  }
}

/** The answer's fields; an answer with no network in it is a failure (the provider did not know). */
function networkOf(json: unknown, paths: NumberLookupConfig['response']): NetworkInfo {
  const read = (path: string | undefined) => (path === undefined ? undefined : textAt(json, path)?.trim());
  const joined = read(paths.network)?.replace('-', '');
  const mcc = read(paths.mcc) ?? joined?.slice(0, 3);
  const mnc = read(paths.mnc) ?? joined?.slice(3);
  if (!mcc || !mnc || !/^\d{3}$/.test(mcc) || !/^\d{2,3}$/.test(mnc))
    throw new Error(`the answer holds no MCC and MNC (got ${JSON.stringify(json)?.slice(0, 200)})`);
  const ported = paths.ported === undefined ? undefined : valueAt(json, paths.ported);
  return {
    mcc,
    mnc,
    network: `${mcc}${mnc}`,
    ported:
      typeof ported === 'boolean'
        ? ported
        : typeof ported === 'string' && /^(true|false|1|0|yes|no)$/i.test(ported)
          ? /^(true|1|yes)$/i.test(ported)
          : typeof ported === 'number'
            ? ported !== 0
            : null,
    carrier: read(paths.carrier) || null,
  };
}
