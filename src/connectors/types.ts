// Every carrier driver sits behind this one small interface (after Kannel's gw/smsc), so the
// core never knows which protocol a connector speaks.
import type { EventEmitter } from 'node:events';
import type { TextEncoding } from '../core/index.ts';

/** What the core hands a connector to send. */
export interface OutboundSms {
  messageId: string;
  to: string;
  from: string;
  /** Text, or null when `binary` carries the octets. */
  text: string | null;
  binary: Buffer | null;
  /** A header to send as it is, in one part (the content then fits in one). */
  udh: Buffer | null;
  encoding: TextEncoding;
  /** Ask the SMSC for a delivery receipt. */
  receipt: boolean;
  flash: boolean;
  validUntil: number | null;
  /** 0..3 as SMPP priority_flag: emergency 3 ... bulk 0. */
  priorityFlag: number;
}

export type SubmitResult =
  | {
      ok: true;
      /** One SMSC id per part, in part order. */
      smscIds: string[];
    }
  | {
      ok: false;
      /** Worth retrying later or elsewhere (throttled, queue full, timeout, link lost). */
      temporary: boolean;
      code: string;
      message: string;
      /** The SMSC's answer when it answered: SMPP command_status, a modem's +CMS ERROR number. */
      status?: number;
      /** Parts the SMSC accepted before the failure (their ids), so they are not resent blindly. */
      smscIds?: string[];
    };

/** A cell broadcast (SMPP 5.0 broadcast_sm): one text to every handset in some areas. */
export interface BroadcastRequest {
  from: string;
  text: string;
  /** Broadcast area names, as the carrier knows them (broadcast_area_identifier, format alias/name). */
  areas: string[];
  /** How many times it is broadcast, and how often (seconds). */
  repetitions: number;
  frequencySeconds: number;
  /** Epoch ms after which it stops, or null for the carrier's default. */
  validUntil: number | null;
}

export type BroadcastResult =
  | { ok: true; broadcastId: string; failedAreas: string[] }
  | { ok: false; code: string; message: string };

export type ReceiptStatus =
  | 'delivered'
  | 'undelivered'
  | 'expired'
  | 'rejected'
  | 'failed'
  | 'accepted'
  | 'unknown';

export interface InboundReceipt {
  connectorId: string;
  smscId: string;
  status: ReceiptStatus;
  /** The SMSC's own words: stat and err as received. */
  stat: string;
  err: string;
  doneAt: number | null;
  networkErrorCode: number | null;
}

export interface InboundSms {
  connectorId: string;
  from: string;
  to: string;
  /** Reassembled from all parts; null for binary. */
  text: string | null;
  binary: Buffer | null;
  encoding: TextEncoding;
  segments: number;
  /** False when the parts of a long message stopped arriving and this is what came. */
  complete: boolean;
  receivedAt: number;
}

export interface BindState {
  index: number;
  state: 'connecting' | 'bound' | 'down' | 'stopped';
  inFlight: number;
  window: number;
}

export interface ConnectorState {
  id: string;
  type: string;
  /**
   * `up` when at least one bind can send; `standby` when its share of a cluster's binds is
   * none (the other gateways hold them all).
   */
  status: 'starting' | 'up' | 'down' | 'stopped' | 'standby';
  binds: BindState[];
  inFlight: number;
  sent: number;
  failed: number;
  /** Why the last bind went down or was refused (SMPP status name, socket error); null once up. */
  lastError?: string | null;
  /** When `status` began (ISO 8601). */
  since?: string;
}

/**
 * Where a connector hands what the carrier sends. The connector acknowledges the carrier
 * (deliver_sm_resp) only once the returned promise resolves, i.e. once it is stored; on a
 * rejection it answers with a temporary error so the carrier tries again.
 */
export interface ConnectorSink {
  receipt(receipt: InboundReceipt): Promise<void>;
  inbound(sms: InboundSms): Promise<void>;
  /**
   * Where the parts of a long inbound message wait for the rest, durably: each is kept
   * before it is acknowledged, so a crash between two parts loses neither. Without it,
   * parts wait in memory only.
   */
  parts?: InboundPartStore;
}

/** One acknowledged part of a long inbound message whose other parts have not all come. */
export interface KeptPart {
  /** Unique within the connector: the same part sent again has the same id. */
  id: string;
  /** Sender and receiver, as the reassembler keys its sets. */
  key: string;
  /** The short message as received (with its UDH, for a UDH part). */
  body: Buffer;
  dataCoding: number;
  /** The SAR TLVs of a SAR part; null for a UDH part. */
  sar: { reference: number; total: number; sequence: number } | null;
}

export interface InboundPartStore {
  keep(connectorId: string, part: KeptPart): Promise<void>;
  forget(connectorId: string, ids: readonly string[]): Promise<void>;
  /** Every part kept for the connector, oldest first. */
  kept(connectorId: string): Promise<KeptPart[]>;
}

export interface ConnectorEvents {
  /** Capacity came free (a response arrived, a bind came up, throttling ended). */
  ready: [];
  state: [state: ConnectorState];
}

export interface Connector extends EventEmitter<ConnectorEvents> {
  readonly id: string;
  readonly type: string;
  start(): Promise<void>;
  /** Unbinds politely; resolves when every outstanding send has settled. */
  stop(): Promise<void>;
  /**
   * How many more sends it takes right now without queueing (free window slots across
   * bound sessions, held back by tps and throttling). The dispatcher never exceeds it.
   */
  capacity(): number;
  send(sms: OutboundSms): Promise<SubmitResult>;
  state(): ConnectorState;
  /**
   * Present on a connector whose binds and tps are what the carrier allows in all: the
   * gateways of a cluster share them (see `share`).
   */
  readonly budget?: { binds: number; tps: number };
  /**
   * Runs on a share of the budget: `binds` of its binds (others are unbound, once their
   * sends have settled) and `tps` per second (0: no limit). Resolves once the binds above
   * the share are closed, so another gateway may open its own.
   */
  share?(binds: number, tps: number): Promise<void>;
  /** Cell broadcast; present only on a connector configured for it (`broadcast: true`). */
  readonly broadcast?: (request: BroadcastRequest) => Promise<BroadcastResult>;
}
