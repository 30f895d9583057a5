// What each standard TLV holds: its value type, its size limits, and whether it may repeat
// (SMPP 3.4 §5.3.2, 5.0 §4.8.4). The codec reads and writes TLVs through this table; the
// helpers at the end build and read the compound octet-string values.

import type { TlvName } from './constants.ts';
import { TlvTag } from './constants.ts';
import type { Tlvs } from './pdu.ts';

/**
 * int: unsigned big-endian integer of `size` octets (read from any length 1–6);
 * cstring: C-octet string of at most `max` octets, NUL included;
 * octets: octet string of `min`–`max` octets;
 * alert: alert_on_message_delivery, empty (3.4) or one octet (5.0).
 */
export type TlvKind = 'int' | 'cstring' | 'octets' | 'alert';

export interface TlvSpec {
  readonly name: TlvName;
  readonly tag: number;
  readonly kind: TlvKind;
  /** Octets of an int. */
  readonly size: number;
  readonly min: number;
  readonly max: number;
  /** May appear more than once in a PDU; its value is then an array. */
  readonly repeats: boolean;
}

type KnownTlvName = Exclude<keyof Tlvs, 'vendor'>;

const int = (size: number, repeats = false) =>
  ({ kind: 'int', size, min: size, max: size, repeats }) as const;
const cstring = (max: number) => ({ kind: 'cstring', size: 0, min: 1, max, repeats: false }) as const;
const octets = (min: number, max: number, repeats = false) =>
  ({ kind: 'octets', size: 0, min, max, repeats }) as const;

// Keyed by the Tlvs interface, so a TLV added there without a row here fails to compile.
const layouts: { [K in KnownTlvName]: Omit<TlvSpec, 'name' | 'tag'> } = {
  destAddrSubunit: int(1),
  destNetworkType: int(1),
  destBearerType: int(1),
  destTelematicsId: int(2),
  sourceAddrSubunit: int(1),
  sourceNetworkType: int(1),
  sourceBearerType: int(1),
  sourceTelematicsId: int(2),
  qosTimeToLive: int(4),
  payloadType: int(1),
  additionalStatusInfoText: cstring(256),
  receiptedMessageId: cstring(65),
  msMsgWaitFacilities: int(1),
  privacyIndicator: int(1),
  sourceSubaddress: octets(2, 23),
  destSubaddress: octets(2, 23),
  userMessageReference: int(2),
  userResponseCode: int(1),
  sourcePort: int(2),
  destinationPort: int(2),
  sarMsgRefNum: int(2),
  languageIndicator: int(1),
  sarTotalSegments: int(1),
  sarSegmentSeqnum: int(1),
  scInterfaceVersion: int(1),
  callbackNumPresInd: int(1, true),
  callbackNumAtag: octets(0, 65, true),
  numberOfMessages: int(1),
  callbackNum: octets(4, 19, true),
  dpfResult: int(1),
  setDpf: int(1),
  msAvailabilityStatus: int(1),
  networkErrorCode: octets(3, 3),
  messagePayload: octets(0, 0xffff),
  deliveryFailureReason: int(1),
  moreMessagesToSend: int(1),
  messageState: int(1),
  congestionState: int(1),
  ussdServiceOp: int(1),
  broadcastChannelIndicator: int(1),
  broadcastContentType: octets(3, 3),
  broadcastContentTypeInfo: octets(0, 255),
  broadcastMessageClass: int(1),
  broadcastRepNum: int(2),
  broadcastFrequencyInterval: octets(3, 3),
  broadcastAreaIdentifier: octets(1, 101, true),
  broadcastErrorStatus: int(4, true),
  broadcastAreaSuccess: int(1, true),
  broadcastEndTime: cstring(17),
  broadcastServiceGroup: octets(0, 255),
  billingIdentification: octets(1, 1024),
  sourceNetworkId: cstring(65),
  destNetworkId: cstring(65),
  sourceNodeId: octets(6, 6),
  destNodeId: octets(6, 6),
  destAddrNpResolution: int(1),
  destAddrNpInformation: octets(10, 10),
  destAddrNpCountry: int(5),
  displayTime: int(1),
  smsSignal: int(2),
  msValidity: octets(1, 4),
  alertOnMessageDelivery: { kind: 'alert', size: 1, min: 0, max: 1, repeats: false },
  itsReplyType: int(1),
  itsSessionInfo: octets(2, 2),
};

/** The spec of every standard TLV, by name. */
export const tlvSpecs: Readonly<Record<KnownTlvName, TlvSpec>> = Object.fromEntries(
  (Object.keys(layouts) as KnownTlvName[]).map((name) => [
    name,
    { name, tag: TlvTag[name], ...layouts[name] },
  ]),
) as Record<KnownTlvName, TlvSpec>;

const specsByTag = new Map<number, TlvSpec>(Object.values(tlvSpecs).map((spec) => [spec.tag, spec]));

/** The spec of a standard tag, or undefined for unknown and vendor tags. */
export function tlvSpecOf(tag: number): TlvSpec | undefined {
  return specsByTag.get(tag);
}

/** network_error_code value: network type (NetworkErrorType) then a 2-octet error code. */
export function networkErrorCode(type: number, code: number): Buffer {
  const value = Buffer.allocUnsafe(3);
  value[0] = type;
  value.writeUInt16BE(code, 1);
  return value;
}

/** Reads a network_error_code value; undefined unless it has the 3 octets it should. */
export function readNetworkErrorCode(value: Buffer): { type: number; code: number } | undefined {
  return value.length === 3 ? { type: value[0]!, code: value.readUInt16BE(1) } : undefined;
}
