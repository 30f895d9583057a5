// SMSC delivery receipts (SMPP 3.4 Appendix B): the text an SMSC puts in the short_message
// of a deliver_sm with esm_class DELIVERY_RECEIPT,
//   id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:…
// and the TLVs 3.4 added for the same facts (receipted_message_id, message_state,
// network_error_code). SMSCs vary the text a great deal, so reading is tolerant: any field
// order, any key case, dates with or without seconds, extra vendor fields, vendor stat words.
import { MessageState, NetworkErrorType } from './constants.ts';
import type { Pdu, Tlvs } from './pdu.ts';
import { networkErrorCode, readNetworkErrorCode } from './tlv.ts';

/** The stat words of Appendix B; what parseReceipt maps every vendor word onto. */
export type ReceiptStat =
  | 'ENROUTE'
  | 'DELIVRD'
  | 'EXPIRED'
  | 'DELETED'
  | 'UNDELIV'
  | 'ACCEPTD'
  | 'UNKNOWN'
  | 'REJECTD'
  | 'SKIPPED';

const statOfState: Record<number, ReceiptStat> = {
  [MessageState.ENROUTE]: 'ENROUTE',
  [MessageState.DELIVERED]: 'DELIVRD',
  [MessageState.EXPIRED]: 'EXPIRED',
  [MessageState.DELETED]: 'DELETED',
  [MessageState.UNDELIVERABLE]: 'UNDELIV',
  [MessageState.ACCEPTED]: 'ACCEPTD',
  [MessageState.UNKNOWN]: 'UNKNOWN',
  [MessageState.REJECTED]: 'REJECTD',
  [MessageState.SKIPPED]: 'SKIPPED',
};

const stateOfStat: Record<ReceiptStat, number> = {
  ENROUTE: MessageState.ENROUTE,
  DELIVRD: MessageState.DELIVERED,
  EXPIRED: MessageState.EXPIRED,
  DELETED: MessageState.DELETED,
  UNDELIV: MessageState.UNDELIVERABLE,
  ACCEPTD: MessageState.ACCEPTED,
  UNKNOWN: MessageState.UNKNOWN,
  REJECTD: MessageState.REJECTED,
  SKIPPED: MessageState.SKIPPED,
};

// Vendor words by their first letters: DELIVRD, DELIVERED, DELIVER; UNDELIV, UNDELIVERABLE,
// UNDELIVERED; FAILED; REJECTD, REJECTED … The longest prefix that matches wins.
const statPrefixes: Array<[string, ReceiptStat]> = [
  ['UNDELIV', 'UNDELIV'],
  ['DELIV', 'DELIVRD'],
  ['DELET', 'DELETED'],
  ['EXPIR', 'EXPIRED'],
  ['FAIL', 'UNDELIV'],
  ['ERR', 'UNDELIV'],
  ['ACCEPT', 'ACCEPTD'],
  ['ACK', 'ACCEPTD'],
  ['REJECT', 'REJECTD'],
  ['ENROUTE', 'ENROUTE'],
  ['BUFFERED', 'ENROUTE'],
  ['SKIP', 'SKIPPED'],
  ['UNKNOWN', 'UNKNOWN'],
];

/** The canonical stat of a vendor word (case-insensitive); UNKNOWN for words it cannot place. */
export function canonicalStat(word: string): ReceiptStat {
  const upper = word.trim().toUpperCase();
  if (/^\d$/.test(upper)) return statOfState[Number(upper)] ?? 'UNKNOWN';
  for (const [prefix, stat] of statPrefixes) if (upper.startsWith(prefix)) return stat;
  return 'UNKNOWN';
}

export interface ReceiptFields {
  id: string;
  /** Messages submitted, default 1. */
  sub?: number;
  /** Messages delivered, default 1 when stat is DELIVRD, else 0. */
  dlvrd?: number;
  submitDate: Date;
  doneDate: Date;
  stat: string;
  /** A number prints as 3 digits; a string as it is. Default '000'. */
  err?: string | number;
  /** The start of the message; only its first 20 characters are kept. */
  text?: string;
}

const pad3 = (n: number) => String(n).padStart(3, '0');

/** YYMMDDhhmm in UTC: the 10-digit date Appendix B gives. */
function receiptDate(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    two(d.getUTCFullYear() % 100) +
    two(d.getUTCMonth() + 1) +
    two(d.getUTCDate()) +
    two(d.getUTCHours()) +
    two(d.getUTCMinutes())
  );
}

/**
 * The receipt travels as plain octets (data_coding 0, read as ASCII by every ESME we know):
 * characters outside printable ASCII become `?` rather than bytes each reader decodes
 * differently.
 */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/gu, '?');
}

/** The Appendix B receipt text, with lower-case `text:` as most SMSCs send it. */
export function formatReceipt(r: ReceiptFields): string {
  const err = r.err === undefined ? '000' : typeof r.err === 'number' ? pad3(r.err) : r.err;
  const dlvrd = r.dlvrd ?? (r.stat === 'DELIVRD' ? 1 : 0);
  return (
    `id:${r.id} sub:${pad3(r.sub ?? 1)} dlvrd:${pad3(dlvrd)} ` +
    `submit date:${receiptDate(r.submitDate)} done date:${receiptDate(r.doneDate)} ` +
    `stat:${r.stat} err:${err} text:${printable((r.text ?? '').slice(0, 20))}`
  );
}

export interface ParsedReceipt {
  /** The message id as the SMSC printed it (see normaliseMessageId to match it). */
  id: string;
  /** Where the id came from: the receipted_message_id TLV, or the receipt's text. */
  idFrom?: 'tlv' | 'text';
  sub: number | undefined;
  dlvrd: number | undefined;
  submitDate: Date | undefined;
  doneDate: Date | undefined;
  /** The canonical stat word. */
  stat: ReceiptStat;
  /** The stat word as printed ('' when it came only from the message_state TLV). */
  rawStat: string;
  /** MessageState value of `stat`. */
  messageState: number;
  /** The err field as printed (it may hold letters). */
  err: string | undefined;
  /** `err` as a number when it is decimal digits (or 0x-hex), else undefined. */
  errorCode: number | undefined;
  text: string | undefined;
  /** From the network_error_code TLV, when the PDU carried one. */
  networkError?: { type: number; code: number };
}

// Keys by their normal name; 'submit date' is also written submit_date or submitdate.
const keyPattern = /(?:^|[\s,;])(id|sub|dlvrd|submit[ _]?date|done[ _]?date|stat|err|text)\s*:/gi;

function keyName(raw: string): string {
  const k = raw.toLowerCase();
  if (k.startsWith('submit')) return 'submit date';
  if (k.startsWith('done')) return 'done date';
  return k;
}

/** A 10- (YYMMDDhhmm), 12- (…ss) or 14-digit (YYYYMMDDhhmmss) receipt date, read as UTC. */
function parseReceiptDate(value: string): Date | undefined {
  const digits = /^\d+$/.test(value) ? value : '';
  let year: number;
  let rest: string;
  if (digits.length === 10 || digits.length === 12) {
    year = 2000 + Number(digits.slice(0, 2));
    rest = digits.slice(2);
  } else if (digits.length === 14) {
    year = Number(digits.slice(0, 4));
    rest = digits.slice(4);
  } else {
    return undefined;
  }
  const two = (at: number) => Number(rest.slice(at, at + 2) || '0');
  const mo = two(0);
  const dd = two(2);
  const hh = two(4);
  const mi = two(6);
  const ss = two(8);
  if (mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh > 23 || mi > 59 || ss > 59) return undefined;
  const d = new Date(Date.UTC(year, mo - 1, dd, hh, mi, ss));
  return d.getUTCDate() === dd ? d : undefined;
}

function parseCount(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

function parseErrorCode(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  if (/^0x[0-9a-f]+$/i.test(value)) return Number.parseInt(value.slice(2), 16);
  return undefined;
}

/**
 * Reads receipt text. Needs at least `id:` and `stat:`; returns null otherwise. Keys are
 * case-insensitive and may come in any order; unknown `key:value` fields are skipped.
 * `text:` runs to the end of the string once id and stat have been seen (the message text
 * may itself contain colons), otherwise up to the next key.
 */
export function parseReceipt(text: string): ParsedReceipt | null {
  const fields = new Map<string, string>();
  // Most SMSCs print exactly the Appendix B layout: one match reads it. Anything else goes
  // through the tolerant scan below.
  const standard = standardLayout.exec(text);
  if (standard) {
    const [, id, sub, dlvrd, submit, done, stat, err, rest] = standard;
    for (const [key, value] of [
      ['id', id],
      ['sub', sub],
      ['dlvrd', dlvrd],
      ['submit date', submit],
      ['done date', done],
      ['stat', stat],
      ['err', err],
      ['text', rest],
    ] as const) {
      fields.set(key, value!);
    }
    return fromFields(fields);
  }
  const matches = [...text.matchAll(keyPattern)];
  for (let i = 0; i < matches.length; i++) {
    const m = matches[i]!;
    const key = keyName(m[1]!);
    const valueStart = m.index + m[0].length;
    if (key === 'text') {
      const rest = fields.has('id') && fields.has('stat');
      const valueEnd = rest || i + 1 === matches.length ? text.length : matches[i + 1]!.index;
      if (!fields.has('text')) fields.set('text', text.slice(valueStart, valueEnd));
      if (rest) break;
      continue;
    }
    if (fields.has(key)) continue;
    fields.set(key, /^\s*(\S*)/.exec(text.slice(valueStart))![1]!);
  }
  return fromFields(fields);
}

const standardLayout =
  /^id:(\S+) sub:(\d+) dlvrd:(\d+) submit date:(\d+) done date:(\d+) stat:(\S+) err:(\S+) [Tt]ext:(.*)$/s;

function fromFields(fields: Map<string, string>): ParsedReceipt | null {
  const id = fields.get('id');
  const rawStat = fields.get('stat');
  if (id === undefined || id === '' || rawStat === undefined) return null;
  const stat = canonicalStat(rawStat);
  const err = fields.get('err');
  const submit = fields.get('submit date');
  const done = fields.get('done date');
  return {
    id,
    sub: parseCount(fields.get('sub')),
    dlvrd: parseCount(fields.get('dlvrd')),
    submitDate: submit === undefined ? undefined : parseReceiptDate(submit),
    doneDate: done === undefined ? undefined : parseReceiptDate(done),
    stat,
    rawStat,
    messageState: stateOfStat[stat],
    err,
    errorCode: parseErrorCode(err),
    text: fields.get('text'),
  };
}

/**
 * The receipt a deliver_sm or data_sm carries, from its text (short_message, or
 * message_payload when short_message is empty) and its TLVs; where both say something the
 * TLVs win (receiptedMessageId, messageState, networkErrorCode). null when neither has
 * a message id and a state. The caller checks esm_class (EsmClass.DELIVERY_RECEIPT):
 * this reads any PDU it is given.
 */
export function receiptFromPdu(pdu: Pdu): ParsedReceipt | null {
  const tlvs: Tlvs = pdu.tlvs ?? {};
  const body = 'shortMessage' in pdu && pdu.shortMessage.length > 0 ? pdu.shortMessage : tlvs.messagePayload;
  const fromText = body === undefined ? null : parseReceipt(body.toString('latin1'));
  const id = tlvs.receiptedMessageId || fromText?.id;
  const state = tlvs.messageState ?? fromText?.messageState;
  if (id === undefined || state === undefined) return null;
  const stat = tlvs.messageState !== undefined ? (statOfState[state] ?? 'UNKNOWN') : fromText!.stat;
  const networkError =
    tlvs.networkErrorCode === undefined ? undefined : readNetworkErrorCode(tlvs.networkErrorCode);
  const receipt: ParsedReceipt = {
    id,
    idFrom: tlvs.receiptedMessageId ? 'tlv' : 'text',
    sub: fromText?.sub,
    dlvrd: fromText?.dlvrd,
    submitDate: fromText?.submitDate,
    doneDate: fromText?.doneDate,
    stat,
    rawStat: fromText?.rawStat ?? '',
    messageState: state,
    err: fromText?.err,
    errorCode: networkError?.code ?? fromText?.errorCode,
    text: fromText?.text,
  };
  if (networkError !== undefined) receipt.networkError = networkError;
  return receipt;
}

/**
 * The TLVs of a receipt (3.4 §4.6.1): receipted_message_id, message_state and, when there
 * is an error, network_error_code (GSM unless `networkErrorType` says otherwise).
 */
export function buildReceiptTlvs(r: {
  messageId: string;
  messageState: number;
  networkErrorCode?: number;
  networkErrorType?: number;
}): Tlvs {
  const tlvs: Tlvs = { receiptedMessageId: r.messageId, messageState: r.messageState };
  if (r.networkErrorCode !== undefined) {
    tlvs.networkErrorCode = networkErrorCode(r.networkErrorType ?? NetworkErrorType.GSM, r.networkErrorCode);
  }
  return tlvs;
}

/**
 * The form of a message id used to match a receipt to its submit_sm_resp. Ids made of hex
 * digits only are lower-cased and lose leading zeros ('0001A2' → '1a2'); any other id
 * (UUIDs, ids with letters beyond f) is only trimmed, as its case may matter.
 */
export function normaliseMessageId(id: string): string {
  const trimmed = id.trim();
  if (!/^[0-9a-f]+$/i.test(trimmed)) return trimmed;
  return trimmed.toLowerCase().replace(/^0+(?=.)/, '');
}

/**
 * How an SMSC writes a message's id in the text of its receipts, next to its
 * submit_sm_resp: `as-submitted` (the same, as most do and the receipted_message_id TLV
 * always is), `decimal` (the response's id is hex, the receipt prints it in decimal) or
 * `hex` (the response's id is decimal, the receipt prints it in hex), as Kannel's
 * msg-id-type says per SMSC. Guessing is not safe: `10` reads both ways, and in a busy
 * window both readings name a message.
 */
export type ReceiptIdForm = 'as-submitted' | 'decimal' | 'hex';
export const receiptIdForms: readonly ReceiptIdForm[] = ['as-submitted', 'decimal', 'hex'];

/**
 * A receipt's id written as its submit_sm_resp wrote it, normalised (normaliseMessageId);
 * an id that is not a number in the base `form` names is only normalised.
 */
export function submittedIdOf(receiptId: string, form: ReceiptIdForm): string {
  const id = normaliseMessageId(receiptId);
  if (id.length > 40) return id;
  if (form === 'decimal' && /^\d+$/.test(id)) return BigInt(id).toString(16);
  if (form === 'hex' && /^[0-9a-f]+$/.test(id)) return BigInt(`0x${id}`).toString(10);
  return id;
}
