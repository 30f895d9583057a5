// Interceptors (`routes.mt[].interceptor`, `routes.mo[].interceptor`): an operator's
// JavaScript module sees each message its rule takes and may change `from`, `to`, `text`
// or `tags`, or refuse it with a code. Modules run in a small pool of worker threads
// (interceptor-worker.ts), so a slow or broken one cannot stall the gateway or read its
// memory; each call has a time budget, and what a failure does is the rule's `onError`.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { GatewayConfig, InterceptorConfig } from '../config/index.ts';
import { GatewayError } from './errors.ts';
import type { WorkerAnswer, WorkerRequest } from './interceptor-worker.ts';
import { checkedTags } from './tags.ts';

/** What a module is given: the message's fields, nothing of the gateway. */
export interface InterceptedMessage {
  direction: 'mt' | 'mo';
  accountId: string;
  to: string;
  from: string;
  /** Null for a binary message. */
  text: string | null;
  tags: string[];
}

/** What a module changed (only what it returned). */
export interface InterceptorChange {
  from?: string;
  to?: string;
  text?: string;
  tags?: string[];
}

export type InterceptorOutcome = 'unchanged' | 'changed' | 'refused' | 'timeout' | 'error';

/** A call's outcome, for metrics and the log: `rule` as `routes.mt[0]`; `reason` for timeout and error. */
export interface InterceptorReport {
  rule: string;
  module: string;
  outcome: InterceptorOutcome;
  reason?: string;
  messageId?: string;
}

/**
 * A message an interceptor refused (403 with the module's code; SMPP ESME_RSUBMITFAIL), or
 * one a failing interceptor with `onError: refuse` let through nothing of (503
 * `interceptor_failed`).
 */
export class InterceptorRefusal extends GatewayError {
  constructor(code: string, message: string, httpStatus: number) {
    super(code, message, undefined, httpStatus);
    this.name = 'InterceptorRefusal';
  }
}

export interface InterceptorsOptions {
  /** Worker threads; modules are loaded in each. */
  workers?: number;
  /** Every call's outcome. */
  onReport?: (report: InterceptorReport) => void;
  /** How long a worker whose call ran out of time has to answer a ping before it is replaced. */
  stuckAfterMs?: number;
}

interface Slot {
  worker: Worker;
  /** Calls sent to this worker and not answered. */
  pending: Set<number>;
  /** A ping is out: the worker must answer it or be replaced. */
  probe: NodeJS.Timeout | null;
}

interface Call {
  slot: Slot;
  settle: (answer: { ok: true; result: unknown } | { ok: false; error: string; timedOut?: boolean }) => void;
}

/** Each worker's heap (old generation), MB. */
const workerHeapMb = 128;
/** A refusal code: what a client may branch on. */
const refusalCode = /^[a-z][a-z0-9_]{0,63}$/;
const changeFields = new Set(['from', 'to', 'text', 'tags']);

/** The module's path as given (relative to the working directory, as other files of the config). */
export function interceptorUrl(module: string): string {
  return pathToFileURL(resolve(module)).href;
}

export class Interceptors {
  readonly #slots: Array<Slot | null>;
  readonly #calls = new Map<number, Call>();
  readonly #onReport: (report: InterceptorReport) => void;
  readonly #stuckAfterMs: number;
  #seq = 0;
  #turn = 0;
  #closed = false;

  constructor(options: InterceptorsOptions = {}) {
    this.#slots = Array.from({ length: Math.max(1, options.workers ?? 2) }, () => null);
    this.#onReport = options.onReport ?? (() => {});
    this.#stuckAfterMs = options.stuckAfterMs ?? 1000;
  }

  /**
   * Loads a module in every worker, so no message waits for its import; rejects with why it
   * cannot be loaded (no such file, a syntax error, no default export).
   */
  async load(module: string, timeoutMs = 10_000): Promise<void> {
    const url = interceptorUrl(module);
    const answers = await Promise.all(this.#slots.map((_, index) => this.#call(url, null, timeoutMs, index)));
    const failed = answers.find((a) => !a.ok);
    if (failed && !failed.ok) throw new Error(failed.error);
  }

  /**
   * Runs a rule's interceptor on a message: its change (null: none), or a refusal thrown.
   * A failure (an error, a timeout, an answer of the wrong shape) is reported, then lets
   * the message through unchanged or refuses it, as `onError` says.
   */
  async run(
    config: InterceptorConfig,
    rule: string,
    message: InterceptedMessage,
    messageId?: string,
  ): Promise<InterceptorChange | null> {
    const report = (outcome: InterceptorOutcome, reason?: string) =>
      this.#onReport({ rule, module: config.module, outcome, ...(reason ? { reason } : {}), messageId });
    const answer = await this.#call(interceptorUrl(config.module), message, config.timeoutMs);
    let failure: { outcome: 'timeout' | 'error'; reason: string };
    if (answer.ok) {
      const verdict = verdictOf(answer.result, message);
      if (typeof verdict === 'string') failure = { outcome: 'error', reason: verdict };
      else if (verdict === null) {
        report('unchanged');
        return null;
      } else if ('refuse' in verdict) {
        report('refused');
        throw new InterceptorRefusal(verdict.refuse, `refused by the interceptor of ${rule}`, 403);
      } else {
        report('changed');
        return verdict;
      }
    } else failure = { outcome: answer.timedOut ? 'timeout' : 'error', reason: answer.error };
    report(failure.outcome, failure.reason);
    if (config.onError === 'refuse')
      throw new InterceptorRefusal(
        'interceptor_failed',
        `the interceptor of ${rule} failed (${failure.outcome}); the message was not accepted`,
        503,
      );
    return null;
  }

  /** Stops the workers; calls still out settle as failed. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((slot, i) => (slot ? this.#replace(i, 'the gateway stopped') : null)));
  }

  #call(
    url: string,
    message: InterceptedMessage | null,
    timeoutMs: number,
    index = this.#nextIndex(),
  ): Promise<{ ok: true; result: unknown } | { ok: false; error: string; timedOut?: boolean }> {
    if (this.#closed) return Promise.resolve({ ok: false, error: 'interceptors are stopped' });
    const slot = this.#slots[index] ?? this.#spawn(index);
    const id = ++this.#seq;
    return new Promise((settle) => {
      const timer = setTimeout(() => {
        this.#end(id);
        settle({ ok: false, error: `no answer within ${timeoutMs} ms`, timedOut: true });
        this.#probe(index, slot);
      }, timeoutMs);
      this.#calls.set(id, {
        slot,
        settle: (answer) => {
          clearTimeout(timer);
          settle(answer);
        },
      });
      slot.pending.add(id);
      slot.worker.postMessage({ id, module: url, message } satisfies WorkerRequest);
    });
  }

  /** Workers in turn, passing over one suspected of being stuck (see #probe) while another is not. */
  #nextIndex(): number {
    const n = this.#slots.length;
    for (let i = 0; i < n; i++) {
      const index = (this.#turn + i) % n;
      if (!this.#slots[index]?.probe) {
        this.#turn = index + 1;
        return index;
      }
    }
    return this.#turn++ % n;
  }

  #spawn(index: number): Slot {
    // An empty environment: a module sees no secret given to the gateway as ${ENV_VAR}. A
    // heap of its own, so a module that runs out of memory ends its worker, not the gateway.
    const worker = new Worker(new URL('./interceptor-worker.ts', import.meta.url), {
      env: {},
      resourceLimits: { maxOldGenerationSizeMb: workerHeapMb },
    });
    worker.unref();
    const slot: Slot = { worker, pending: new Set(), probe: null };
    worker.on('message', (answer: WorkerAnswer) => {
      if ('pong' in answer) {
        if (slot.probe) clearTimeout(slot.probe);
        slot.probe = null;
        return;
      }
      const call = this.#end(answer.id);
      call?.settle(answer.ok ? { ok: true, result: answer.result } : { ok: false, error: answer.error });
    });
    // A module that crashes its worker (process.exit, an uncaught error in a timer).
    const lost = (why: string) => {
      if (this.#slots[index] === slot) void this.#replace(index, why);
    };
    worker.on('error', (err) => lost(`the interceptor worker failed: ${err.message}`));
    worker.on('exit', (code) => lost(`the interceptor worker exited (${code})`));
    this.#slots[index] = slot;
    return slot;
  }

  #end(id: number): Call | undefined {
    const call = this.#calls.get(id);
    if (!call) return undefined;
    this.#calls.delete(id);
    call.slot.pending.delete(id);
    return call;
  }

  /**
   * A call ran out of time: the module may be slow (an await), or busy in a loop that holds
   * its worker. A worker that does not answer a ping in time is replaced.
   */
  #probe(index: number, slot: Slot): void {
    if (slot.probe || this.#slots[index] !== slot) return;
    slot.probe = setTimeout(() => {
      if (this.#slots[index] === slot) void this.#replace(index, 'the interceptor worker stopped answering');
    }, this.#stuckAfterMs);
    slot.probe.unref();
    slot.worker.postMessage({ ping: this.#seq } satisfies WorkerRequest);
  }

  /** Ends a worker; its calls fail, and the next call starts a new one. */
  async #replace(index: number, why: string): Promise<void> {
    const slot = this.#slots[index];
    if (!slot) return;
    this.#slots[index] = null;
    if (slot.probe) clearTimeout(slot.probe);
    for (const id of [...slot.pending]) this.#end(id)?.settle({ ok: false, error: why });
    await slot.worker.terminate();
  }
}

/** Each interceptor of the rules that does not load, and why (start-up and `config check`). */
export async function interceptorLoadProblems(
  routes: GatewayConfig['routes'],
  interceptors: Interceptors,
): Promise<Array<{ path: string; message: string }>> {
  const modules = (['mt', 'mo'] as const).flatMap((kind) =>
    routes[kind].flatMap((r, i) =>
      r.interceptor
        ? [{ path: `routes.${kind}[${i}].interceptor.module`, module: r.interceptor.module }]
        : [],
    ),
  );
  const problems = await Promise.all(
    modules.map(({ path, module }) =>
      interceptors.load(module).then(
        () => null,
        (err: Error) => ({ path, message: `cannot load ${module}: ${err.message}` }),
      ),
    ),
  );
  return problems.filter((p) => p !== null);
}

/**
 * A module's answer: null (no change), a refusal, a change; or a string saying what is
 * wrong with it. `text` cannot be given to a binary message (it has none).
 */
function verdictOf(
  result: unknown,
  message: InterceptedMessage,
): InterceptorChange | { refuse: string } | null | string {
  if (result === null || result === undefined) return null;
  if (typeof result !== 'object' || Array.isArray(result))
    return 'the interceptor returned neither an object nor undefined';
  const answer = result as Record<string, unknown>;
  if ('refuse' in answer) {
    return typeof answer.refuse === 'string' && refusalCode.test(answer.refuse)
      ? { refuse: answer.refuse }
      : 'refuse must be a code of lower-case letters, digits and _ (at most 64)';
  }
  const change: InterceptorChange = {};
  for (const [key, value] of Object.entries(answer)) {
    if (!changeFields.has(key)) return `the interceptor returned an unknown field '${key}'`;
    if (value === undefined) continue;
    if (key === 'tags') {
      try {
        change.tags = checkedTags(value);
      } catch (err) {
        return (err as Error).message;
      }
    } else if (typeof value !== 'string') return `${key} must be a string`;
    else if (key === 'text' && message.text === null) return 'a binary message has no text to change';
    else change[key as 'from' | 'to' | 'text'] = value;
  }
  return Object.keys(change).length > 0 ? change : null;
}
