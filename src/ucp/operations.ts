// The operations smsgw speaks, by their fields' names (EMI - UCP 4.6): the 50-series (51
// submit, 52 deliver, 53 delivery notification) share one layout of 33 fields, 60 session
// management has 12, 31 alert 2. Results: ACK or NAck, then, for the 50-series, MVP or EC
// and SM; for the others EC on a NAck and SM.
import type { UcpFrame } from './codec.ts';

export const Ot = {
  ALERT: 31,
  SUBMIT: 51,
  DELIVER: 52,
  NOTIFICATION: 53,
  SESSION: 60,
} as const;

export const op5xFields = [
  'AdC',
  'OAdC',
  'AC',
  'NRq',
  'NAdC',
  'NT',
  'NPID',
  'LRq',
  'LRAd',
  'LPID',
  'DD',
  'DDT',
  'VP',
  'RPID',
  'SCTS',
  'Dst',
  'Rsn',
  'DSCTS',
  'MT',
  'NB',
  'Msg',
  'MMS',
  'PR',
  'DCs',
  'MCLs',
  'RPI',
  'CPg',
  'RPLy',
  'OTOA',
  'HPLMN',
  'XSer',
  'RES4',
  'RES5',
] as const;

export const op60Fields = [
  'OAdC',
  'OTON',
  'ONPI',
  'STYP',
  'PWD',
  'NPWD',
  'VERS',
  'LAdC',
  'LTON',
  'LNPI',
  'OPID',
  'RES1',
] as const;

export const op31Fields = ['AdC', 'PID'] as const;

/** A 50-series operation; `Msg` is AMsg (MT 3) or TMsg (MT 4), hex-encoded. */
export type Op5x = Partial<Record<(typeof op5xFields)[number], string>>;
export type Op60 = Partial<Record<(typeof op60Fields)[number], string>>;
export type Op31 = Partial<Record<(typeof op31Fields)[number], string>>;

export function fieldsOf<N extends string>(names: readonly N[], op: Partial<Record<N, string>>): string[] {
  return names.map((n) => op[n] ?? '');
}

/** A frame's fields by name; missing trailing fields read as empty. */
export function namedFields<N extends string>(
  names: readonly N[],
  fields: readonly string[],
): Partial<Record<N, string>> {
  const op: Partial<Record<N, string>> = {};
  names.forEach((name, i) => {
    const value = fields[i];
    if (value !== undefined && value !== '') op[name] = value;
  });
  return op;
}

/** Where an operation's layout is known, the number of fields it must have. */
export function expectedFieldCount(ot: number): number | null {
  if (ot >= 51 && ot <= 58) return op5xFields.length;
  if (ot === 60 || ot === 61) return op60Fields.length;
  if (ot === 31) return op31Fields.length;
  return null;
}

export interface UcpResult {
  ack: boolean;
  /** Error code of a NAck (two digits). */
  ec: string;
  /** System message: for a 51 ACK, `AdC:SCTS`, the id its notification will carry. */
  sm: string;
  /** Modified validity period a 50-series ACK may carry. */
  mvp: string;
}

/** The fields of a result to `ot`. */
export function resultFields(
  ot: number,
  result: { ack: true; sm?: string } | { ack: false; ec: string; sm?: string },
): string[] {
  const series50 = ot >= 50 && ot <= 59;
  if (result.ack) return series50 ? ['A', '', result.sm ?? ''] : ['A', result.sm ?? ''];
  return ['N', result.ec, result.sm ?? ''];
}

export function readResult(frame: UcpFrame): UcpResult {
  const [first = '', second = '', third = ''] = frame.fields;
  const ack = first === 'A';
  if (!ack) return { ack, ec: second, sm: third, mvp: '' };
  if (frame.ot >= 50 && frame.ot <= 59) return { ack, ec: '', mvp: second, sm: third };
  return { ack, ec: '', mvp: '', sm: second };
}

/** Error codes' names (EMI - UCP 4.6, 8.2), for logs and lastError. */
export const errorCodes = new Map<string, string>(
  Object.entries({
    '01': 'checksum error',
    '02': 'syntax error',
    '03': 'operation not supported by system',
    '04': 'operation not allowed',
    '05': 'call barring active',
    '06': 'AdC invalid',
    '07': 'authentication failure',
    '08': 'legitimisation code for all calls, failure',
    '22': 'time period not valid',
    '23': 'message type not supported by system',
    '24': 'message too long',
    '26': 'message type not valid for the pager type',
    '28': 'invalid character set',
    '50': 'low network status',
    '55': 'system error',
  }),
);

export function errorName(ec: string): string {
  return errorCodes.get(ec) ?? 'unknown error';
}
