// The online number lookup (HLR / number portability) over HTTP, configured as data as the
// generic provider is (`lookup` in the config): the URL and body are templates of the
// number, the answer's fields are read at dotted paths. Answers are kept in memory
// (bounded, for `ttlSeconds`); a number asked for again while its lookup runs shares it.
// A failure (no answer within `timeoutMs`, not 2xx, no network in the answer) is counted,
// reported to `onFailure` and not kept, so the next message asks again.
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
      const res = await fetch(url, {
        method: c.method,
        headers,
        body,
        signal: AbortSignal.timeout(c.timeoutMs),
      });
      const text = (await res.text()).slice(0, maxAnswerChars);
      if (!res.ok) throw new Error(`provider answered ${res.status}: ${text.slice(0, 200)}`);
      info = networkOf(parseJson(text), c.response);
    } catch (err) {
      this.counts.failures++;
      const reason =
        (err as Error).name === 'TimeoutError'
          ? `no answer within ${c.timeoutMs} ms`
          : (((err as Error).cause as Error | undefined)?.message ?? (err as Error).message);
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
