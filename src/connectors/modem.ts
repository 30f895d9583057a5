// The GSM modem connector: a pool of modems on serial ports (one "bind" each), sending in PDU
// mode. A message goes whole to the least busy modem that is up; every part asks for a status
// report, matched back by the TP-MR its +CMGS gave, which is only unique per modem — hence
// the SMSC id `<device>#<mr>`. Inbound parts stay on the SIM until their whole message is
// stored, so the SIM is where a long message waits for its other parts.
import { EventEmitter } from 'node:events';
import type { ModemConnectorConfig } from '../config/index.ts';
import type { ModemOptions, ModemState } from '../modem/index.ts';
import { AtError, Modem } from '../modem/index.ts';
import type {
  DecodedTpdu,
  Encoding,
  ReassembledMessage,
  SmsStatusReport,
  SplitResult,
} from '../sms/index.ts';
import {
  chooseEncoding,
  dataCodingFor,
  encodeSubmit,
  encodeText,
  parseUdh,
  Reassembler,
  SmsError,
  splitBinary,
  splitMessage,
} from '../sms/index.ts';
import { StatusHistory } from './health.ts';
import { inboundSmsOf } from './inbound.ts';
import type { ConnectorLogger } from './logger.ts';
import { silentLogger } from './logger.ts';
import { SendTracker } from './sends.ts';
import type {
  BindState,
  Connector,
  ConnectorEvents,
  ConnectorSink,
  ConnectorState,
  InboundReceipt,
  OutboundSms,
  ReceiptStatus,
  SubmitResult,
} from './types.ts';

/** Tuning that is not in the config file (tests shorten the waits). */
export interface ModemConnectorOptions {
  modem?: Omit<ModemOptions, 'path' | 'baudRate' | 'pin'>;
  /** How long the parts of a long inbound message are waited for before it goes on incomplete. */
  reassemblyTimeoutMs?: number;
  /** A message or receipt the sink refused is offered again after this long. */
  sinkRetryMs?: number;
}

/**
 * +CMS ERROR numbers worth trying again later (TS 27.005 3.2.5; below 128 the network's RP
 * cause, TS 24.011 E.2): network out of order, temporary failure, congestion, resources
 * unavailable, ME failure, SIM busy, no network service, network timeout, unknown error.
 */
const temporaryCmsErrors = new Set([38, 41, 42, 47, 300, 314, 331, 332, 500]);

const defaultReassemblyMs = 300_000;

interface Device {
  index: number;
  modem: Modem;
  /** Messages handed to it and not yet answered (one at a time: a modem sends one by one). */
  inFlight: number;
}

export class ModemConnector extends EventEmitter<ConnectorEvents> implements Connector {
  readonly id: string;
  readonly type = 'modem';

  readonly #sink: ConnectorSink;
  readonly #log: ConnectorLogger;
  readonly #options: ModemConnectorOptions;
  readonly #devices: Device[];
  readonly #sends = new SendTracker();
  readonly #history = new StatusHistory();
  #reassembler: Reassembler;
  /** What has to be deleted from a SIM once a set of parts is handed over, by set. */
  readonly #partsOnSim = new Map<string, { since: number; removes: Array<() => Promise<void>> }>();
  readonly #retries = new Set<NodeJS.Timeout>();
  /** Where the next look for a free modem starts. */
  #turn = 0;
  #started = false;
  #stopped = false;

  constructor(
    config: ModemConnectorConfig,
    sink: ConnectorSink,
    logger: ConnectorLogger = silentLogger,
    options: ModemConnectorOptions = {},
  ) {
    super();
    this.id = config.id;
    this.#sink = sink;
    this.#log = logger;
    this.#options = options;
    this.#reassembler = this.#newReassembler();
    this.#devices = config.devices.map((path, index) => {
      const modem = new Modem(
        {
          commandTimeoutMs: config.commandTimeoutSeconds * 1000,
          sendTimeoutMs: config.sendTimeoutSeconds * 1000,
          pollMs: config.pollSeconds * 1000,
          ...options.modem,
          path,
          baudRate: config.baudRate,
          ...(config.pin === undefined ? {} : { pin: config.pin }),
        },
        {
          message: (tpdu, handled) => this.#onMessage(modem, tpdu, handled),
          report: (report) => this.#onReport(modem, report),
        },
      );
      const device: Device = { index, modem, inFlight: 0 };
      modem.on('state', (state) => this.#onModemState(device, state));
      modem.on('traffic', (direction, text) =>
        this.#log.debug({ connector: this.id, bind: index, [direction]: text }, 'modem traffic'),
      );
      return device;
    });
  }

  async start(): Promise<void> {
    if (this.#started && !this.#stopped) return;
    if (this.#stopped) this.#reassembler = this.#newReassembler();
    this.#started = true;
    this.#stopped = false;
    for (const device of this.#devices) device.modem.start();
    this.emit('state', this.state());
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.emit('state', this.state());
    await this.#sends.settled();
    for (const timer of this.#retries) clearTimeout(timer);
    this.#retries.clear();
    await Promise.allSettled(this.#devices.map((d) => d.modem.stop()));
    // Parts still waiting stay on their SIMs and are read again at the next start.
    this.#reassembler.close();
    this.#partsOnSim.clear();
    this.#log.info({ connector: this.id }, 'connector stopped');
    this.emit('state', this.state());
  }

  capacity(): number {
    if (this.#stopped) return 0;
    return this.#devices.filter((d) => d.modem.state === 'ready' && d.inFlight === 0).length;
  }

  send(sms: OutboundSms): Promise<SubmitResult> {
    return this.#sends.track(this.#send(sms), () => this.emit('ready'));
  }

  state(): ConnectorState {
    const binds: BindState[] = this.#devices.map((d) => ({
      index: d.index,
      state: bindStateOf(d.modem.state),
      inFlight: d.inFlight,
      window: 1,
    }));
    let status: ConnectorState['status'];
    if (this.#stopped) status = 'stopped';
    else if (binds.some((b) => b.state === 'bound')) status = 'up';
    else if (binds.some((b) => b.state === 'down')) status = 'down';
    else status = 'starting';
    const lastError = this.#devices.find((d) => d.modem.lastError !== null)?.modem.lastError ?? null;
    return {
      id: this.id,
      type: this.type,
      status,
      binds,
      inFlight: binds.reduce((sum, b) => sum + b.inFlight, 0),
      sent: this.#sends.sent,
      failed: this.#sends.failed,
      lastError: status === 'up' ? null : lastError,
      since: this.#history.since(status),
    };
  }

  #onModemState(device: Device, state: ModemState): void {
    const where = { connector: this.id, bind: device.index, device: device.modem.path };
    if (state === 'ready') {
      this.#log.info({ ...where, signal: device.modem.signal }, 'connector bind up');
      this.emit('ready');
    } else if (state === 'down') {
      this.#log.warn({ ...where, reason: device.modem.lastError }, 'connector bind down');
    }
    this.emit('state', this.state());
  }

  // ---- sending ----

  async #send(sms: OutboundSms): Promise<SubmitResult> {
    if (this.#stopped)
      return { ok: false, temporary: true, code: 'stopped', message: 'connector is stopped' };
    let split: SplitResult;
    try {
      split = this.#split(sms);
    } catch (err) {
      return { ok: false, temporary: false, code: 'invalid_message', message: (err as Error).message };
    }
    const device = this.#leastLoaded();
    if (!device) return { ok: false, temporary: true, code: 'not_bound', message: 'no modem is ready' };
    device.inFlight++;
    const smscIds: string[] = [];
    try {
      for (const part of split.parts) {
        const tpdu = encodeSubmit({
          to: sms.to,
          reference: 0, // the modem puts its own TP-MR in, and says which in +CMGS
          statusReport: sms.receipt,
          ...(sms.validUntil === null
            ? {}
            : { validitySeconds: Math.max(0, (sms.validUntil - Date.now()) / 1000) }),
          dcs: split.dataCoding,
          ...(part.udh ? { udh: part.udh } : {}),
          userData: part.payload,
        });
        const reference = await device.modem.send(tpdu);
        smscIds.push(`${device.modem.path}#${reference}`);
      }
      return { ok: true, smscIds };
    } catch (err) {
      const failure = failureOf(err);
      return smscIds.length > 0 ? { ...failure, smscIds } : failure;
    } finally {
      device.inFlight--;
    }
  }

  /** Parts in an encoding a GSM DCS has: GSM 7-bit or UCS-2 for text, 8-bit for binary. */
  #split(sms: OutboundSms): SplitResult {
    const options = { mode: 'udh', maxParts: 255, flash: sms.flash } as const;
    if (sms.udh !== null) {
      // An ESME's own part: sent as it is, in one part.
      const encoding = sms.binary !== null ? 'binary' : gsmEncoding(sms.encoding, sms.text ?? '');
      return {
        encoding,
        dataCoding: dataCodingFor(encoding, { flash: sms.flash }),
        text: sms.text ?? '',
        parts: [{ payload: sms.binary ?? encodeText(sms.text ?? '', encoding), udh: sms.udh }],
        segments: 1,
      };
    }
    if (sms.text !== null)
      return splitMessage(sms.text, { ...options, encoding: gsmEncoding(sms.encoding, sms.text) });
    if (sms.binary !== null) return splitBinary(sms.binary, options);
    throw new SmsError('invalid_argument', 'a message needs text or binary content');
  }

  /** The least busy modem that is ready; ties taken in turn, so a quiet pool still uses every SIM. */
  #leastLoaded(): Device | null {
    let best: Device | null = null;
    const n = this.#devices.length;
    for (let i = 0; i < n; i++) {
      const d = this.#devices[(this.#turn + i) % n]!;
      if (d.modem.state === 'ready' && (best === null || d.inFlight < best.inFlight)) best = d;
    }
    if (best !== null) this.#turn = (best.index + 1) % n;
    return best;
  }

  // ---- receiving ----

  #onReport(modem: Modem, report: SmsStatusReport): void {
    const status = reportStatusOf(report.status);
    const st = report.status.toString(16).padStart(2, '0').toUpperCase();
    this.#offer('receipt', () =>
      this.#sink.receipt({
        connectorId: this.id,
        smscId: `${modem.path}#${report.reference}`,
        status,
        stat: reportWords[status],
        err: st,
        doneAt: report.dischargeTime.getTime(),
        networkErrorCode: report.status,
      } satisfies InboundReceipt),
    );
  }

  #onMessage(modem: Modem, tpdu: DecodedTpdu & { type: 'deliver' }, handled: () => Promise<void>): void {
    this.#dropStrayParts();
    const key = `${tpdu.from}\u0000${modem.number}`;
    // The reassembler reads SMPP data_coding; 0x00, 0x04 and 0x08 mean what the DCS meant.
    const dataCoding = { gsm7: 0x00, binary: 0x04, ucs2: 0x08 }[tpdu.encoding as 'gsm7' | 'binary' | 'ucs2'];
    let done: ReassembledMessage | undefined;
    if (tpdu.udh !== null) {
      const body = Buffer.concat([tpdu.udh, tpdu.payload]);
      done = this.#reassembler.addUdhPart(key, body, dataCoding);
      if (done === undefined) {
        // Which set it belongs to is only known from the UDH: read it as the reassembler did.
        const setKey = this.#pendingSetKey(key, tpdu.udh);
        const waiting = this.#partsOnSim.get(setKey);
        if (waiting) waiting.removes.push(handled);
        else this.#partsOnSim.set(setKey, { since: Date.now(), removes: [handled] });
        return;
      }
    } else {
      done = this.#reassembler.add(key, { reference: 0, total: 1, sequence: 1 }, tpdu.payload, dataCoding);
    }
    if (done === undefined) return;
    const onSim = [...(this.#partsOnSim.get(setKeyOf(done))?.removes ?? []), handled];
    this.#partsOnSim.delete(setKeyOf(done));
    this.#deliver(done, onSim);
  }

  /**
   * Parts kept for a set long after any set could still be waiting (its own expiry hands it
   * over) are copies of parts already handed over — a network sending one again — and go.
   */
  #dropStrayParts(): void {
    const before = Date.now() - 2 * (this.#options.reassemblyTimeoutMs ?? defaultReassemblyMs);
    for (const [key, waiting] of this.#partsOnSim) {
      if (waiting.since > before) break;
      this.#partsOnSim.delete(key);
      for (const remove of waiting.removes) void remove();
    }
  }

  #pendingSetKey(key: string, udh: Buffer): string {
    const concat = parseUdh(udh)?.concat;
    return `${key}\u0000${concat?.reference}/${concat?.total}`;
  }

  /** Handed to the sink (again, while it refuses), then deleted from the SIM. */
  #deliver(message: ReassembledMessage, onSim: Array<() => Promise<void>>): void {
    const sms = inboundSmsOf(this.id, message);
    this.#offer('inbound', async () => {
      await this.#sink.inbound(sms);
      await Promise.all(onSim.map((remove) => remove()));
    });
  }

  /** Runs `hand` until the sink takes it (it refuses while its store cannot write). */
  #offer(what: string, hand: () => Promise<void>): void {
    hand().catch((err: unknown) => {
      if (this.#stopped) return;
      this.#log.warn({ connector: this.id, err }, `sink refused ${what}; offering it again`);
      const timer = setTimeout(() => {
        this.#retries.delete(timer);
        this.#offer(what, hand);
      }, this.#options.sinkRetryMs ?? 2_000);
      this.#retries.add(timer);
    });
  }

  #newReassembler(): Reassembler {
    const timeoutMs = this.#options.reassemblyTimeoutMs ?? defaultReassemblyMs;
    return new Reassembler({
      timeoutMs,
      sweepIntervalMs: Math.min(10_000, Math.max(10, timeoutMs / 4)),
      onExpire: (message) => {
        const key = setKeyOf(message);
        const onSim = this.#partsOnSim.get(key)?.removes ?? [];
        this.#partsOnSim.delete(key);
        this.#deliver(message, onSim);
      },
    });
  }
}

/** A set's identity as #pendingSetKey writes it from the UDH. */
function setKeyOf(message: ReassembledMessage): string {
  return `${message.key}\u0000${message.reference}/${message.total}`;
}

/** GSM 7-bit or UCS-2: a GSM DCS has no Latin-1 or IA5. */
function gsmEncoding(encoding: Encoding, text: string): 'gsm7' | 'ucs2' | 'binary' {
  if (encoding === 'gsm7' || encoding === 'ucs2' || encoding === 'binary') return encoding;
  return chooseEncoding(text).encoding;
}

function failureOf(err: unknown): Extract<SubmitResult, { ok: false }> {
  if (err instanceof SmsError)
    return { ok: false, temporary: false, code: 'invalid_message', message: err.message };
  if (err instanceof AtError) {
    if (err.kind === 'cms' && err.code !== null)
      return {
        ok: false,
        temporary: temporaryCmsErrors.has(err.code) || err.code >= 512,
        code: `cms_${err.code}`,
        message: err.message,
        status: err.code, // the network answered: a permanent one is a rejection
      };
    // A timeout or a closed port: the modem is being reset. A bare ERROR says nothing of why
    // (numeric +CMS errors were asked for): tried again, within the core's attempts.
    return { ok: false, temporary: err.kind !== 'cme', code: `modem_${err.kind}`, message: err.message };
  }
  return { ok: false, temporary: true, code: 'modem_error', message: (err as Error).message };
}

/** TP-ST (TS 23.040 9.2.3.15): 0x00-0x1F done, 0x20-0x3F still trying, 0x40-0x7F given up. */
function reportStatusOf(st: number): ReceiptStatus {
  if (st < 0x20) return 'delivered';
  if (st < 0x40) return 'accepted';
  if (st === 0x46) return 'expired';
  if (st === 0x47 || st === 0x48) return 'failed'; // deleted by the sender or the centre
  return 'undelivered';
}

const reportWords: Record<ReceiptStatus, string> = {
  delivered: 'DELIVRD',
  accepted: 'ENROUTE',
  expired: 'EXPIRED',
  failed: 'DELETED',
  undelivered: 'UNDELIV',
  rejected: 'REJECTD',
  unknown: 'UNKNOWN',
};

function bindStateOf(state: ModemState): BindState['state'] {
  switch (state) {
    case 'ready':
      return 'bound';
    case 'connecting':
      return 'connecting';
    case 'down':
      return 'down';
    case 'stopped':
      return 'stopped';
  }
}
