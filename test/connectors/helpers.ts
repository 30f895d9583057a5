// Shared pieces of the connector tests: a recording sink, message and config builders, and
// a wait that polls.
import type { Cimd2ConnectorConfig, SmppConnectorConfig } from '../../src/config/types.ts';
import type { ConnectorSink, InboundReceipt, InboundSms, OutboundSms } from '../../src/connectors/index.ts';

/** Records what reaches it; `refuse` decides, per call, whether to reject. */
export class RecordingSink implements ConnectorSink {
  readonly receipts: InboundReceipt[] = [];
  readonly inbounds: InboundSms[] = [];
  receiptCalls = 0;
  inboundCalls = 0;
  refuseReceipt: (receipt: InboundReceipt, call: number) => boolean = () => false;
  refuseInbound: (sms: InboundSms, call: number) => boolean = () => false;
  /** When set, inbound() waits for this before it settles. */
  hold: Promise<void> | null = null;

  async receipt(receipt: InboundReceipt): Promise<void> {
    const call = ++this.receiptCalls;
    if (this.refuseReceipt(receipt, call)) throw new Error('store unavailable');
    this.receipts.push(receipt);
  }

  async inbound(sms: InboundSms): Promise<void> {
    const call = ++this.inboundCalls;
    if (this.hold) await this.hold;
    if (this.refuseInbound(sms, call)) throw new Error('store unavailable');
    this.inbounds.push(sms);
  }
}

let nextMessage = 1;

export function outbound(fields: Partial<OutboundSms> = {}): OutboundSms {
  return {
    messageId: `m${nextMessage++}`,
    to: '+447700900001',
    from: '+447700900000',
    text: 'Hello from smsgw',
    binary: null,
    udh: null,
    encoding: 'gsm7',
    receipt: false,
    flash: false,
    validUntil: null,
    priorityFlag: 0,
    ...fields,
  };
}

export function smppConfig(port: number, fields: Partial<SmppConnectorConfig> = {}): SmppConnectorConfig {
  return {
    id: 'carrier',
    type: 'smpp',
    host: '127.0.0.1',
    port,
    tls: false,
    systemId: 'esme',
    password: 'pw',
    systemType: '',
    interfaceVersion: '3.4',
    bindType: 'transceiver',
    binds: 1,
    window: 10,
    tps: 0,
    enquireLinkSeconds: 30,
    requestTimeoutSeconds: 5,
    longMessages: 'udh',
    destTon: 1,
    destNpi: 1,
    broadcast: false,
    receiptIds: 'as-submitted',
    ...fields,
  };
}

/** A CIMD2 connector's config against 127.0.0.1:port, with `fields` over it. */
export function cimd2Config(port: number, fields: Partial<Cimd2ConnectorConfig> = {}): Cimd2ConnectorConfig {
  return {
    id: 'nokia',
    type: 'cimd2',
    host: '127.0.0.1',
    port,
    username: 'user',
    password: 'secret',
    binds: 1,
    window: 8,
    tps: 0,
    aliveSeconds: 60,
    requestTimeoutSeconds: 5,
    checksum: false,
    ...fields,
  };
}

export async function waitFor<T>(fn: () => T | undefined | false, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
