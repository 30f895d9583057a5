// Forwarding an inbound message to a URL the way Kannel's sms-service get-url/post-url does:
// Kannel's escape codes in the URL (%p sender, %P receiver, %a text...), the text as the
// body with X-Kannel-* headers on POST, and the response body as the reply to send back.
import type { Message } from '../core/index.ts';
import { fillKannelEscapes, firstWord } from '../core/index.ts';

/** Kannel sms-service escapes (user guide, "sms-service configurations"), URL-encoded. */
export function expandKannelEscapes(url: string, m: Message): string {
  const words = (m.text ?? '').trim().split(/\s+/).filter(Boolean);
  let nextWord = 1;
  const time = new Date(m.createdAt);
  const values: Record<string, () => string> = {
    k: () => firstWord(m.text),
    s: () => words[nextWord++] ?? '',
    S: () => (words[nextWord++] ?? '').replaceAll('*', '~'),
    r: () => words.slice(nextWord).join(' '),
    a: () => words.join(' '),
    b: () => m.text ?? (m.binary ? m.binary.toString('latin1') : ''),
    t: () => time.toISOString().slice(0, 16).replace('T', ' '),
    T: () => String(Math.floor(m.createdAt / 1000)),
    p: () => m.from,
    P: () => m.to,
    q: () => m.from.replace(/^00/, '+'),
    Q: () => m.to.replace(/^00/, '+'),
    i: () => m.connectorId ?? '',
    I: () => m.id,
    c: () => (m.encoding === 'ucs2' ? '2' : m.encoding === 'binary' || m.encoding === 'latin1' ? '1' : '0'),
  };
  return fillKannelEscapes(url, values);
}

export interface ForwardTarget {
  url: string;
  method: 'GET' | 'POST';
}

export interface ForwardOptions {
  timeoutMs?: number;
  /** Delays before the second and later attempts. */
  retryDelaysMs?: readonly number[];
}

/**
 * Calls the URL for the message; resolves with the response body when it is text (the
 * reply Kannel would send), or null. Retries network errors and 5xx; gives up after the
 * last delay with the last error.
 */
export async function forwardInbound(
  target: ForwardTarget,
  m: Message,
  options: ForwardOptions = {},
): Promise<string | null> {
  const url = expandKannelEscapes(target.url, m);
  const delays = options.retryDelaysMs ?? [2_000, 10_000];
  let lastError: Error = new Error('not tried');
  for (let attempt = 0; attempt <= delays.length; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, delays[attempt - 1]));
    try {
      const res = await fetch(url, {
        method: target.method,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        ...(target.method === 'POST'
          ? {
              body: m.text ?? '',
              headers: {
                'content-type': 'text/plain; charset=utf-8',
                'x-kannel-from': m.from,
                'x-kannel-to': m.to,
                'x-kannel-time': String(Math.floor(m.createdAt / 1000)),
                'x-kannel-smsc': m.connectorId ?? '',
              },
            }
          : {}),
      });
      const body = await res.text();
      if (res.status >= 500) {
        lastError = new Error(`${url}: HTTP ${res.status}`);
        continue;
      }
      if (res.status >= 400) throw new Error(`${url}: HTTP ${res.status}`);
      const type = res.headers.get('content-type') ?? 'text/plain';
      return type.startsWith('text/') ? body.trim() || null : null;
    } catch (err) {
      lastError = err as Error;
      if (lastError.message.includes('HTTP 4')) throw lastError;
    }
  }
  throw lastError;
}
