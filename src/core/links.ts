// Link shortening (`accounts[].links`): the URLs in a message's text become short links
// served by the gateway (`{base}/l/{code}`), before its parts are counted, so its price and
// parts are those of what is sent. Each link is a store record (kind `link`, id its code,
// ref its message), where its clicks are counted.
import { randomBytes } from 'node:crypto';

export const linkRecordKind = 'link';

/** A link's record data. */
export interface LinkData {
  url: string;
  clicks: number;
  /** Epoch ms; null before the first click. */
  firstClickAt: number | null;
  lastClickAt: number | null;
}

export interface ShortLink {
  code: string;
  url: string;
}

const base62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 62^10 ≈ 8·10^17 codes: not found by trying. */
export const linkCodeLength = 10;
export const linkCodePattern = /^[0-9A-Za-z]{10}$/;

/** A random code; bytes past the largest multiple of 62 are dropped so each character is as likely. */
export function newLinkCode(): string {
  let code = '';
  while (code.length < linkCodeLength) {
    for (const byte of randomBytes(16)) {
      if (byte < 248 && code.length < linkCodeLength) code += base62[byte % 62];
    }
  }
  return code;
}

/**
 * http(s) URLs as people write them in a text; punctuation that ends a sentence or closes
 * a bracket after one is not part of it.
 */
const urlPattern = /\bhttps?:\/\/[^\s<>"]+/giu;
const trailing = /[.,;:!?'")\]}]+$/u;

/**
 * The text with each URL replaced by `{base}/l/{code}`, and the links made. URLs already
 * under `base` are left as they are.
 */
export function shortenLinks(text: string, base: string): { text: string; links: ShortLink[] } {
  const links: ShortLink[] = [];
  const shortened = text.replace(urlPattern, (found) => {
    const url = found.replace(trailing, '');
    if (url.startsWith(`${base}/`) || !URL.canParse(url)) return found;
    const code = newLinkCode();
    links.push({ code, url });
    return `${base}/l/${code}${found.slice(url.length)}`;
  });
  return { text: shortened, links };
}
