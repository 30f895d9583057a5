// Public surface of UCP/EMI: the sans-I/O codec (frames, operations, field encodings), the
// session on a socket (TRN window, timeouts, keep-alive) and the logging-in client.

export { fromUcpAddress, Otoa, toUcpOriginator, toUcpRecipient } from './address.ts';
export type { UcpClientEvents, UcpClientOptions, UcpClientState } from './client.ts';
export { UcpClient } from './client.ts';
export type { UcpFrame, UcpKind } from './codec.ts';
export {
  checksum,
  decodeFrame,
  ETX,
  encodeFrame,
  maxFrameLength,
  maxWindow,
  STX,
  UcpDecodeError,
  UcpEncodeError,
} from './codec.ts';
export type { MessageBody, XSerEntry } from './fields.ts';
export {
  dataBody,
  decodeAlphanumericAddress,
  decodeIra,
  decodeXSer,
  encodeAlphanumericAddress,
  encodeIra,
  encodeXSer,
  formatUcpTime,
  fromHex,
  isIraText,
  parseUcpTime,
  readBody,
  textBody,
  toHex,
  UcpFieldError,
  XSerType,
} from './fields.ts';
export { UcpFramer } from './framer.ts';
export type { BodyOptions } from './message.ts';
export { binaryBodies, textBodies } from './message.ts';
export type { Op5x, Op31, Op60, UcpResult } from './operations.ts';
export {
  errorCodes,
  errorName,
  expectedFieldCount,
  fieldsOf,
  namedFields,
  Ot,
  op5xFields,
  op31Fields,
  op60Fields,
  readResult,
  resultFields,
} from './operations.ts';
export type { UcpSessionEvents, UcpSessionOptions } from './session.ts';
export { UcpSession, UcpSessionError } from './session.ts';
