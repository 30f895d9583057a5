// Choosing an encoding for a text, counting its segments, and splitting it into the parts of
// a concatenated SMS (TS 23.040 9.2.3.24.1): per-part UDH, SMPP SAR TLVs, or one
// message_payload. One SMS carries 140 octets of user data: 160 septets, 70 UCS-2 code units
// or 140 octets alone; 153 / 67 / 134 beside an 8-bit-reference concatenation header, one
// less with a 16-bit reference, less again for national language or other IEs.
//
// Parts never split a GSM escape sequence or a UTF-16 surrogate pair, and UCS-2 parts keep
// grapheme clusters (emoji ZWJ sequences, letters with combining marks) whole unless one is
// longer than a part.
import type { Encoding } from './charsets.ts';
import { canEncode, encodeText, isEncoding } from './charsets.ts';
import type { MessageClass } from './data-coding.ts';
import { dataCodingFor } from './data-coding.ts';
import { describeCharacters, SmsError } from './errors.ts';
import type { Gsm7Shift } from './gsm7.ts';
import { gsm7Encoder, gsm7Septets, unencodableGsm7Characters } from './gsm7.ts';
import type { LockingShiftLanguage, NationalLanguage } from './gsm7-tables.ts';
import { NATIONAL_LANGUAGES } from './gsm7-tables.ts';
import { smartReplace } from './smart-replace.ts';
import type { UdhIe } from './udh.ts';
import { buildUdh, concatIe, nationalLanguageIes, udhLength } from './udh.ts';

export interface TextOptions {
  /** Replace typographic characters by GSM ones when that avoids UCS-2 (default false). */
  smartReplace?: boolean;
  /** National language shift tables GSM 7-bit may use (TS 23.038 annex A); none by default. */
  nationalLanguages?: readonly NationalLanguage[];
}

export interface EncodingChoice {
  encoding: 'gsm7' | 'ucs2';
  /** The text to send: after smart replacement when that was used. */
  text: string;
  /** The national language tables GSM 7-bit needs; absent for the default ones. */
  shift?: Gsm7Shift;
}

export type SplitMode = 'udh' | 'sar' | 'payload';

export interface LayoutOptions {
  /** 'auto' (default) picks GSM 7-bit when it can represent the text, else UCS-2. */
  encoding?: 'auto' | Encoding;
  /** Concatenation reference size; also sizes SAR parts, which the SMSC turns into UDH. */
  referenceBits?: 8 | 16;
  /** Extra IEs every part carries (application ports, say); they take room from the text. */
  ies?: readonly UdhIe[];
}

export interface SplitOptions extends TextOptions, LayoutOptions {
  /**
   * 'udh' (default): a concatenation IE in each part; 'sar': SMPP SAR TLVs instead; 'payload':
   * one part with everything, for message_payload. In 'sar' and 'payload' a part has a UDH only
   * for national language or extra IEs.
   */
  mode?: SplitMode;
  /** Concatenation reference (taken mod 2^referenceBits; mod 2^16 for SAR); default: a counter. */
  reference?: number;
  /** More segments than this throw SmsError('too_many_parts'); default 10, at most 255. */
  maxParts?: number;
  messageClass?: MessageClass;
  flash?: boolean;
}

export interface MessagePart {
  /** User data: septets one per octet (gsm7), UTF-16BE (ucs2) or octets; without the UDH. */
  payload: Buffer;
  /** UDH (UDHL first) to put before the payload, with UDHI set in esm_class. */
  udh?: Buffer;
  /** Values for sar_msg_ref_num, sar_total_segments, sar_segment_seqnum. */
  sar?: { reference: number; total: number; sequence: number };
}

export interface SplitResult {
  encoding: Encoding;
  dataCoding: number;
  /** The text sent: after smart replacement when that was used. */
  text: string;
  parts: MessagePart[];
  /** SMS segments the message costs on the air interface (the payload mode included). */
  segments: number;
  shift?: Gsm7Shift;
  /** The concatenation reference, when there is more than one segment. */
  reference?: number;
}

export interface SegmentInfo {
  encoding: Encoding;
  segments: number;
  /** Length in the encoding's units: septets, UTF-16 code units, or octets. */
  characters: number;
  /** Units one segment holds (the single-message figure when there is one segment). */
  perSegment: number;
  /** Units in the last segment. */
  used: number;
  /** Units still free in the last segment. */
  remaining: number;
  /** With UCS-2 from 'auto': the distinct characters that GSM 7-bit cannot represent. */
  unicodeCharacters?: string[];
  /** The text counted: after smart replacement when that was used. */
  text: string;
  shift?: Gsm7Shift;
}

export const DEFAULT_MAX_PARTS = 10;
const MAX_PARTS = 255;

// ---------------------------------------------------------------------------------------
// Capacity

/** Units of `encoding` that fit in one SMS beside a UDH of `headerOctets` (UDHL included). */
function capacity(encoding: Encoding, headerOctets: number): number {
  if (encoding === 'gsm7') return 160 - Math.ceil((headerOctets * 8) / 7);
  if (encoding === 'ucs2') return Math.floor((140 - headerOctets) / 2);
  return 140 - headerOctets;
}

interface Limits {
  single: number;
  multi: number;
}

function limitsFor(encoding: Encoding, ies: readonly UdhIe[], referenceBits: 8 | 16): Limits {
  const header = udhLength(ies);
  const concat = referenceBits === 16 ? 6 : 5;
  const multi = capacity(encoding, (header === 0 ? 1 : header) + concat);
  if (multi < 2) throw new SmsError('invalid_argument', 'the extra IEs leave no room for text');
  return { single: capacity(encoding, header), multi };
}

// ---------------------------------------------------------------------------------------
// Cut points: the end offset (in units) of each part

function septetCuts(septets: Uint8Array, limits: Limits): number[] {
  const n = septets.length;
  if (n <= limits.single) return [n];
  const cuts: number[] = [];
  let start = 0;
  while (n - start > limits.multi) {
    let end = start + limits.multi;
    if (septets[end - 1] === 0x1b) end--; // keep the escape with its character
    cuts.push(end);
    start = end;
  }
  cuts.push(n);
  return cuts;
}

function octetCuts(n: number, limits: Limits): number[] {
  if (n <= limits.single) return [n];
  const cuts: number[] = [];
  for (let end = limits.multi; end < n; end += limits.multi) cuts.push(end);
  cuts.push(n);
  return cuts;
}

let segmenter: Intl.Segmenter | undefined;
/** Made at the first UCS-2 split, not at start (ICU's segmentation data, ~2.5 MB resident). */
function graphemes(): Intl.Segmenter {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  return segmenter;
}

function utf16Cuts(text: string, limits: Limits): number[] {
  if (text.length <= limits.single) return [text.length];
  const cuts: number[] = [];
  let start = 0;
  while (text.length - start > limits.multi) {
    const end = clusterCut(text, start, start + limits.multi);
    cuts.push(end);
    start = end;
  }
  cuts.push(text.length);
  return cuts;
}

// Code units that never join the unit before or after them in a cluster: most of Latin,
// Greek, Cyrillic and CJK. Around anything else the segmenter decides.
function standsAlone(unit: number): boolean {
  return (
    unit < 0x300 ||
    (unit >= 0x370 && unit < 0x483) ||
    (unit >= 0x3040 && unit <= 0x3098) ||
    (unit >= 0x309b && unit <= 0x30ff) ||
    (unit >= 0x4e00 && unit <= 0x9fff)
  );
}

/** Where the part from `start` ends: before the cluster that `limit` would cut, if that fits a part. */
function clusterCut(text: string, start: number, limit: number): number {
  const before = text.charCodeAt(limit - 1);
  if (standsAlone(before) && before !== 0x0d && standsAlone(text.charCodeAt(limit))) return limit;
  // A boundary depends on what precedes it (back to `start`, itself a boundary) and on the
  // code point after it, so segmenting up to limit + 2 units decides it.
  const relative = limit - start;
  let cut = 0;
  for (const { index } of graphemes().segment(text.slice(start, limit + 2))) {
    if (index > relative) break;
    cut = index;
  }
  // Move the cluster across the limit to the next part, unless no part could hold it: then
  // split it where the limit falls, but not inside a surrogate pair.
  if (cut > 0 && !longerThan(text, start + cut, limit - start)) return start + cut;
  return before >= 0xd800 && before <= 0xdbff && limit - 1 > start ? limit - 1 : limit;
}

function longerThan(text: string, at: number, units: number): boolean {
  for (const { segment } of graphemes().segment(text.slice(at, at + units + 2)))
    return segment.length > units;
  return false;
}

// ---------------------------------------------------------------------------------------
// Encoding choice

function checkLanguages(languages: readonly NationalLanguage[] | undefined): readonly NationalLanguage[] {
  if (!languages) return [];
  for (const lang of languages) {
    if (!NATIONAL_LANGUAGES.includes(lang)) {
      throw new SmsError('invalid_argument', `no national language tables for ${String(lang)}`);
    }
  }
  return languages;
}

interface Gsm7Plan {
  septets: Buffer;
  shift: Gsm7Shift | undefined;
  ies: readonly UdhIe[];
  limits: Limits;
  cuts: number[];
}

/**
 * The cheapest GSM 7-bit form of `text`: fewest segments, then fewest shift IEs, then fewest
 * septets. The default tables win when they fit one SMS; national tables are tried only when
 * enabled.
 */
function bestGsm7(
  text: string,
  languages: readonly NationalLanguage[],
  extraIes: readonly UdhIe[],
  referenceBits: 8 | 16,
): Gsm7Plan | undefined {
  let best: Gsm7Plan | undefined;
  const plain = gsm7Septets(text);
  if (plain) {
    const limits = limitsFor('gsm7', extraIes, referenceBits);
    best = { septets: plain, shift: undefined, ies: extraIes, limits, cuts: septetCuts(plain, limits) };
    if (best.cuts.length === 1) return best;
  }
  if (languages.length === 0) return best;
  const lockings: (LockingShiftLanguage | undefined)[] = [undefined];
  for (const lang of languages) if (lang !== 'es') lockings.push(lang);
  for (const lockingShift of lockings) {
    for (const singleShift of [undefined, ...languages]) {
      if (!lockingShift && !singleShift) continue;
      const shift: Gsm7Shift = {};
      if (lockingShift) shift.lockingShift = lockingShift;
      if (singleShift) shift.singleShift = singleShift;
      const septets = gsm7Septets(text, shift);
      if (!septets) continue;
      const ies = [...extraIes, ...nationalLanguageIes(shift)];
      const limits = limitsFor('gsm7', ies, referenceBits);
      const cuts = septetCuts(septets, limits);
      if (
        !best ||
        cuts.length < best.cuts.length ||
        (cuts.length === best.cuts.length &&
          (ies.length < best.ies.length ||
            (ies.length === best.ies.length && septets.length < best.septets.length)))
      ) {
        best = { septets, shift, ies, limits, cuts };
      }
    }
  }
  return best;
}

/** Whether any enabled GSM table (default or national) has the character. */
function gsm7CharacterTest(languages: readonly NationalLanguage[]): (char: string) => boolean {
  const maps = [gsm7Encoder()];
  for (const lang of languages) {
    maps.push(gsm7Encoder({ singleShift: lang }));
    if (lang !== 'es') maps.push(gsm7Encoder({ lockingShift: lang }));
  }
  return (char) => char.length === 1 && maps.some((map) => map[char.charCodeAt(0)] !== 0);
}

interface Plan {
  encoding: Encoding;
  text: string;
  shift: Gsm7Shift | undefined;
  /** The whole user data, and bytes per unit of it. */
  bytes: Buffer;
  unitBytes: 1 | 2;
  ies: readonly UdhIe[];
  limits: Limits;
  cuts: number[];
  unicodeCharacters?: string[];
}

interface Checked {
  requested: 'auto' | Encoding;
  referenceBits: 8 | 16;
  extraIes: readonly UdhIe[];
  languages: readonly NationalLanguage[];
}

function checkTextOptions(text: string, options: SplitOptions): Checked {
  if (typeof text !== 'string') throw new SmsError('invalid_argument', 'text must be a string');
  const requested = options.encoding ?? 'auto';
  if (requested !== 'auto' && !isEncoding(requested)) {
    throw new SmsError('invalid_argument', `unknown encoding ${String(requested)}`);
  }
  const referenceBits = options.referenceBits ?? 8;
  if (referenceBits !== 8 && referenceBits !== 16) {
    throw new SmsError('invalid_argument', `referenceBits must be 8 or 16, not ${String(referenceBits)}`);
  }
  return {
    requested,
    referenceBits,
    extraIes: options.ies ?? [],
    languages: checkLanguages(options.nationalLanguages),
  };
}

/** The GSM 7-bit plan for `text`, smart-replaced when enabled and needed; undefined when none. */
function gsm7Plan(
  text: string,
  c: Checked,
  smart: boolean | undefined,
): { text: string; gsm: Gsm7Plan } | undefined {
  const gsm = bestGsm7(text, c.languages, c.extraIes, c.referenceBits);
  if (gsm) return { text, gsm };
  if (!smart) return undefined;
  const replaced = smartReplace(text, gsm7CharacterTest(c.languages));
  if (replaced === text) return undefined;
  const replacedGsm = bestGsm7(replaced, c.languages, c.extraIes, c.referenceBits);
  return replacedGsm ? { text: replaced, gsm: replacedGsm } : undefined;
}

/** The characters of `text` that no enabled GSM table has. */
function unicodeCharactersOf(text: string, languages: readonly NationalLanguage[]): string[] {
  const test = gsm7CharacterTest(languages);
  const found = new Set<string>();
  for (const ch of text) if (!test(ch)) found.add(ch);
  return [...found];
}

function plan(text: string, options: SplitOptions, withUnicodeCharacters = false): Plan {
  const c = checkTextOptions(text, options);
  let encoding: Encoding;
  let chosenText = text;
  if (c.requested === 'auto' || c.requested === 'gsm7') {
    const gsm = gsm7Plan(text, c, options.smartReplace);
    if (gsm) return { encoding: 'gsm7', text: gsm.text, bytes: gsm.gsm.septets, unitBytes: 1, ...gsm.gsm };
    if (c.requested === 'gsm7') {
      const found = unicodeCharactersOf(text, c.languages);
      const shown = found.length > 0 ? found : unencodableGsm7Characters(text);
      throw new SmsError('unencodable', `not representable in GSM 7-bit: ${describeCharacters(shown)}`);
    }
    encoding = 'ucs2';
  } else {
    encoding = c.requested;
    if (options.smartReplace && !canEncode(text, encoding)) {
      const replaced = smartReplace(text, (ch) => canEncode(ch, encoding));
      if (canEncode(replaced, encoding)) chosenText = replaced;
    }
  }
  const bytes = encodeText(chosenText, encoding);
  const limits = limitsFor(encoding, c.extraIes, c.referenceBits);
  const result: Plan = {
    encoding,
    text: chosenText,
    shift: undefined,
    bytes,
    unitBytes: encoding === 'ucs2' ? 2 : 1,
    ies: c.extraIes,
    limits,
    cuts: encoding === 'ucs2' ? utf16Cuts(chosenText, limits) : octetCuts(bytes.length, limits),
  };
  if (withUnicodeCharacters && c.requested === 'auto') {
    result.unicodeCharacters = unicodeCharactersOf(text, c.languages);
  }
  return result;
}

/**
 * The cheapest encoding that represents `text`: GSM 7-bit (default tables, else the enabled
 * national ones), after smart replacement when enabled and needed, else UCS-2 with the
 * original text.
 */
export function chooseEncoding(text: string, options: TextOptions = {}): EncodingChoice {
  const c = checkTextOptions(text, options);
  const gsm = gsm7Plan(text, c, options.smartReplace);
  if (!gsm) return { encoding: 'ucs2', text };
  const choice: EncodingChoice = { encoding: 'gsm7', text: gsm.text };
  if (gsm.gsm.shift) choice.shift = gsm.gsm.shift;
  return choice;
}

/** Segment count and room left, without building the parts. */
export function calculateSegments(text: string, options: TextOptions & LayoutOptions = {}): SegmentInfo {
  const p = plan(text, options, true);
  const segments = p.cuts.length;
  const characters = p.bytes.length / p.unitBytes;
  const perSegment = segments === 1 ? p.limits.single : p.limits.multi;
  const used = characters - (segments === 1 ? 0 : p.cuts[segments - 2]!);
  const info: SegmentInfo = {
    encoding: p.encoding,
    segments,
    characters,
    perSegment,
    used,
    remaining: perSegment - used,
    text: p.text,
  };
  if (p.unicodeCharacters) info.unicodeCharacters = p.unicodeCharacters;
  if (p.shift) info.shift = p.shift;
  return info;
}

let nextReference = Math.floor(Math.random() * 0x10000);

function checkSplitOptions(options: SplitOptions): { mode: SplitMode; maxParts: number } {
  const mode = options.mode ?? 'udh';
  if (mode !== 'udh' && mode !== 'sar' && mode !== 'payload') {
    throw new SmsError('invalid_argument', `mode must be udh, sar or payload, not ${String(mode)}`);
  }
  const maxParts = options.maxParts ?? DEFAULT_MAX_PARTS;
  if (!Number.isInteger(maxParts) || maxParts < 1 || maxParts > MAX_PARTS) {
    throw new SmsError('invalid_argument', `maxParts must be 1..${MAX_PARTS}, not ${maxParts}`);
  }
  const ref = options.reference;
  if (ref !== undefined && (!Number.isInteger(ref) || ref < 0)) {
    throw new SmsError('invalid_argument', `reference must be a non-negative integer, not ${ref}`);
  }
  return { mode, maxParts };
}

/**
 * Splits `text` into the parts of one SMS, or of a concatenated one. Throws SmsError:
 * 'unencodable' when the requested encoding cannot represent the text, 'too_many_parts' when
 * it needs more than `maxParts` segments.
 */
export function splitMessage(text: string, options: SplitOptions = {}): SplitResult {
  const checked = checkSplitOptions(options);
  const p = plan(text, options);
  const result = assemble(p, options, checked.mode, checked.maxParts);
  result.text = p.text;
  if (p.shift) result.shift = p.shift;
  return result;
}

/** Splits 8-bit data (say a WAP push or a ringtone) like splitMessage; encoding 'binary'. */
export function splitBinary(
  data: Uint8Array,
  options: Omit<SplitOptions, 'encoding' | keyof TextOptions> = {},
): SplitResult {
  const checked = checkSplitOptions(options);
  const referenceBits = options.referenceBits ?? 8;
  if (referenceBits !== 8 && referenceBits !== 16) {
    throw new SmsError('invalid_argument', `referenceBits must be 8 or 16, not ${String(referenceBits)}`);
  }
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const ies = options.ies ?? [];
  const limits = limitsFor('binary', ies, referenceBits);
  const p: Plan = {
    encoding: 'binary',
    text: '',
    shift: undefined,
    bytes,
    unitBytes: 1,
    ies,
    limits,
    cuts: octetCuts(bytes.length, limits),
  };
  return assemble(p, options, checked.mode, checked.maxParts);
}

/**
 * The encoding and segment count splitMessage would give `text`, with the same errors, without
 * building the parts (pricing a message that is split again when it is sent).
 */
export function countSegments(
  text: string,
  options: SplitOptions = {},
): { encoding: Encoding; segments: number } {
  const { maxParts } = checkSplitOptions(options);
  const p = plan(text, options);
  refuseTooMany(p.cuts.length, maxParts);
  return { encoding: p.encoding, segments: p.cuts.length };
}

function refuseTooMany(segments: number, maxParts: number): void {
  if (segments > maxParts)
    throw new SmsError(
      'too_many_parts',
      `the message needs ${segments} segments; at most ${maxParts} allowed`,
    );
}

function assemble(p: Plan, options: SplitOptions, mode: SplitMode, maxParts: number): SplitResult {
  const segments = p.cuts.length;
  refuseTooMany(segments, maxParts);
  const result: SplitResult = {
    encoding: p.encoding,
    dataCoding: dataCodingFor(p.encoding, { messageClass: options.messageClass, flash: options.flash }),
    text: p.text,
    parts: [],
    segments,
  };
  const baseUdh = p.ies.length > 0 ? buildUdh(p.ies) : undefined;
  if (mode === 'payload' || segments === 1) {
    result.parts.push(baseUdh ? { payload: p.bytes, udh: baseUdh } : { payload: p.bytes });
    return result;
  }
  const referenceBits = options.referenceBits ?? 8;
  // sar_msg_ref_num is 16 bits whatever header the SMSC will build from it.
  const mask = referenceBits === 16 || mode === 'sar' ? 0xffff : 0xff;
  const reference = (options.reference ?? nextReference++) & mask;
  nextReference &= 0xffff;
  result.reference = reference;
  let start = 0;
  for (let i = 0; i < segments; i++) {
    const end = p.cuts[i]!;
    const part: MessagePart = { payload: p.bytes.subarray(start * p.unitBytes, end * p.unitBytes) };
    const sequence = i + 1;
    if (mode === 'udh') {
      part.udh = buildUdh([concatIe(reference, segments, sequence, referenceBits), ...p.ies]);
    } else {
      if (baseUdh) part.udh = baseUdh;
      part.sar = { reference, total: segments, sequence };
    }
    result.parts.push(part);
    start = end;
  }
  return result;
}
