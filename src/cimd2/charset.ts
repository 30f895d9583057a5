// CIMD2's default character conversion: how the GSM 03.38 default alphabet travels in the
// user data parameter (033) as printable ASCII. Characters GSM and ASCII share go as they are;
// the others as a special combination, `_` and two characters (`_a"` for ä); the GSM escape
// to the extension table is `_XX`, so `€` is `_XXe` and `{` is `_XX(`.
import { decodeGsm7, gsm7Septets } from '../sms/index.ts';

/** GSM default alphabet code → the two characters after `_`. */
const combinations: ReadonlyArray<readonly [number, string]> = [
  [0x00, 'Oa'], // @
  [0x01, 'L-'], // £
  [0x03, 'Y-'], // ¥
  [0x04, 'e`'], // è
  [0x05, "e'"], // é
  [0x06, 'u`'], // ù
  [0x07, 'i`'], // ì
  [0x08, 'o`'], // ò
  [0x09, 'C,'], // Ç
  [0x0b, 'O/'], // Ø
  [0x0c, 'o/'], // ø
  [0x0e, 'A*'], // Å
  [0x0f, 'a*'], // å
  [0x10, 'gd'], // Δ
  [0x11, '--'], // _
  [0x12, 'gf'], // Φ
  [0x13, 'gg'], // Γ
  [0x14, 'gl'], // Λ
  [0x15, 'go'], // Ω
  [0x16, 'gp'], // Π
  [0x17, 'gi'], // Ψ
  [0x18, 'gs'], // Σ
  [0x19, 'gt'], // Θ
  [0x1a, 'gx'], // Ξ
  [0x1b, 'XX'], // escape to the extension table
  [0x1c, 'AE'], // Æ
  [0x1d, 'ae'], // æ
  [0x1e, 'ss'], // ß
  [0x1f, "E'"], // É
  [0x22, 'qq'], // " (read; sent as itself)
  [0x24, 'ox'], // ¤
  [0x40, '!!'], // ¡
  [0x5b, 'A"'], // Ä
  [0x5c, 'O"'], // Ö
  [0x5d, 'N~'], // Ñ
  [0x5e, 'U"'], // Ü
  [0x5f, 'so'], // §
  [0x60, '??'], // ¿
  [0x7b, 'a"'], // ä
  [0x7c, 'o"'], // ö
  [0x7d, 'n~'], // ñ
  [0x7e, 'u"'], // ü
  [0x7f, 'a`'], // à
];

const septetOfCombination = new Map<string, number>(combinations.map(([code, pair]) => [pair, code]));

/** GSM code → what goes on the wire: itself where GSM and ASCII agree, else its combination. */
const wireOfSeptet: string[] = Array.from({ length: 128 }, (_, code) => {
  if (code === 0x02) return '$';
  if (code === 0x22) return '"';
  if (code === 0x0a || code === 0x0d) return String.fromCharCode(code);
  const pair = combinations.find(([c]) => c === code)?.[1];
  if (pair !== undefined) return `_${pair}`;
  return String.fromCharCode(code);
});

/**
 * A single wire character → GSM code. Besides the shared characters, `@` and `$` are their
 * GSM selves, and the ISO 646 positions of the Nordic letters read as those letters (`]` Å,
 * `}` å, `[` Ä, `{` ä ...), as Nokia's table and Kannel read them.
 */
function septetOfChar(ch: number): number | undefined {
  switch (ch) {
    case 0x40:
      return 0x00;
    case 0x24:
      return 0x02;
    case 0x5d:
      return 0x0e;
    case 0x7d:
      return 0x0f;
    case 0x5f:
      return 0x11;
  }
  if (ch === 0x0a || ch === 0x0d || (ch >= 0x20 && ch <= 0x7e)) return ch;
  // An 8-bit link may carry ISO 8859-1 characters as they are (those in the main table).
  const septets = gsm7Septets(String.fromCharCode(ch));
  return septets?.length === 1 ? septets[0] : undefined;
}

/** GSM septets (one per octet, escapes included) → the 033 value. */
export function septetsToCimd2(septets: Uint8Array): string {
  let out = '';
  for (const code of septets) out += wireOfSeptet[code & 0x7f];
  return out;
}

/**
 * The 033 value (as received, one character per octet) → GSM septets. A `_` that starts no
 * known combination is the underscore itself; a character GSM lacks becomes `?`.
 */
export function cimd2ToSeptets(value: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i);
    if (ch === 0x5f && i + 2 < value.length) {
      const code = septetOfCombination.get(value.slice(i + 1, i + 3));
      if (code !== undefined) {
        out.push(code);
        i += 2;
        continue;
      }
    }
    out.push(septetOfChar(ch) ?? 0x3f);
  }
  return Buffer.from(out);
}

/** Text in the GSM default alphabet → the 033 value; undefined when GSM cannot carry it. */
export function textToCimd2(text: string): string | undefined {
  const septets = gsm7Septets(text);
  return septets === undefined ? undefined : septetsToCimd2(septets);
}

export function cimd2ToText(value: string): string {
  return decodeGsm7(cimd2ToSeptets(value));
}
