// Numbers of the SMPP 3.4 and 5.0 wire protocol: command ids, command statuses, TLV tags,
// and the bit fields and enumerations of the mandatory parameters. Every value was checked
// against the SMPP 3.4 (Issue 1.2) and 5.0 specifications.

/** command_id of every SMPP 3.4 and 5.0 PDU. Responses are the request's id with bit 31 set. */
export const CommandId = {
  generic_nack: 0x80000000,
  bind_receiver: 0x00000001,
  bind_receiver_resp: 0x80000001,
  bind_transmitter: 0x00000002,
  bind_transmitter_resp: 0x80000002,
  query_sm: 0x00000003,
  query_sm_resp: 0x80000003,
  submit_sm: 0x00000004,
  submit_sm_resp: 0x80000004,
  deliver_sm: 0x00000005,
  deliver_sm_resp: 0x80000005,
  unbind: 0x00000006,
  unbind_resp: 0x80000006,
  replace_sm: 0x00000007,
  replace_sm_resp: 0x80000007,
  cancel_sm: 0x00000008,
  cancel_sm_resp: 0x80000008,
  bind_transceiver: 0x00000009,
  bind_transceiver_resp: 0x80000009,
  outbind: 0x0000000b,
  enquire_link: 0x00000015,
  enquire_link_resp: 0x80000015,
  submit_multi: 0x00000021,
  submit_multi_resp: 0x80000021,
  alert_notification: 0x00000102,
  data_sm: 0x00000103,
  data_sm_resp: 0x80000103,
  // SMPP 5.0
  broadcast_sm: 0x00000111,
  broadcast_sm_resp: 0x80000111,
  query_broadcast_sm: 0x00000112,
  query_broadcast_sm_resp: 0x80000112,
  cancel_broadcast_sm: 0x00000113,
  cancel_broadcast_sm_resp: 0x80000113,
} as const;

export type CommandName = keyof typeof CommandId;

const commandNames = new Map<number, CommandName>();
for (const name of Object.keys(CommandId) as CommandName[]) commandNames.set(CommandId[name], name);

/** The command name of a command_id, or undefined for ids SMPP does not define. */
export function commandNameOf(id: number): CommandName | undefined {
  return commandNames.get(id);
}

/**
 * The response that answers a request: submit_sm → submit_sm_resp. Undefined for PDUs that
 * are not answered by their own response (generic_nack, outbind, alert_notification, and
 * responses themselves).
 */
export function responseOf(name: CommandName): CommandName | undefined {
  const response = `${name}_resp`;
  return response in CommandId ? (response as CommandName) : undefined;
}

/** True for response command_ids (bit 31 set), generic_nack included. */
export function isResponseId(id: number): boolean {
  return id >= 0x80000000;
}

/**
 * command_status values of SMPP 3.4 §5.1.3 and 5.0 §4.7.6. 0xC0–0xC4 carry their 3.4 names;
 * 5.0 renamed them (ESME_RINVTLVSTREAM …), and those names are here too as aliases.
 */
export const CommandStatus = {
  ESME_ROK: 0x00000000,
  ESME_RINVMSGLEN: 0x00000001,
  ESME_RINVCMDLEN: 0x00000002,
  ESME_RINVCMDID: 0x00000003,
  ESME_RINVBNDSTS: 0x00000004,
  ESME_RALYBND: 0x00000005,
  ESME_RINVPRTFLG: 0x00000006,
  ESME_RINVREGDLVFLG: 0x00000007,
  ESME_RSYSERR: 0x00000008,
  ESME_RINVSRCADR: 0x0000000a,
  ESME_RINVDSTADR: 0x0000000b,
  ESME_RINVMSGID: 0x0000000c,
  ESME_RBINDFAIL: 0x0000000d,
  ESME_RINVPASWD: 0x0000000e,
  ESME_RINVSYSID: 0x0000000f,
  ESME_RCANCELFAIL: 0x00000011,
  ESME_RREPLACEFAIL: 0x00000013,
  ESME_RMSGQFUL: 0x00000014,
  ESME_RINVSERTYP: 0x00000015,
  ESME_RINVNUMDESTS: 0x00000033,
  ESME_RINVDLNAME: 0x00000034,
  ESME_RINVDESTFLAG: 0x00000040,
  ESME_RINVSUBREP: 0x00000042,
  ESME_RINVESMCLASS: 0x00000043,
  ESME_RCNTSUBDL: 0x00000044,
  ESME_RSUBMITFAIL: 0x00000045,
  ESME_RINVSRCTON: 0x00000048,
  ESME_RINVSRCNPI: 0x00000049,
  ESME_RINVDSTTON: 0x00000050,
  ESME_RINVDSTNPI: 0x00000051,
  ESME_RINVSYSTYP: 0x00000053,
  ESME_RINVREPFLAG: 0x00000054,
  ESME_RINVNUMMSGS: 0x00000055,
  ESME_RTHROTTLED: 0x00000058,
  ESME_RINVSCHED: 0x00000061,
  ESME_RINVEXPIRY: 0x00000062,
  ESME_RINVDFTMSGID: 0x00000063,
  ESME_RX_T_APPN: 0x00000064,
  ESME_RX_P_APPN: 0x00000065,
  ESME_RX_R_APPN: 0x00000066,
  ESME_RQUERYFAIL: 0x00000067,
  ESME_RINVOPTPARSTREAM: 0x000000c0,
  ESME_ROPTPARNOTALLWD: 0x000000c1,
  ESME_RINVPARLEN: 0x000000c2,
  ESME_RMISSINGOPTPARAM: 0x000000c3,
  ESME_RINVOPTPARAMVAL: 0x000000c4,
  ESME_RDELIVERYFAILURE: 0x000000fe,
  ESME_RUNKNOWNERR: 0x000000ff,
  // SMPP 5.0
  ESME_RSERTYPUNAUTH: 0x00000100,
  ESME_RPROHIBITED: 0x00000101,
  ESME_RSERTYPUNAVAIL: 0x00000102,
  ESME_RSERTYPDENIED: 0x00000103,
  ESME_RINVDCS: 0x00000104,
  ESME_RINVSRCADDRSUBUNIT: 0x00000105,
  ESME_RINVDSTADDRSUBUNIT: 0x00000106,
  ESME_RINVBCASTFREQINT: 0x00000107,
  ESME_RINVBCASTALIAS_NAME: 0x00000108,
  ESME_RINVBCASTAREAFMT: 0x00000109,
  ESME_RINVNUMBCAST_AREAS: 0x0000010a,
  ESME_RINVBCASTCNTTYPE: 0x0000010b,
  ESME_RINVBCASTMSGCLASS: 0x0000010c,
  ESME_RBCASTFAIL: 0x0000010d,
  ESME_RBCASTQUERYFAIL: 0x0000010e,
  ESME_RBCASTCANCELFAIL: 0x0000010f,
  ESME_RINVBCAST_REP: 0x00000110,
  ESME_RINVBCASTSRVGRP: 0x00000111,
  ESME_RINVBCASTCHANIND: 0x00000112,
  // SMPP 5.0 names of 0xC0–0xC4
  ESME_RINVTLVSTREAM: 0x000000c0,
  ESME_RTLVNOTALLWD: 0x000000c1,
  ESME_RINVTLVLEN: 0x000000c2,
  ESME_RMISSINGTLV: 0x000000c3,
  ESME_RINVTLVVAL: 0x000000c4,
} as const;

export type CommandStatusName = keyof typeof CommandStatus;

const statusDescriptions: Record<number, string> = {
  0: 'No error',
  1: 'Message length is invalid',
  2: 'Command length is invalid',
  3: 'Invalid command ID',
  4: 'Incorrect bind status for given command',
  5: 'ESME already in bound state',
  6: 'Invalid priority flag',
  7: 'Invalid registered delivery flag',
  8: 'System error',
  10: 'Invalid source address',
  11: 'Invalid destination address',
  12: 'Message ID is invalid',
  13: 'Bind failed',
  14: 'Invalid password',
  15: 'Invalid system ID',
  17: 'Cancel SM failed',
  19: 'Replace SM failed',
  20: 'Message queue full',
  21: 'Invalid service type',
  51: 'Invalid number of destinations',
  52: 'Invalid distribution list name',
  64: 'Destination flag is invalid',
  66: "Invalid 'submit with replace' request",
  67: 'Invalid esm_class field data',
  68: 'Cannot submit to distribution list',
  69: 'submit_sm or submit_multi failed',
  72: 'Invalid source address TON',
  73: 'Invalid source address NPI',
  80: 'Invalid destination address TON',
  81: 'Invalid destination address NPI',
  83: 'Invalid system_type field',
  84: 'Invalid replace_if_present flag',
  85: 'Invalid number of messages',
  88: 'Throttling error (ESME has exceeded allowed message limits)',
  97: 'Invalid scheduled delivery time',
  98: 'Invalid message validity period (expiry time)',
  99: 'Predefined message invalid or not found',
  100: 'ESME receiver temporary application error',
  101: 'ESME receiver permanent application error',
  102: 'ESME receiver reject message error',
  103: 'query_sm request failed',
  192: 'Error in the optional part of the PDU body',
  193: 'Optional parameter not allowed',
  194: 'Invalid parameter length',
  195: 'Expected optional parameter missing',
  196: 'Invalid optional parameter value',
  254: 'Delivery failure',
  255: 'Unknown error',
  256: 'ESME not authorised to use specified service_type',
  257: 'ESME prohibited from using specified operation',
  258: 'Specified service_type is unavailable',
  259: 'Specified service_type is denied',
  260: 'Invalid data coding scheme',
  261: 'Source address subunit is invalid',
  262: 'Destination address subunit is invalid',
  263: 'Broadcast frequency interval is invalid',
  264: 'Broadcast alias name is invalid',
  265: 'Broadcast area format is invalid',
  266: 'Number of broadcast areas is invalid',
  267: 'Broadcast content type is invalid',
  268: 'Broadcast message class is invalid',
  269: 'broadcast_sm operation failed',
  270: 'query_broadcast_sm operation failed',
  271: 'cancel_broadcast_sm operation failed',
  272: 'Number of repeated broadcasts is invalid',
  273: 'Broadcast service group is invalid',
  274: 'Broadcast channel indicator is invalid',
};

const statusNames = new Map<number, CommandStatusName>();
for (const name of Object.keys(CommandStatus) as CommandStatusName[]) {
  // First name wins, so 0xC0–0xC4 print with their 3.4 names.
  if (!statusNames.has(CommandStatus[name])) statusNames.set(CommandStatus[name], name);
}

/** 'ESME_RTHROTTLED' for a standard status, '0x00000458' for any other. */
export function statusName(code: number): string {
  return statusNames.get(code) ?? `0x${(code >>> 0).toString(16).padStart(8, '0')}`;
}

/** Short human text for a command_status, including the reserved and vendor ranges. */
export function statusDescription(code: number): string {
  const known = statusDescriptions[code];
  if (known !== undefined) return known;
  if (code >= 0x400 && code <= 0x4ff) return 'SMSC vendor-specific error';
  return 'Reserved error code';
}

/**
 * TLV tags of SMPP 3.4 §5.3.2 and 5.0 §4.8.4, camelCased from the spec's names. The value
 * types, sizes and which tags may repeat are in tlv.ts.
 */
export const TlvTag = {
  destAddrSubunit: 0x0005,
  destNetworkType: 0x0006,
  destBearerType: 0x0007,
  destTelematicsId: 0x0008,
  sourceAddrSubunit: 0x000d,
  sourceNetworkType: 0x000e,
  sourceBearerType: 0x000f,
  sourceTelematicsId: 0x0010,
  qosTimeToLive: 0x0017,
  payloadType: 0x0019,
  additionalStatusInfoText: 0x001d,
  receiptedMessageId: 0x001e,
  msMsgWaitFacilities: 0x0030,
  privacyIndicator: 0x0201,
  sourceSubaddress: 0x0202,
  destSubaddress: 0x0203,
  userMessageReference: 0x0204,
  userResponseCode: 0x0205,
  sourcePort: 0x020a,
  destinationPort: 0x020b,
  sarMsgRefNum: 0x020c,
  languageIndicator: 0x020d,
  sarTotalSegments: 0x020e,
  sarSegmentSeqnum: 0x020f,
  scInterfaceVersion: 0x0210,
  callbackNumPresInd: 0x0302,
  callbackNumAtag: 0x0303,
  numberOfMessages: 0x0304,
  callbackNum: 0x0381,
  dpfResult: 0x0420,
  setDpf: 0x0421,
  msAvailabilityStatus: 0x0422,
  networkErrorCode: 0x0423,
  messagePayload: 0x0424,
  deliveryFailureReason: 0x0425,
  moreMessagesToSend: 0x0426,
  messageState: 0x0427,
  congestionState: 0x0428,
  ussdServiceOp: 0x0501,
  broadcastChannelIndicator: 0x0600,
  broadcastContentType: 0x0601,
  broadcastContentTypeInfo: 0x0602,
  broadcastMessageClass: 0x0603,
  broadcastRepNum: 0x0604,
  broadcastFrequencyInterval: 0x0605,
  broadcastAreaIdentifier: 0x0606,
  broadcastErrorStatus: 0x0607,
  broadcastAreaSuccess: 0x0608,
  broadcastEndTime: 0x0609,
  broadcastServiceGroup: 0x060a,
  billingIdentification: 0x060b,
  sourceNetworkId: 0x060d,
  destNetworkId: 0x060e,
  sourceNodeId: 0x060f,
  destNodeId: 0x0610,
  destAddrNpResolution: 0x0611,
  destAddrNpInformation: 0x0612,
  destAddrNpCountry: 0x0613,
  displayTime: 0x1201,
  smsSignal: 0x1203,
  msValidity: 0x1204,
  alertOnMessageDelivery: 0x130c,
  itsReplyType: 0x1380,
  itsSessionInfo: 0x1383,
} as const;

export type TlvName = keyof typeof TlvTag;

/**
 * esm_class bits (3.4 §5.2.12). Bits 0–1 are the messaging mode (MODE_MASK), bits 2–5 the
 * message type (TYPE_MASK; their meaning differs between submit and deliver), bits 6–7
 * the GSM network features.
 */
export const EsmClass = {
  DEFAULT: 0x00,
  DATAGRAM: 0x01,
  FORWARD: 0x02,
  STORE_FORWARD: 0x03,
  MODE_MASK: 0x03,
  /** deliver_sm / data_sm from the SMSC: the message is a delivery receipt. */
  DELIVERY_RECEIPT: 0x04,
  /** An SME delivery acknowledgement. */
  DELIVERY_ACK: 0x08,
  /** An SME manual/user acknowledgement. */
  USER_ACK: 0x10,
  /** deliver_sm: conversation abort (Korean CDMA). */
  CONVERSATION_ABORT: 0x18,
  /** deliver_sm: an intermediate delivery notification. */
  INTERMEDIATE_NOTIFICATION: 0x20,
  TYPE_MASK: 0x3c,
  /** short_message starts with a User Data Header. */
  UDHI: 0x40,
  REPLY_PATH: 0x80,
} as const;

/** registered_delivery bits (3.4 §5.2.17; RECEIPT_ON_SUCCESS is 5.0). */
export const RegisteredDelivery = {
  NONE: 0x00,
  /** An SMSC delivery receipt whatever the outcome. */
  RECEIPT: 0x01,
  RECEIPT_ON_FAILURE: 0x02,
  RECEIPT_ON_SUCCESS: 0x03,
  RECEIPT_MASK: 0x03,
  SME_DELIVERY_ACK: 0x04,
  SME_USER_ACK: 0x08,
  SME_ACK_MASK: 0x0c,
  INTERMEDIATE_NOTIFICATION: 0x10,
} as const;

/** message_state (query_sm_resp, the message_state TLV). SCHEDULED and SKIPPED are 5.0. */
export const MessageState = {
  SCHEDULED: 0,
  ENROUTE: 1,
  DELIVERED: 2,
  EXPIRED: 3,
  DELETED: 4,
  UNDELIVERABLE: 5,
  ACCEPTED: 6,
  UNKNOWN: 7,
  REJECTED: 8,
  SKIPPED: 9,
} as const;

export const InterfaceVersion = { V33: 0x33, V34: 0x34, V50: 0x50 } as const;

/** Type of number (addr_ton, source_addr_ton, dest_addr_ton). */
export const Ton = {
  UNKNOWN: 0,
  INTERNATIONAL: 1,
  NATIONAL: 2,
  NETWORK_SPECIFIC: 3,
  SUBSCRIBER_NUMBER: 4,
  ALPHANUMERIC: 5,
  ABBREVIATED: 6,
} as const;

/** Numbering plan indicator (addr_npi, source_addr_npi, dest_addr_npi). */
export const Npi = {
  UNKNOWN: 0,
  ISDN: 1,
  DATA: 3,
  TELEX: 4,
  LAND_MOBILE: 6,
  NATIONAL: 8,
  PRIVATE: 9,
  ERMES: 10,
  INTERNET: 14,
  WAP_CLIENT_ID: 18,
} as const;

/** First octet of the network_error_code TLV (values 4–8 are 5.0). */
export const NetworkErrorType = {
  ANSI_136_ACCESS_DENIED: 1,
  IS_95_ACCESS_DENIED: 2,
  GSM: 3,
  ANSI_136_CAUSE: 4,
  IS_95_CAUSE: 5,
  ANSI_41_ERROR: 6,
  SMPP_ERROR: 7,
  MESSAGE_CENTER_SPECIFIC: 8,
} as const;

/** dest_flag of a submit_multi destination. */
export const DestFlag = { SME_ADDRESS: 1, DISTRIBUTION_LIST: 2 } as const;
