// Opt-in replacement of typographic characters by plain ones a cheaper alphabet has: curly
// quotes, dashes, ellipsis, odd spaces, invisible formatting characters, accented letters
// the alphabet lacks. Callers use it only when it avoids UCS-2 (see chooseEncoding).

// Characters with a conventional plain spelling that Unicode normalization does not give.
const replacements: Record<string, string> = {
  '\u2018': "'", // ‘
  '\u2019': "'", // ’
  '\u201a': "'", // ‚
  '\u201b': "'", // ‛
  '\u2032': "'", // ′
  '\u2035': "'", // ‵
  '\u02bc': "'", // ʼ
  '\u02bb': "'", // ʻ
  '\u00b4': "'", // ´
  '`': "'",
  '\u201c': '"', // “
  '\u201d': '"', // ”
  '\u201e': '"', // „
  '\u201f': '"', // ‟
  '\u2033': '"', // ″
  '\u00ab': '"', // «
  '\u00bb': '"', // »
  '\u2039': '<', // ‹
  '\u203a': '>', // ›
  '\u2010': '-', // hyphen
  '\u2011': '-', // non-breaking hyphen
  '\u2012': '-', // figure dash
  '\u2013': '-', // en dash
  '\u2014': '-', // em dash
  '\u2015': '-', // horizontal bar
  '\u2212': '-', // minus sign
  '\u2043': '-', // hyphen bullet
  '\u2022': '-', // bullet
  '\u2026': '...',
  '\u00d7': 'x',
  '\u2044': '/', // fraction slash
  '\u2215': '/', // division slash
  '\t': ' ',
  '\u00a0': ' ',
  '\u1680': ' ',
  '\u2028': '\n', // line separator
  '\u2029': '\n', // paragraph separator
  '\u202f': ' ',
  '\u205f': ' ',
  '\u3000': ' ',
  '\u00ad': '', // soft hyphen
  '\u200b': '', // zero width space
  '\u200c': '', // zero width non-joiner
  '\u200d': '', // zero width joiner
  '\u2060': '', // word joiner
  '\ufeff': '', // byte order mark
};
for (let cp = 0x2000; cp <= 0x200a; cp++) replacements[String.fromCharCode(cp)] = ' ';

const combiningMark = /\p{M}/gu;

/**
 * `text` with every character that `keep` rejects replaced by a plain spelling when one
 * exists whose characters `keep` accepts: the table above, else the compatibility
 * decomposition without accents ("é" → "e", "…" → "...", "ﬁ" → "fi", "Ｈ" → "H"). Other
 * characters stay as they are. `keep` sees one character (code point) at a time.
 */
export function smartReplace(text: string, keep: (char: string) => boolean): string {
  let out = '';
  // NFC first: a letter typed as base + combining accent may exist precomposed.
  for (const ch of text.normalize('NFC')) {
    if (keep(ch)) {
      out += ch;
      continue;
    }
    const direct = replacements[ch];
    if (direct !== undefined && allKept(direct, keep)) {
      out += direct;
      continue;
    }
    let plain = '';
    for (const part of ch.normalize('NFKD').replace(combiningMark, '')) plain += replacements[part] ?? part;
    out += plain !== '' && allKept(plain, keep) ? plain : ch;
  }
  return out;
}

function allKept(text: string, keep: (char: string) => boolean): boolean {
  for (const ch of text) if (!keep(ch)) return false;
  return true;
}
