// The message as the gateway keeps it, and its lifecycle (CONTRACT §3). Plain data: the
// store persists it, the API renders it, connectors see only what they must send.
import { fromMicros } from './money.ts';

export const messageStatuses = [
  'scheduled',
  'queued',
  // Held back with its batch (paused, or still being uploaded): not sent until resumed.
  'paused',
  'sending',
  'submitted',
  'delivered',
  'undelivered',
  'expired',
  'rejected',
  'failed',
  'canceled',
  'received',
] as const;
export type MessageStatus = (typeof messageStatuses)[number];

/** Statuses a message never leaves. */
export const finalStatuses: ReadonlySet<MessageStatus> = new Set([
  'delivered',
  'undelivered',
  'expired',
  'rejected',
  'failed',
  'canceled',
  'received',
]);

/** Dispatch order: lower runs first. */
export const priorities = ['emergency', 'otp', 'transactional', 'bulk'] as const;
export type Priority = (typeof priorities)[number];

export type Direction = 'mt' | 'mo';
export type TextEncoding = 'gsm7' | 'ucs2' | 'latin1' | 'ascii' | 'binary';

export interface MessageError {
  code: string;
  message: string;
}

export interface Message {
  id: string;
  accountId: string;
  direction: Direction;
  status: MessageStatus;
  to: string;
  from: string;
  /** The text, or null for a binary message (then `binary` holds the octets). */
  text: string | null;
  binary: Buffer | null;
  /**
   * A user data header sent as it is (one part of a long message an SMPP client split
   * itself, or a port-addressed message); null when the gateway builds headers itself.
   */
  udh: Buffer | null;
  encoding: TextEncoding;
  segments: number;
  priority: Priority;
  clientRef: string | null;
  callbackUrl: string | null;
  flash: boolean;
  /** Where an SMPP client submitted it: receipts go back to this account's binds. */
  origin: 'http' | 'smpp';
  /** The ESME asked for a receipt (registered_delivery); HTTP callers always get webhooks. */
  receiptRequested: boolean;
  /** Connector that took (or is taking) it. */
  connectorId: string | null;
  /** Times as epoch milliseconds. */
  createdAt: number;
  sendAt: number | null;
  validUntil: number | null;
  submittedAt: number | null;
  doneAt: number | null;
  /** Attempts made so far and when the next may start (back-off). */
  attempts: number;
  nextAttemptAt: number | null;
  error: MessageError | null;
  /** Batch, alert or reminder this message belongs to. */
  groupId: string | null;
  /**
   * What a front door or feature needs back later, as plain JSON: a compat API's callback
   * format (Kannel dlr-url and mask, Twilio StatusCallback), a batch's row. Null when none.
   */
  meta: Record<string, unknown> | null;
  /**
   * What the message costs its account, fixed when it is accepted: micro-units of
   * `currency` (the per-part price × its parts); null (or absent) when no price applies.
   */
  priceMicros?: number | null;
  currency?: string | null;
}

export interface MessageEvent {
  messageId: string;
  at: number;
  /**
   * The status entered, or an event that changes none: a retry planned, a receipt (of a
   * part); on an inbound message, a rule's reply sent (`replied`) or a target that failed.
   */
  type: MessageStatus | 'retry' | 'receipt' | 'replaced' | 'replied' | 'rule_failed';
  detail: Record<string, unknown> | null;
}

/** The public JSON form of a message (REST API, webhooks). */
/** A message's price in its currency's main unit (a JSON number), or null. */
export function messagePrice(m: Message): number | null {
  return m.priceMicros === null || m.priceMicros === undefined ? null : fromMicros(m.priceMicros);
}

export function messageView(m: Message, events?: MessageEvent[]): Record<string, unknown> {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    id: m.id,
    direction: m.direction === 'mt' ? 'outbound' : 'inbound',
    status: m.status,
    to: m.to,
    from: m.from,
    text: m.text,
    ...(m.binary ? { binaryHex: m.binary.toString('hex') } : {}),
    ...(m.udh ? { udhHex: m.udh.toString('hex') } : {}),
    segments: m.segments,
    encoding: m.encoding,
    priority: m.priority,
    clientRef: m.clientRef,
    connector: m.connectorId,
    ...(Array.isArray(m.meta?.tags) ? { tags: m.meta.tags } : {}),
    // The sender pool it took its sender from; the destination's network (online lookup) it was routed by.
    ...(typeof m.meta?.service === 'string' ? { service: m.meta.service } : {}),
    ...(typeof m.meta?.network === 'string' ? { network: m.meta.network } : {}),
    error: m.error,
    createdAt: iso(m.createdAt),
    sendAt: iso(m.sendAt),
    validUntil: iso(m.validUntil),
    submittedAt: iso(m.submittedAt),
    doneAt: iso(m.doneAt),
    price: messagePrice(m),
    currency: m.currency ?? null,
    ...(events
      ? {
          events: events.map((e) => ({
            type: e.type,
            at: iso(e.at),
            ...(e.detail ? { detail: e.detail } : {}),
          })),
        }
      : {}),
  };
}
