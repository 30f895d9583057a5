// The sans-I/O SMPP codec: PDU objects to bytes and back, never touching a socket.
//
// Writing is strict: a field the spec would not allow (too long, out of range, not one octet
// per character) throws SmppEncodeError carrying the command_status that names the problem.
// Reading is tolerant but bounded: over-long strings and unknown TLVs are accepted, but
// nothing is read past the PDU's end, and a PDU that cannot be read throws SmppDecodeError
// carrying the command_status to answer it with.
//
// Both directions are hand-written per command over module-level cursors (decoding and
// encoding are synchronous and never re-entered), so the hot path allocates only the
// objects it returns.
import type { CommandName } from './constants.ts';
import { CommandId, CommandStatus, commandNameOf, DestFlag } from './constants.ts';
import type { MultiDestination, Pdu, PduOf, RawTlv, Tlvs, UnsuccessfulDelivery } from './pdu.ts';
import type { TlvSpec } from './tlv.ts';
import { tlvSpecOf, tlvSpecs } from './tlv.ts';

const S = CommandStatus;

/** A PDU that may not be written as given; `status` is the matching command_status. */
export class SmppEncodeError extends Error {
  /** The spec's name of the offending field (e.g. 'source_addr'), or the TLV's name. */
  readonly field: string;
  readonly status: number;

  constructor(field: string, status: number, message: string) {
    super(message);
    this.name = 'SmppEncodeError';
    this.field = field;
    this.status = status;
  }
}

/**
 * A PDU whose header was readable but whose body was not (or whose command is unknown).
 * Answer it with `status`: in the command's response, or in generic_nack.
 */
export class SmppDecodeError extends Error {
  readonly commandId: number;
  readonly sequenceNumber: number;
  readonly status: number;

  constructor(commandId: number, sequenceNumber: number, status: number, message: string) {
    super(message);
    this.name = 'SmppDecodeError';
    this.commandId = commandId;
    this.sequenceNumber = sequenceNumber;
    this.status = status;
  }
}

// ---------------------------------------------------------------------------------------
// Writing

const slabSize = 16 * 1024;
const noBytes = Buffer.alloc(0);

// The cursor of the write in progress: bytes go into `out` at `pos`; `keep` is where the
// writer's not yet taken bytes start (they move along when the slab is replaced), and
// `pduStart` where the PDU being written starts.
let out: Buffer = noBytes;
let pos = 0;
let keep = 0;
let pduStart = 0;

/**
 * Appends PDUs into one buffer, so a session can write everything due in one tick with one
 * socket write. The bytes `take` hands out are never written over: the writer carries on
 * after them in the same slab, and moves to a fresh slab (doubling while what is pending
 * needs more) when the slab is full.
 */
export class PduWriter {
  #buf: Buffer;
  #start = 0;
  #end = 0;

  constructor() {
    this.#buf = Buffer.allocUnsafe(slabSize);
  }

  /** Encodes `pdu` after what is already pending; throws SmppEncodeError and writes nothing. */
  write(pdu: Pdu): void {
    out = this.#buf;
    pos = this.#end;
    keep = this.#start;
    encodeInto(pdu);
    this.#buf = out;
    this.#start = keep;
    this.#end = pos;
  }

  /** Bytes written and not yet taken. */
  get length(): number {
    return this.#end - this.#start;
  }

  /** The pending bytes, as a buffer the caller owns; the writer is empty afterwards. */
  take(): Buffer {
    const bytes = this.#buf.subarray(this.#start, this.#end);
    this.#start = this.#end;
    return bytes;
  }
}

const sharedWriter = new PduWriter();

/**
 * One PDU's bytes. Throws SmppEncodeError when a field breaks the spec's limits. The
 * result is a view of a shared 16 KiB slab (that is what makes it cheap); copy it before
 * keeping many encoded PDUs for long.
 */
export function encodePdu(pdu: Pdu): Buffer {
  sharedWriter.write(pdu);
  return sharedWriter.take();
}

function ensure(n: number): void {
  if (pos + n > out.length) grow(n);
}

function grow(n: number): void {
  const pending = pos - keep;
  let size = slabSize;
  while (size < pending + n) size *= 2;
  const next = Buffer.allocUnsafe(size);
  out.copy(next, 0, keep, pos);
  pduStart -= keep;
  out = next;
  pos = pending;
  keep = 0;
}

function putU32(at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}

function u8(v: number, field: string, status: number): void {
  if ((v & 0xff) !== v) {
    throw new SmppEncodeError(field, status, `${field} must be an integer 0–255, not ${v}`);
  }
  out[pos++] = v;
}

function u32(v: number, field: string, status: number): void {
  if (v >>> 0 !== v) {
    throw new SmppEncodeError(field, status, `${field} must be an integer 0–4294967295, not ${v}`);
  }
  putU32(pos, v);
  pos += 4;
}

/** A C-octet string of at most `max` octets, the NUL included. */
function cstr(s: string, max: number, field: string, status: number): void {
  if (typeof s !== 'string') throw new SmppEncodeError(field, status, `${field} must be a string`);
  const n = s.length;
  if (n >= max) {
    throw new SmppEncodeError(field, status, `${field} has ${n} characters; at most ${max - 1} fit`);
  }
  const b = out;
  let p = pos;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0xff) {
      throw new SmppEncodeError(field, status, `${field} has a character that is not one octet`);
    }
    b[p++] = c;
  }
  b[p++] = 0;
  pos = p;
}

const digit0 = 0x30;
const digit9 = 0x39;

/** An SMPP time: '' or YYMMDDhhmmsstnn followed by '+', '-' or 'R' (time.ts). */
function time(s: string, field: string, status: number): void {
  if (typeof s === 'string' && s.length === 16) {
    for (let i = 0; i < 15; i++) {
      const c = s.charCodeAt(i);
      if (c < digit0 || c > digit9) {
        throw new SmppEncodeError(field, status, `${field} '${s}' is not an SMPP time`);
      }
    }
    const p = s.charCodeAt(15);
    if (p !== 0x2b && p !== 0x2d && p !== 0x52) {
      throw new SmppEncodeError(field, status, `${field} '${s}' is not an SMPP time`);
    }
  } else if (s !== '') {
    throw new SmppEncodeError(field, status, `${field} must be '' or 16 characters`);
  }
  cstr(s, 17, field, status);
}

function bytes(b: Uint8Array): void {
  out.set(b, pos);
  pos += b.length;
}

/** sm_length then short_message. */
function shortMessage(sm: Buffer): void {
  if (!(sm instanceof Uint8Array)) {
    throw new SmppEncodeError('short_message', S.ESME_RINVMSGLEN, 'short_message must be a Buffer');
  }
  if (sm.length > 254) {
    throw new SmppEncodeError(
      'short_message',
      S.ESME_RINVMSGLEN,
      `short_message is ${sm.length} octets; at most 254 fit`,
    );
  }
  out[pos++] = sm.length;
  bytes(sm);
}

function source(
  pdu: { sourceAddrTon: number; sourceAddrNpi: number; sourceAddr: string },
  max: number,
): void {
  u8(pdu.sourceAddrTon, 'source_addr_ton', S.ESME_RINVSRCTON);
  u8(pdu.sourceAddrNpi, 'source_addr_npi', S.ESME_RINVSRCNPI);
  cstr(pdu.sourceAddr, max, 'source_addr', S.ESME_RINVSRCADR);
}

function destination(ton: number, npi: number, address: string, max: number): void {
  u8(ton, 'dest_addr_ton', S.ESME_RINVDSTTON);
  u8(npi, 'dest_addr_npi', S.ESME_RINVDSTNPI);
  cstr(address, max, 'destination_addr', S.ESME_RINVDSTADR);
}

/** Starts a PDU: makes room for `bound` octets (enough for its mandatory part) and writes the header. */
function header(id: number, pdu: Pdu, bound: number): void {
  ensure(bound);
  pduStart = pos;
  const status = pdu.commandStatus;
  const sequence = pdu.sequenceNumber;
  if (status >>> 0 !== status) {
    throw new SmppEncodeError('command_status', S.ESME_RSYSERR, `command_status ${status} is not a u32`);
  }
  if (sequence >>> 0 !== sequence) {
    throw new SmppEncodeError('sequence_number', S.ESME_RSYSERR, `sequence_number ${sequence} is not a u32`);
  }
  putU32(pos + 4, id);
  putU32(pos + 8, status);
  putU32(pos + 12, sequence);
  pos += 16;
}

// Octets the fixed parts take: an address triple (ton, npi, address of 21 or 65).
const addr21 = 23;
const addr65 = 67;
const smBound = 6 + addr21 + addr21 + 3 + 17 + 17 + 4 + 1 + 254;

function encodeInto(pdu: Pdu): void {
  // A response carrying an error goes without a body (3.4 §4.4.2 says so of submit_sm_resp,
  // and it was the intent for every error response), except bind responses, whose system_id
  // many ESMEs log, and responses with TLVs (or unsuccess entries) to carry: those need the
  // mandatory fields in front of them.
  let bodyless = false;
  switch (pdu.command) {
    case 'bind_transmitter':
    case 'bind_receiver':
    case 'bind_transceiver':
      header(CommandId[pdu.command], pdu, 16 + 16 + 9 + 13 + 3 + 41);
      cstr(pdu.systemId, 16, 'system_id', S.ESME_RINVSYSID);
      cstr(pdu.password, 9, 'password', S.ESME_RINVPASWD);
      cstr(pdu.systemType, 13, 'system_type', S.ESME_RINVSYSTYP);
      u8(pdu.interfaceVersion, 'interface_version', S.ESME_RINVPARLEN);
      u8(pdu.addrTon, 'addr_ton', S.ESME_RINVPARLEN);
      u8(pdu.addrNpi, 'addr_npi', S.ESME_RINVPARLEN);
      cstr(pdu.addressRange, 41, 'address_range', S.ESME_RINVPARLEN);
      break;
    case 'bind_transmitter_resp':
    case 'bind_receiver_resp':
    case 'bind_transceiver_resp':
      // Kept with an error status too: many ESMEs log the SMSC's system_id of a refusal.
      header(CommandId[pdu.command], pdu, 16 + 16);
      cstr(pdu.systemId, 16, 'system_id', S.ESME_RINVSYSID);
      break;
    case 'outbind':
      header(CommandId.outbind, pdu, 16 + 16 + 9);
      cstr(pdu.systemId, 16, 'system_id', S.ESME_RINVSYSID);
      cstr(pdu.password, 9, 'password', S.ESME_RINVPASWD);
      break;
    case 'generic_nack':
    case 'unbind':
    case 'unbind_resp':
    case 'enquire_link':
    case 'enquire_link_resp':
    case 'cancel_sm_resp':
    case 'replace_sm_resp':
    case 'cancel_broadcast_sm_resp':
      header(CommandId[pdu.command], pdu, 16);
      break;
    case 'submit_sm':
    case 'deliver_sm':
      header(pdu.command === 'submit_sm' ? CommandId.submit_sm : CommandId.deliver_sm, pdu, 16 + smBound);
      cstr(pdu.serviceType, 6, 'service_type', S.ESME_RINVSERTYP);
      source(pdu, 21);
      destination(pdu.destAddrTon, pdu.destAddrNpi, pdu.destinationAddr, 21);
      u8(pdu.esmClass, 'esm_class', S.ESME_RINVESMCLASS);
      u8(pdu.protocolId, 'protocol_id', S.ESME_RINVPARLEN);
      u8(pdu.priorityFlag, 'priority_flag', S.ESME_RINVPRTFLG);
      time(pdu.scheduleDeliveryTime, 'schedule_delivery_time', S.ESME_RINVSCHED);
      time(pdu.validityPeriod, 'validity_period', S.ESME_RINVEXPIRY);
      u8(pdu.registeredDelivery, 'registered_delivery', S.ESME_RINVREGDLVFLG);
      u8(pdu.replaceIfPresentFlag, 'replace_if_present_flag', S.ESME_RINVREPFLAG);
      u8(pdu.dataCoding, 'data_coding', S.ESME_RINVDCS);
      u8(pdu.smDefaultMsgId, 'sm_default_msg_id', S.ESME_RINVDFTMSGID);
      shortMessage(pdu.shortMessage);
      break;
    case 'submit_sm_resp':
    case 'deliver_sm_resp':
    case 'data_sm_resp':
    case 'broadcast_sm_resp':
      header(CommandId[pdu.command], pdu, 16 + 65);
      bodyless = pdu.commandStatus !== 0 && !hasTlvs(pdu.tlvs);
      if (!bodyless) cstr(pdu.messageId, 65, 'message_id', S.ESME_RINVMSGID);
      break;
    case 'submit_multi':
      encodeSubmitMulti(pdu);
      break;
    case 'submit_multi_resp':
      bodyless =
        pdu.commandStatus !== 0 &&
        !(Array.isArray(pdu.unsuccess) && pdu.unsuccess.length > 0) &&
        !hasTlvs(pdu.tlvs);
      if (bodyless) header(CommandId.submit_multi_resp, pdu, 16);
      else encodeSubmitMultiResp(pdu);
      break;
    case 'data_sm':
      header(CommandId.data_sm, pdu, 16 + 6 + addr65 + addr65 + 3);
      cstr(pdu.serviceType, 6, 'service_type', S.ESME_RINVSERTYP);
      source(pdu, 65);
      destination(pdu.destAddrTon, pdu.destAddrNpi, pdu.destinationAddr, 65);
      u8(pdu.esmClass, 'esm_class', S.ESME_RINVESMCLASS);
      u8(pdu.registeredDelivery, 'registered_delivery', S.ESME_RINVREGDLVFLG);
      u8(pdu.dataCoding, 'data_coding', S.ESME_RINVDCS);
      break;
    case 'query_sm':
    case 'query_broadcast_sm':
      header(CommandId[pdu.command], pdu, 16 + 65 + addr21);
      cstr(pdu.messageId, 65, 'message_id', S.ESME_RINVMSGID);
      source(pdu, 21);
      break;
    case 'query_sm_resp':
      header(CommandId.query_sm_resp, pdu, 16 + 65 + 17 + 2);
      bodyless = pdu.commandStatus !== 0 && !hasTlvs(pdu.tlvs);
      if (bodyless) break;
      cstr(pdu.messageId, 65, 'message_id', S.ESME_RINVMSGID);
      time(pdu.finalDate, 'final_date', S.ESME_RINVPARLEN);
      u8(pdu.messageState, 'message_state', S.ESME_RINVPARLEN);
      u8(pdu.errorCode, 'error_code', S.ESME_RINVPARLEN);
      break;
    case 'query_broadcast_sm_resp':
      header(CommandId.query_broadcast_sm_resp, pdu, 16 + 65);
      cstr(pdu.messageId, 65, 'message_id', S.ESME_RINVMSGID);
      break;
    case 'cancel_sm':
      header(CommandId.cancel_sm, pdu, 16 + 6 + 65 + addr21 + addr21);
      cstr(pdu.serviceType, 6, 'service_type', S.ESME_RINVSERTYP);
      cstr(pdu.messageId, 65, 'message_id', S.ESME_RINVMSGID);
      source(pdu, 21);
      destination(pdu.destAddrTon, pdu.destAddrNpi, pdu.destinationAddr, 21);
      break;
    case 'replace_sm':
      header(CommandId.replace_sm, pdu, 16 + 65 + addr21 + 17 + 17 + 3 + 254);
      cstr(pdu.messageId, 65, 'message_id', S.ESME_RINVMSGID);
      source(pdu, 21);
      time(pdu.scheduleDeliveryTime, 'schedule_delivery_time', S.ESME_RINVSCHED);
      time(pdu.validityPeriod, 'validity_period', S.ESME_RINVEXPIRY);
      u8(pdu.registeredDelivery, 'registered_delivery', S.ESME_RINVREGDLVFLG);
      u8(pdu.smDefaultMsgId, 'sm_default_msg_id', S.ESME_RINVDFTMSGID);
      shortMessage(pdu.shortMessage);
      break;
    case 'alert_notification':
      header(CommandId.alert_notification, pdu, 16 + addr65 + addr65);
      source(pdu, 65);
      u8(pdu.esmeAddrTon, 'esme_addr_ton', S.ESME_RINVDSTTON);
      u8(pdu.esmeAddrNpi, 'esme_addr_npi', S.ESME_RINVDSTNPI);
      cstr(pdu.esmeAddr, 65, 'esme_addr', S.ESME_RINVDSTADR);
      break;
    case 'broadcast_sm':
      header(CommandId.broadcast_sm, pdu, 16 + 6 + addr21 + 65 + 1 + 17 + 17 + 3);
      cstr(pdu.serviceType, 6, 'service_type', S.ESME_RINVSERTYP);
      source(pdu, 21);
      cstr(pdu.messageId, 65, 'message_id', S.ESME_RINVMSGID);
      u8(pdu.priorityFlag, 'priority_flag', S.ESME_RINVPRTFLG);
      time(pdu.scheduleDeliveryTime, 'schedule_delivery_time', S.ESME_RINVSCHED);
      time(pdu.validityPeriod, 'validity_period', S.ESME_RINVEXPIRY);
      u8(pdu.replaceIfPresentFlag, 'replace_if_present_flag', S.ESME_RINVREPFLAG);
      u8(pdu.dataCoding, 'data_coding', S.ESME_RINVDCS);
      u8(pdu.smDefaultMsgId, 'sm_default_msg_id', S.ESME_RINVDFTMSGID);
      break;
    case 'cancel_broadcast_sm':
      header(CommandId.cancel_broadcast_sm, pdu, 16 + 6 + 65 + addr21);
      cstr(pdu.serviceType, 6, 'service_type', S.ESME_RINVSERTYP);
      cstr(pdu.messageId, 65, 'message_id', S.ESME_RINVMSGID);
      source(pdu, 21);
      break;
    default:
      throw new SmppEncodeError(
        'command',
        S.ESME_RINVCMDID,
        `unknown command '${(pdu as { command: unknown }).command}'`,
      );
  }
  if (!bodyless && pdu.tlvs !== undefined) writeTlvs(pdu.tlvs);
  putU32(pduStart, pos - pduStart);
}

function encodeSubmitMulti(pdu: PduOf<'submit_multi'>): void {
  const destinations = pdu.destinations;
  const n = Array.isArray(destinations) ? destinations.length : 0;
  header(CommandId.submit_multi, pdu, 16 + smBound + 1 + n * 24);
  if (n < 1 || n > 254) {
    throw new SmppEncodeError(
      'number_of_dests',
      S.ESME_RINVNUMDESTS,
      `submit_multi needs 1–254 destinations, not ${n}`,
    );
  }
  cstr(pdu.serviceType, 6, 'service_type', S.ESME_RINVSERTYP);
  source(pdu, 21);
  out[pos++] = n;
  for (let i = 0; i < n; i++) writeDestination(destinations[i]!);
  u8(pdu.esmClass, 'esm_class', S.ESME_RINVESMCLASS);
  u8(pdu.protocolId, 'protocol_id', S.ESME_RINVPARLEN);
  u8(pdu.priorityFlag, 'priority_flag', S.ESME_RINVPRTFLG);
  time(pdu.scheduleDeliveryTime, 'schedule_delivery_time', S.ESME_RINVSCHED);
  time(pdu.validityPeriod, 'validity_period', S.ESME_RINVEXPIRY);
  u8(pdu.registeredDelivery, 'registered_delivery', S.ESME_RINVREGDLVFLG);
  u8(pdu.replaceIfPresentFlag, 'replace_if_present_flag', S.ESME_RINVREPFLAG);
  u8(pdu.dataCoding, 'data_coding', S.ESME_RINVDCS);
  u8(pdu.smDefaultMsgId, 'sm_default_msg_id', S.ESME_RINVDFTMSGID);
  shortMessage(pdu.shortMessage);
}

function writeDestination(d: MultiDestination): void {
  if (d.kind === 'sme') {
    out[pos++] = DestFlag.SME_ADDRESS;
    destination(d.ton, d.npi, d.address, 21);
  } else if (d.kind === 'list') {
    out[pos++] = DestFlag.DISTRIBUTION_LIST;
    cstr(d.name, 21, 'dl_name', S.ESME_RINVDLNAME);
  } else {
    throw new SmppEncodeError('dest_flag', S.ESME_RINVDESTFLAG, `destination kind must be 'sme' or 'list'`);
  }
}

function encodeSubmitMultiResp(pdu: PduOf<'submit_multi_resp'>): void {
  const unsuccess = pdu.unsuccess;
  const n = Array.isArray(unsuccess) ? unsuccess.length : -1;
  header(CommandId.submit_multi_resp, pdu, 16 + 65 + 1 + Math.max(n, 0) * 27);
  if (n < 0 || n > 254) {
    throw new SmppEncodeError(
      'no_unsuccess',
      S.ESME_RINVNUMDESTS,
      'unsuccess must be an array of at most 254 entries',
    );
  }
  cstr(pdu.messageId, 65, 'message_id', S.ESME_RINVMSGID);
  out[pos++] = n;
  for (let i = 0; i < n; i++) {
    const u = unsuccess[i]!;
    destination(u.ton, u.npi, u.address, 21);
    u32(u.errorStatus, 'error_status_code', S.ESME_RINVPARLEN);
  }
}

function hasTlvs(tlvs: Tlvs | undefined): boolean {
  if (tlvs === undefined) return false;
  for (const key in tlvs) {
    const value = (tlvs as Record<string, unknown>)[key];
    if (value !== undefined && !(key === 'vendor' && (value as RawTlv[]).length === 0)) return true;
  }
  return false;
}

function writeTlvs(tlvs: Tlvs): void {
  for (const key in tlvs) {
    const value = (tlvs as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (key === 'vendor') {
      writeRawTlvs(value as RawTlv[]);
      continue;
    }
    const spec = (tlvSpecs as Record<string, TlvSpec>)[key];
    if (spec === undefined) throw new SmppEncodeError(key, S.ESME_RINVOPTPARSTREAM, `'${key}' is not a TLV`);
    if (!spec.repeats) {
      writeTlv(spec, value);
    } else if (Array.isArray(value)) {
      for (const item of value) writeTlv(spec, item);
    } else {
      throw new SmppEncodeError(
        spec.name,
        S.ESME_RINVOPTPARAMVAL,
        `${spec.name} may repeat, so it takes an array`,
      );
    }
  }
}

function writeRawTlvs(raw: RawTlv[]): void {
  for (const tlv of raw) {
    const tag = tlv.tag;
    const value = tlv.value;
    if ((tag & 0xffff) !== tag) {
      throw new SmppEncodeError('vendor', S.ESME_RINVOPTPARSTREAM, `TLV tag ${tag} is not a u16`);
    }
    if (!(value instanceof Uint8Array) || value.length > 0xffff) {
      throw new SmppEncodeError(
        'vendor',
        S.ESME_RINVPARLEN,
        `TLV 0x${tag.toString(16)} needs a Buffer of at most 65535 octets`,
      );
    }
    ensure(4 + value.length);
    tlvHeader(tag, value.length);
    bytes(value);
  }
}

function tlvHeader(tag: number, length: number): void {
  const o = out;
  o[pos] = tag >>> 8;
  o[pos + 1] = tag & 0xff;
  o[pos + 2] = length >>> 8;
  o[pos + 3] = length & 0xff;
  pos += 4;
}

function writeTlv(spec: TlvSpec, value: unknown): void {
  const name = spec.name;
  switch (spec.kind) {
    case 'int': {
      const size = spec.size;
      const v = value as number;
      if (!Number.isSafeInteger(v) || v < 0 || v >= 2 ** (8 * size)) {
        throw new SmppEncodeError(
          name,
          S.ESME_RINVOPTPARAMVAL,
          `${name} must be an integer that fits ${size} octet(s), not ${v}`,
        );
      }
      ensure(4 + size);
      tlvHeader(spec.tag, size);
      if (size === 1) {
        out[pos] = v;
      } else if (size === 2) {
        out[pos] = v >>> 8;
        out[pos + 1] = v & 0xff;
      } else {
        for (let i = size - 1, rest = v; i >= 0; i--, rest = Math.floor(rest / 256))
          out[pos + i] = rest % 256;
      }
      pos += size;
      return;
    }
    case 'cstring': {
      const s = value as string;
      const n = typeof s === 'string' ? s.length : 0;
      if (name === 'broadcastEndTime') {
        ensure(4 + 17);
        tlvHeader(spec.tag, n + 1);
        time(s, name, S.ESME_RINVOPTPARAMVAL);
        return;
      }
      ensure(4 + Math.min(n + 1, spec.max));
      tlvHeader(spec.tag, n + 1);
      cstr(s, spec.max, name, S.ESME_RINVPARLEN);
      return;
    }
    case 'octets': {
      if (!(value instanceof Uint8Array)) {
        throw new SmppEncodeError(name, S.ESME_RINVOPTPARAMVAL, `${name} must be a Buffer`);
      }
      const n = value.length;
      if (n < spec.min || n > spec.max) {
        const range = spec.min === spec.max ? `${spec.min}` : `${spec.min}–${spec.max}`;
        throw new SmppEncodeError(name, S.ESME_RINVPARLEN, `${name} is ${n} octets; it takes ${range}`);
      }
      ensure(4 + n);
      tlvHeader(spec.tag, n);
      bytes(value);
      return;
    }
    case 'alert':
      ensure(5);
      if (value === true) {
        tlvHeader(spec.tag, 0);
        return;
      }
      tlvHeader(spec.tag, 1);
      u8(value as number, name, S.ESME_RINVOPTPARAMVAL);
      return;
  }
}

// ---------------------------------------------------------------------------------------
// Reading

// The cursor of the read in progress: `src` from `at` up to `end` (the PDU's end), and
// the header fields an error must report.
let src: Buffer = noBytes;
let at = 0;
let end = 0;
let readId = 0;
let readSequence = 0;

function decodeError(status: number, message: string): SmppDecodeError {
  const name = commandNameOf(readId) ?? `command 0x${readId.toString(16).padStart(8, '0')}`;
  return new SmppDecodeError(readId, readSequence, status, `${name} #${readSequence}: ${message}`);
}

function truncated(): SmppDecodeError {
  return decodeError(S.ESME_RINVCMDLEN, 'the body ends before its mandatory fields do');
}

function readU32(p: number): number {
  return ((src[p]! << 24) | (src[p + 1]! << 16) | (src[p + 2]! << 8) | src[p + 3]!) >>> 0;
}

function rU8(): number {
  if (at >= end) throw truncated();
  return src[at++]!;
}

/** Text of latin1 octets. Up to 8 characters a JS loop beats the native call (measured). */
function latin1(from: number, to: number): string {
  const n = to - from;
  if (n > 8) return src.toString('latin1', from, to);
  const b = src;
  let s = '';
  for (let i = from; i < to; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** A C-octet string; any length is accepted as long as its NUL is inside the PDU. */
function rCstr(): string {
  const b = src;
  const start = at;
  let i = start;
  while (i < end && b[i] !== 0) i++;
  if (i >= end) throw decodeError(S.ESME_RINVCMDLEN, 'a C-octet string has no NUL before the end of the PDU');
  at = i + 1;
  return i === start ? '' : latin1(start, i);
}

function rShortMessage(): Buffer {
  const n = rU8();
  if (at + n > end) throw decodeError(S.ESME_RINVMSGLEN, `sm_length ${n} runs past the end of the PDU`);
  const sm = n === 0 ? noBytes : src.subarray(at, at + n);
  at += n;
  return sm;
}

/** Decodes one complete PDU: `buf` holds exactly the bytes command_length says. */
export function decodePdu(buf: Buffer): Pdu {
  if (buf.length < 16) {
    throw new SmppDecodeError(0, 0, S.ESME_RINVCMDLEN, `a PDU has at least 16 octets, not ${buf.length}`);
  }
  const length = buf.readUInt32BE(0);
  if (length !== buf.length) {
    throw new SmppDecodeError(
      buf.readUInt32BE(4),
      buf.readUInt32BE(12),
      S.ESME_RINVCMDLEN,
      `command_length ${length} but ${buf.length} octets`,
    );
  }
  return decodePduAt(buf, 0, length);
}

/**
 * Decodes the PDU at `buf[offset, offset + length)`, `length` being its command_length
 * (at least 16). The framer's fast path: no copy of the PDU's bytes.
 */
export function decodePduAt(buf: Buffer, offset: number, length: number): Pdu {
  src = buf;
  at = offset + 16;
  end = offset + length;
  if (length < 16 || end > buf.length) {
    throw new SmppDecodeError(0, 0, S.ESME_RINVCMDLEN, `command_length ${length} is out of bounds`);
  }
  readId = readU32(offset + 4);
  readSequence = readU32(offset + 12);
  const status = readU32(offset + 8);
  switch (readId) {
    case CommandId.submit_sm:
      return decodeSm('submit_sm', status);
    case CommandId.deliver_sm:
      return decodeSm('deliver_sm', status);
    case CommandId.submit_sm_resp:
      return decodeMessageIdResp('submit_sm_resp', status);
    case CommandId.deliver_sm_resp:
      return decodeMessageIdResp('deliver_sm_resp', status);
    case CommandId.data_sm_resp:
      return decodeMessageIdResp('data_sm_resp', status);
    case CommandId.broadcast_sm_resp:
      return decodeMessageIdResp('broadcast_sm_resp', status);
    case CommandId.query_broadcast_sm_resp:
      return decodeMessageIdResp('query_broadcast_sm_resp', status);
    case CommandId.generic_nack:
    case CommandId.unbind:
    case CommandId.unbind_resp:
    case CommandId.enquire_link:
    case CommandId.enquire_link_resp:
    case CommandId.cancel_sm_resp:
    case CommandId.replace_sm_resp:
    case CommandId.cancel_broadcast_sm_resp:
      return withTlvs({
        command: commandNameOf(readId) as 'generic_nack',
        commandStatus: status,
        sequenceNumber: readSequence,
      });
    case CommandId.bind_transmitter:
    case CommandId.bind_receiver:
    case CommandId.bind_transceiver:
      return withTlvs({
        command: commandNameOf(readId) as 'bind_transmitter',
        commandStatus: status,
        sequenceNumber: readSequence,
        systemId: rCstr(),
        password: rCstr(),
        systemType: rCstr(),
        interfaceVersion: rU8(),
        addrTon: rU8(),
        addrNpi: rU8(),
        addressRange: rCstr(),
      });
    case CommandId.bind_transmitter_resp:
    case CommandId.bind_receiver_resp:
    case CommandId.bind_transceiver_resp:
      return withTlvs({
        command: commandNameOf(readId) as 'bind_transmitter_resp',
        commandStatus: status,
        sequenceNumber: readSequence,
        systemId: at === end ? '' : rCstr(),
      });
    case CommandId.outbind:
      return withTlvs({
        command: 'outbind',
        commandStatus: status,
        sequenceNumber: readSequence,
        systemId: rCstr(),
        password: rCstr(),
      });
    case CommandId.submit_multi:
      return decodeSubmitMulti(status);
    case CommandId.submit_multi_resp:
      return decodeSubmitMultiResp(status);
    case CommandId.data_sm:
      return withTlvs({
        command: 'data_sm',
        commandStatus: status,
        sequenceNumber: readSequence,
        serviceType: rCstr(),
        sourceAddrTon: rU8(),
        sourceAddrNpi: rU8(),
        sourceAddr: rCstr(),
        destAddrTon: rU8(),
        destAddrNpi: rU8(),
        destinationAddr: rCstr(),
        esmClass: rU8(),
        registeredDelivery: rU8(),
        dataCoding: rU8(),
      });
    case CommandId.query_sm:
    case CommandId.query_broadcast_sm:
      return withTlvs({
        command: commandNameOf(readId) as 'query_sm',
        commandStatus: status,
        sequenceNumber: readSequence,
        messageId: rCstr(),
        sourceAddrTon: rU8(),
        sourceAddrNpi: rU8(),
        sourceAddr: rCstr(),
      });
    case CommandId.query_sm_resp: {
      const empty = at === end;
      return withTlvs({
        command: 'query_sm_resp',
        commandStatus: status,
        sequenceNumber: readSequence,
        messageId: empty ? '' : rCstr(),
        finalDate: empty ? '' : rCstr(),
        messageState: empty ? 0 : rU8(),
        errorCode: empty ? 0 : rU8(),
      });
    }
    case CommandId.cancel_sm:
      return withTlvs({
        command: 'cancel_sm',
        commandStatus: status,
        sequenceNumber: readSequence,
        serviceType: rCstr(),
        messageId: rCstr(),
        sourceAddrTon: rU8(),
        sourceAddrNpi: rU8(),
        sourceAddr: rCstr(),
        destAddrTon: rU8(),
        destAddrNpi: rU8(),
        destinationAddr: rCstr(),
      });
    case CommandId.replace_sm:
      return withTlvs({
        command: 'replace_sm',
        commandStatus: status,
        sequenceNumber: readSequence,
        messageId: rCstr(),
        sourceAddrTon: rU8(),
        sourceAddrNpi: rU8(),
        sourceAddr: rCstr(),
        scheduleDeliveryTime: rCstr(),
        validityPeriod: rCstr(),
        registeredDelivery: rU8(),
        smDefaultMsgId: rU8(),
        shortMessage: rShortMessage(),
      });
    case CommandId.alert_notification:
      return withTlvs({
        command: 'alert_notification',
        commandStatus: status,
        sequenceNumber: readSequence,
        sourceAddrTon: rU8(),
        sourceAddrNpi: rU8(),
        sourceAddr: rCstr(),
        esmeAddrTon: rU8(),
        esmeAddrNpi: rU8(),
        esmeAddr: rCstr(),
      });
    case CommandId.broadcast_sm:
      return withTlvs({
        command: 'broadcast_sm',
        commandStatus: status,
        sequenceNumber: readSequence,
        serviceType: rCstr(),
        sourceAddrTon: rU8(),
        sourceAddrNpi: rU8(),
        sourceAddr: rCstr(),
        messageId: rCstr(),
        priorityFlag: rU8(),
        scheduleDeliveryTime: rCstr(),
        validityPeriod: rCstr(),
        replaceIfPresentFlag: rU8(),
        dataCoding: rU8(),
        smDefaultMsgId: rU8(),
      });
    case CommandId.cancel_broadcast_sm:
      return withTlvs({
        command: 'cancel_broadcast_sm',
        commandStatus: status,
        sequenceNumber: readSequence,
        serviceType: rCstr(),
        messageId: rCstr(),
        sourceAddrTon: rU8(),
        sourceAddrNpi: rU8(),
        sourceAddr: rCstr(),
      });
    default:
      throw decodeError(S.ESME_RINVCMDID, 'unknown command_id');
  }
}

function decodeSm(command: 'submit_sm' | 'deliver_sm', status: number): Pdu {
  return withTlvs({
    command,
    commandStatus: status,
    sequenceNumber: readSequence,
    serviceType: rCstr(),
    sourceAddrTon: rU8(),
    sourceAddrNpi: rU8(),
    sourceAddr: rCstr(),
    destAddrTon: rU8(),
    destAddrNpi: rU8(),
    destinationAddr: rCstr(),
    esmClass: rU8(),
    protocolId: rU8(),
    priorityFlag: rU8(),
    scheduleDeliveryTime: rCstr(),
    validityPeriod: rCstr(),
    registeredDelivery: rU8(),
    replaceIfPresentFlag: rU8(),
    dataCoding: rU8(),
    smDefaultMsgId: rU8(),
    shortMessage: rShortMessage(),
  });
}

function decodeMessageIdResp(command: CommandName, status: number): Pdu {
  return withTlvs({
    command: command as 'submit_sm_resp',
    commandStatus: status,
    sequenceNumber: readSequence,
    messageId: at === end ? '' : rCstr(),
  });
}

function decodeSubmitMulti(status: number): Pdu {
  const serviceType = rCstr();
  const sourceAddrTon = rU8();
  const sourceAddrNpi = rU8();
  const sourceAddr = rCstr();
  const n = rU8();
  const destinations: MultiDestination[] = [];
  for (let i = 0; i < n; i++) {
    const flag = rU8();
    if (flag === DestFlag.SME_ADDRESS) {
      destinations.push({ kind: 'sme', ton: rU8(), npi: rU8(), address: rCstr() });
    } else if (flag === DestFlag.DISTRIBUTION_LIST) {
      destinations.push({ kind: 'list', name: rCstr() });
    } else {
      throw decodeError(S.ESME_RINVDESTFLAG, `dest_flag ${flag} is neither 1 (SME) nor 2 (list)`);
    }
  }
  return withTlvs({
    command: 'submit_multi',
    commandStatus: status,
    sequenceNumber: readSequence,
    serviceType,
    sourceAddrTon,
    sourceAddrNpi,
    sourceAddr,
    destinations,
    esmClass: rU8(),
    protocolId: rU8(),
    priorityFlag: rU8(),
    scheduleDeliveryTime: rCstr(),
    validityPeriod: rCstr(),
    registeredDelivery: rU8(),
    replaceIfPresentFlag: rU8(),
    dataCoding: rU8(),
    smDefaultMsgId: rU8(),
    shortMessage: rShortMessage(),
  });
}

function decodeSubmitMultiResp(status: number): Pdu {
  const empty = at === end;
  const messageId = empty ? '' : rCstr();
  const n = empty ? 0 : rU8();
  const unsuccess: UnsuccessfulDelivery[] = [];
  for (let i = 0; i < n; i++) {
    const ton = rU8();
    const npi = rU8();
    const address = rCstr();
    if (at + 4 > end) throw truncated();
    unsuccess.push({ ton, npi, address, errorStatus: readU32(at) });
    at += 4;
  }
  return withTlvs({
    command: 'submit_multi_resp',
    commandStatus: status,
    sequenceNumber: readSequence,
    messageId,
    unsuccess,
  });
}

/** Reads the TLVs after the mandatory fields into `pdu` (only when there are any). */
function withTlvs(pdu: Pdu): Pdu {
  if (at < end) pdu.tlvs = readTlvs();
  return pdu;
}

function readTlvs(): Tlvs {
  const tlvs: Record<string, unknown> = {};
  while (at < end) {
    if (end - at < 4) {
      throw decodeError(S.ESME_RINVOPTPARSTREAM, `${end - at} stray octet(s) after the last TLV`);
    }
    const tag = (src[at]! << 8) | src[at + 1]!;
    const length = (src[at + 2]! << 8) | src[at + 3]!;
    at += 4;
    if (at + length > end) {
      throw decodeError(
        S.ESME_RINVOPTPARSTREAM,
        `TLV 0x${tag.toString(16).padStart(4, '0')} of ${length} octets runs past the end of the PDU`,
      );
    }
    const spec = tlvSpecOf(tag);
    const value = spec === undefined ? undefined : tlvValue(spec, at, length);
    if (value === undefined || (!spec!.repeats && tlvs[spec!.name] !== undefined)) {
      append(tlvs, 'vendor', { tag, value: src.subarray(at, at + length) });
    } else if (spec!.repeats) {
      append(tlvs, spec!.name, value);
    } else {
      tlvs[spec!.name] = value;
    }
    at += length;
  }
  return tlvs as Tlvs;
}

function append(tlvs: Record<string, unknown>, name: string, value: unknown): void {
  const list = tlvs[name] as unknown[] | undefined;
  if (list === undefined) tlvs[name] = [value];
  else list.push(value);
}

/** The value of a standard TLV, or undefined when its length does not fit its type. */
function tlvValue(spec: TlvSpec, from: number, length: number): unknown {
  switch (spec.kind) {
    case 'int': {
      if (length < 1 || length > 6) return undefined;
      let v = 0;
      for (let i = 0; i < length; i++) v = v * 256 + src[from + i]!;
      return v;
    }
    case 'cstring': {
      // Some SMSCs leave out the NUL (notably in receipted_message_id): the value ends there.
      let i = from;
      const to = from + length;
      while (i < to && src[i] !== 0) i++;
      return latin1(from, i);
    }
    case 'octets':
      return length < spec.min || length > spec.max ? undefined : src.subarray(from, from + length);
    case 'alert':
      return length === 0 ? true : length === 1 ? src[from] : undefined;
  }
}
