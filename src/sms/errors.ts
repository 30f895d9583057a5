// The one error type of the SMS text layer; `code` says what went wrong.

export type SmsErrorCode =
  /** The text has characters the requested encoding cannot represent. */
  | 'unencodable'
  /** Splitting would need more parts than allowed (`maxParts`, at most 255). */
  | 'too_many_parts'
  /** An argument is out of range or a combination is not possible. */
  | 'invalid_argument'
  /** A transfer-layer PDU (TS 23.040) that cannot be read. */
  | 'invalid_pdu';

export class SmsError extends Error {
  readonly code: SmsErrorCode;

  constructor(code: SmsErrorCode, message: string) {
    super(message);
    this.name = 'SmsError';
    this.code = code;
  }
}

/** `"é" (U+00E9), …` for error messages; at most ten shown. */
export function describeCharacters(chars: readonly string[]): string {
  const shown = chars
    .slice(0, 10)
    .map((c) => `"${c}" (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`);
  return chars.length > 10 ? `${shown.join(', ')} and ${chars.length - 10} more` : shown.join(', ');
}
