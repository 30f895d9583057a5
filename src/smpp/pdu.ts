// The message types of the codec: one interface per PDU layout, fields camelCased from the
// spec, discriminated on `command`. Strings are the C-octet strings of the spec (ASCII, one
// byte per character); octet strings are Buffers, which a decoder may hand out as views
// of the bytes it was given.
import type { CommandName } from './constants.ts';

export type { CommandName };

/** A TLV kept as it came: unknown and vendor-specific tags (0x1400–0x3FFF). */
export interface RawTlv {
  tag: number;
  value: Buffer;
}

/**
 * Every TLV of SMPP 3.4 and 5.0 by name. Integer TLVs are numbers, C-octet-string TLVs
 * strings, octet-string TLVs Buffers (with the size the spec gives in brackets). TLVs the
 * spec lets repeat in one PDU are arrays, in arrival order: callbackNum, callbackNumPresInd,
 * callbackNumAtag (5.0 §4.8.4.13–15: one set per callback number), broadcastAreaIdentifier
 * (one per area; in broadcast_sm_resp it names the failed areas), broadcastErrorStatus and
 * broadcastAreaSuccess (one per area).
 */
export interface Tlvs {
  destAddrSubunit?: number;
  destNetworkType?: number;
  destBearerType?: number;
  /** 2 octets. */
  destTelematicsId?: number;
  sourceAddrSubunit?: number;
  sourceNetworkType?: number;
  sourceBearerType?: number;
  /** 2 octets (5.0; 3.4 printed 1 — both are read). */
  sourceTelematicsId?: number;
  /** Seconds, 4 octets. */
  qosTimeToLive?: number;
  payloadType?: number;
  /** At most 255 characters. */
  additionalStatusInfoText?: string;
  /** The message id a receipt is about; at most 64 characters. */
  receiptedMessageId?: string;
  msMsgWaitFacilities?: number;
  privacyIndicator?: number;
  /** [2–23] type octet then the subaddress. */
  sourceSubaddress?: Buffer;
  /** [2–23] type octet then the subaddress. */
  destSubaddress?: Buffer;
  /** 2 octets. */
  userMessageReference?: number;
  userResponseCode?: number;
  /** 2 octets. */
  sourcePort?: number;
  /** 2 octets (5.0 calls it dest_port). */
  destinationPort?: number;
  /** 2 octets. */
  sarMsgRefNum?: number;
  languageIndicator?: number;
  sarTotalSegments?: number;
  sarSegmentSeqnum?: number;
  scInterfaceVersion?: number;
  callbackNumPresInd?: number[];
  /** [0–65] data coding octet then the display characters. */
  callbackNumAtag?: Buffer[];
  numberOfMessages?: number;
  /** [4–19] digit mode, TON, NPI octets then the digits. */
  callbackNum?: Buffer[];
  dpfResult?: number;
  setDpf?: number;
  msAvailabilityStatus?: number;
  /** [3] network type (NetworkErrorType) then a 2-octet error code. */
  networkErrorCode?: Buffer;
  /** [0–65535] the message, instead of short_message. */
  messagePayload?: Buffer;
  deliveryFailureReason?: number;
  moreMessagesToSend?: number;
  messageState?: number;
  congestionState?: number;
  /** 1 octet (an octet string of one in 3.4; read and written as its value). */
  ussdServiceOp?: number;
  broadcastChannelIndicator?: number;
  /** [3] network type then a 2-octet content type. */
  broadcastContentType?: Buffer;
  /** [0–255] */
  broadcastContentTypeInfo?: Buffer;
  broadcastMessageClass?: number;
  /** 2 octets. */
  broadcastRepNum?: number;
  /** [3] time unit then a 2-octet number of units. */
  broadcastFrequencyInterval?: Buffer;
  /** [1–101] each: format octet then the area details. */
  broadcastAreaIdentifier?: Buffer[];
  /** 4 octets each (a command_status). */
  broadcastErrorStatus?: number[];
  broadcastAreaSuccess?: number[];
  /** SMPP time (time.ts), 16 characters. */
  broadcastEndTime?: string;
  /** [0–255] */
  broadcastServiceGroup?: Buffer;
  /** [1–1024] format octet then the billing data. */
  billingIdentification?: Buffer;
  /** At most 64 characters. */
  sourceNetworkId?: string;
  /** At most 64 characters. */
  destNetworkId?: string;
  /** [6] decimal digits. */
  sourceNodeId?: Buffer;
  /** [6] decimal digits. */
  destNodeId?: Buffer;
  destAddrNpResolution?: number;
  /** [10] */
  destAddrNpInformation?: Buffer;
  /** E.164 country code, a 5-octet integer. */
  destAddrNpCountry?: number;
  displayTime?: number;
  /** 2 octets. */
  smsSignal?: number;
  /** [1 or 4] validity behaviour, then (5.0) time unit and a 2-octet number of units. */
  msValidity?: Buffer;
  /** `true` is the 3.4 form (present, no value); a number is the 5.0 alert priority. */
  alertOnMessageDelivery?: true | number;
  itsReplyType?: number;
  /** [2] session number then sequence / end-of-session octet. */
  itsSessionInfo?: Buffer;
  /**
   * TLVs the codec does not interpret, raw and in arrival order: unknown and
   * vendor-specific tags, repeats of a TLV that may not repeat, and known tags whose length
   * their type cannot have. Written back byte for byte, together, at the place of the
   * `vendor` key among the others.
   */
  vendor?: RawTlv[];
}

interface PduHeader {
  commandStatus: number;
  sequenceNumber: number;
  tlvs?: Tlvs;
}

export interface BindPdu extends PduHeader {
  command: 'bind_transmitter' | 'bind_receiver' | 'bind_transceiver';
  systemId: string;
  password: string;
  systemType: string;
  interfaceVersion: number;
  addrTon: number;
  addrNpi: number;
  addressRange: string;
}

export interface BindRespPdu extends PduHeader {
  command: 'bind_transmitter_resp' | 'bind_receiver_resp' | 'bind_transceiver_resp';
  systemId: string;
}

export interface OutbindPdu extends PduHeader {
  command: 'outbind';
  systemId: string;
  password: string;
}

export interface EmptyPdu extends PduHeader {
  command:
    | 'generic_nack'
    | 'unbind'
    | 'unbind_resp'
    | 'enquire_link'
    | 'enquire_link_resp'
    | 'cancel_sm_resp'
    | 'replace_sm_resp'
    | 'cancel_broadcast_sm_resp';
}

export interface SmPdu extends PduHeader {
  command: 'submit_sm' | 'deliver_sm';
  serviceType: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  sourceAddr: string;
  destAddrTon: number;
  destAddrNpi: number;
  destinationAddr: string;
  esmClass: number;
  protocolId: number;
  priorityFlag: number;
  scheduleDeliveryTime: string;
  validityPeriod: string;
  registeredDelivery: number;
  replaceIfPresentFlag: number;
  dataCoding: number;
  smDefaultMsgId: number;
  /** At most 254 octets; longer messages go in tlvs.messagePayload. */
  shortMessage: Buffer;
}

export interface MessageIdRespPdu extends PduHeader {
  command: 'submit_sm_resp' | 'deliver_sm_resp' | 'data_sm_resp' | 'broadcast_sm_resp';
  messageId: string;
}

export type MultiDestination =
  | { kind: 'sme'; ton: number; npi: number; address: string }
  | { kind: 'list'; name: string };

export interface SubmitMultiPdu extends PduHeader {
  command: 'submit_multi';
  serviceType: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  sourceAddr: string;
  /** 1–254 SME addresses and distribution list names. */
  destinations: MultiDestination[];
  esmClass: number;
  protocolId: number;
  priorityFlag: number;
  scheduleDeliveryTime: string;
  validityPeriod: string;
  registeredDelivery: number;
  replaceIfPresentFlag: number;
  dataCoding: number;
  smDefaultMsgId: number;
  shortMessage: Buffer;
}

export interface UnsuccessfulDelivery {
  ton: number;
  npi: number;
  address: string;
  /** The command_status the SMSC gives for this destination. */
  errorStatus: number;
}

export interface SubmitMultiRespPdu extends PduHeader {
  command: 'submit_multi_resp';
  messageId: string;
  unsuccess: UnsuccessfulDelivery[];
}

export interface DataSmPdu extends PduHeader {
  command: 'data_sm';
  serviceType: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  sourceAddr: string;
  destAddrTon: number;
  destAddrNpi: number;
  destinationAddr: string;
  esmClass: number;
  registeredDelivery: number;
  dataCoding: number;
}

export interface QuerySmPdu extends PduHeader {
  command: 'query_sm';
  messageId: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  sourceAddr: string;
}

export interface QuerySmRespPdu extends PduHeader {
  command: 'query_sm_resp';
  messageId: string;
  /** SMPP time (time.ts) or ''. */
  finalDate: string;
  messageState: number;
  /** Network error code, one octet. */
  errorCode: number;
}

export interface CancelSmPdu extends PduHeader {
  command: 'cancel_sm';
  serviceType: string;
  messageId: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  sourceAddr: string;
  destAddrTon: number;
  destAddrNpi: number;
  destinationAddr: string;
}

export interface ReplaceSmPdu extends PduHeader {
  command: 'replace_sm';
  messageId: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  sourceAddr: string;
  scheduleDeliveryTime: string;
  validityPeriod: string;
  registeredDelivery: number;
  smDefaultMsgId: number;
  shortMessage: Buffer;
}

export interface AlertNotificationPdu extends PduHeader {
  command: 'alert_notification';
  sourceAddrTon: number;
  sourceAddrNpi: number;
  sourceAddr: string;
  esmeAddrTon: number;
  esmeAddrNpi: number;
  esmeAddr: string;
}

/**
 * SMPP 5.0 §4.4.1. The spec makes broadcastAreaIdentifier, broadcastContentType,
 * broadcastRepNum and broadcastFrequencyInterval mandatory TLVs; the codec leaves that
 * check to the application.
 */
export interface BroadcastSmPdu extends PduHeader {
  command: 'broadcast_sm';
  serviceType: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  sourceAddr: string;
  /** The broadcast to replace, or ''. */
  messageId: string;
  priorityFlag: number;
  scheduleDeliveryTime: string;
  validityPeriod: string;
  replaceIfPresentFlag: number;
  dataCoding: number;
  smDefaultMsgId: number;
}

export interface QueryBroadcastSmPdu extends PduHeader {
  command: 'query_broadcast_sm';
  messageId: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  sourceAddr: string;
}

/** The state is in TLVs: messageState, broadcastAreaIdentifier, broadcastAreaSuccess. */
export interface QueryBroadcastSmRespPdu extends PduHeader {
  command: 'query_broadcast_sm_resp';
  messageId: string;
}

export interface CancelBroadcastSmPdu extends PduHeader {
  command: 'cancel_broadcast_sm';
  serviceType: string;
  messageId: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  sourceAddr: string;
}

type PduLayout =
  | BindPdu
  | BindRespPdu
  | OutbindPdu
  | EmptyPdu
  | SmPdu
  | MessageIdRespPdu
  | SubmitMultiPdu
  | SubmitMultiRespPdu
  | DataSmPdu
  | QuerySmPdu
  | QuerySmRespPdu
  | CancelSmPdu
  | ReplaceSmPdu
  | AlertNotificationPdu
  | BroadcastSmPdu
  | QueryBroadcastSmPdu
  | QueryBroadcastSmRespPdu
  | CancelBroadcastSmPdu;

/** The layout of `P` with `command` narrowed to `C`, or never when `P` has no such command. */
type Narrowed<P, C> = P extends { command: infer K } ? (C extends K ? P & { command: C } : never) : never;

/**
 * Any PDU. One member per command (SmPdu & { command: 'submit_sm' } …), so that narrowing
 * on `command` (a switch, an if) gives exactly PduOf of that command.
 */
export type Pdu = { [C in CommandName]: Narrowed<PduLayout, C> }[CommandName];

/** The PDU type of one command: PduOf<'submit_sm'> is SmPdu with command 'submit_sm'. */
export type PduOf<C extends CommandName> = Extract<Pdu, { command: C }>;

/**
 * A submit_sm or deliver_sm with every mandatory field at its neutral value (empty
 * addresses, default alphabet, no receipt), so callers name only what they set.
 */
export function shortMessagePdu<C extends 'submit_sm' | 'deliver_sm'>(
  command: C,
  fields: Partial<Omit<PduOf<C>, 'command'>> = {},
): PduOf<C> {
  return {
    command,
    commandStatus: 0,
    sequenceNumber: 0,
    serviceType: '',
    sourceAddrTon: 0,
    sourceAddrNpi: 0,
    sourceAddr: '',
    destAddrTon: 0,
    destAddrNpi: 0,
    destinationAddr: '',
    esmClass: 0,
    protocolId: 0,
    priorityFlag: 0,
    scheduleDeliveryTime: '',
    validityPeriod: '',
    registeredDelivery: 0,
    replaceIfPresentFlag: 0,
    dataCoding: 0,
    smDefaultMsgId: 0,
    shortMessage: Buffer.alloc(0),
    ...fields,
  } as PduOf<C>;
}
