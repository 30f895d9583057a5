// The numbers of Nokia's CIMD2 interface: operation codes, parameter codes, the error codes
// of parameter 900 and the status codes of a status report (061).

export const Operation = {
  LOGIN: 1,
  LOGOUT: 2,
  SUBMIT: 3,
  ENQUIRE_STATUS: 4,
  DELIVERY_REQUEST: 5,
  CANCEL: 6,
  SET: 8,
  GET: 9,
  DELIVER_MESSAGE: 20,
  DELIVER_STATUS_REPORT: 23,
  ALIVE: 40,
  /** Added to a request's code for its response (01 → 51, 40 → 90). */
  RESPONSE: 50,
  GENERAL_ERROR: 98,
  NACK: 99,
} as const;

export const Param = {
  USER_IDENTITY: 10,
  PASSWORD: 11,
  SUBADDRESS: 12,
  WINDOW_SIZE: 19,
  DESTINATION_ADDRESS: 21,
  ORIGINATING_ADDRESS: 23,
  ALPHANUMERIC_ORIGINATING_ADDRESS: 27,
  DATA_CODING_SCHEME: 30,
  USER_DATA_HEADER: 32,
  USER_DATA: 33,
  USER_DATA_BINARY: 34,
  MORE_MESSAGES_TO_SEND: 44,
  VALIDITY_PERIOD_RELATIVE: 50,
  VALIDITY_PERIOD_ABSOLUTE: 51,
  PROTOCOL_IDENTIFIER: 52,
  STATUS_REPORT_REQUEST: 56,
  SERVICE_CENTRE_TIMESTAMP: 60,
  STATUS_CODE: 61,
  STATUS_ERROR_CODE: 62,
  DISCHARGE_TIME: 63,
  PRIORITY: 67,
  ERROR_CODE: 900,
  ERROR_TEXT: 901,
} as const;

/** Error codes carried in parameter 900 of a response (and of 98 general error). */
export const ErrorCode = {
  UNEXPECTED_OPERATION: 1,
  SYNTAX_ERROR: 2,
  UNSUPPORTED_PARAMETER: 3,
  CONNECTION_LOST: 4,
  NO_RESPONSE: 5,
  GENERAL_SYSTEM_ERROR: 6,
  CANNOT_FIND_INFORMATION: 7,
  PARAMETER_FORMATTING: 8,
  OPERATION_FAILED: 9,
  TEMPORARY_CONGESTION: 10,
  INVALID_LOGIN: 100,
  INCORRECT_ACCESS_TYPE: 101,
  TOO_MANY_USERS: 102,
  LOGIN_REFUSED: 103,
  INVALID_WINDOW_SIZE: 104,
  INCORRECT_DESTINATION: 300,
  USER_DATA_SYNTAX: 302,
  USER_DATA_COMBINATION: 303,
  INCORRECT_DCS: 304,
  INCORRECT_ORIGINATOR: 306,
} as const;

const errorTexts: Record<number, string> = {
  1: 'unexpected operation',
  2: 'syntax error',
  3: 'unsupported parameter',
  4: 'connection to SMS centre lost',
  5: 'no response from SMS centre',
  6: 'general system error',
  7: 'cannot find information',
  8: 'parameter formatting error',
  9: 'requested operation failed',
  10: 'temporary congestion',
  100: 'invalid login',
  101: 'incorrect access type',
  102: 'too many users with this login',
  103: 'login refused by SMS centre',
  104: 'invalid window size',
  105: 'windowing disabled',
  300: 'incorrect destination address',
  301: 'incorrect number of destination addresses',
  302: 'syntax error in user data',
  303: 'incorrect bin/head/normal user data combination',
  304: 'incorrect data coding scheme',
  305: 'incorrect validity period',
  306: 'incorrect originator address',
  310: 'incorrect status report request',
};

/** `code 100 (invalid login)`: how an error code reads in lastError and logs. */
export function errorName(code: number): string {
  const text = errorTexts[code];
  return text === undefined ? `error ${code}` : `error ${code} (${text})`;
}

/** Codes after which the same request may succeed later (congestion, a lost link). */
export const temporaryErrors = new Set<number>([
  ErrorCode.CONNECTION_LOST,
  ErrorCode.NO_RESPONSE,
  ErrorCode.GENERAL_SYSTEM_ERROR,
  ErrorCode.TEMPORARY_CONGESTION,
]);

/** Status code (061) of a status report. */
export const StatusCode = {
  NO_STATUS: 0,
  IN_PROCESS: 1,
  VALIDITY_EXPIRED: 2,
  DELIVERY_FAILED: 3,
  DELIVERY_SUCCESSFUL: 4,
  NO_RESPONSE: 5,
  LAST_NO_RESPONSE: 6,
  CANCELLED: 7,
  DELETED: 8,
  DELETED_BY_CANCEL: 9,
} as const;

/**
 * Status report request (056) bits: which outcomes get a report. 14 = expired, failed and
 * delivered, the final ones.
 */
export const StatusReportRequest = {
  TEMPORARY_ERROR: 1,
  VALIDITY_EXPIRED: 2,
  DELIVERY_FAILED: 4,
  DELIVERY_SUCCESSFUL: 8,
  CANCELLED: 16,
  DELETED: 32,
  FINAL: 14,
} as const;
