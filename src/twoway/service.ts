// The two-way layer over the gateway's inbound stream: opt-out words (STOP/START/HELP)
// feed the suppression list and are confirmed; MO rules forward to URLs and send
// auto-replies or the URL's answer back; conversations thread it all. Replies leave from
// the number the message came to, over the connector it came from.
import type { GatewayConfig, MoRouteConfig } from '../config/index.ts';
import type { Gateway, Message, SubmitRequest } from '../core/index.ts';
import { fillTemplate, firstWord, GatewayError, systemAccountId } from '../core/index.ts';
import type { WebhookSender } from '../webhooks/index.ts';
import { Conversations } from './conversations.ts';
import { type ForwardOptions, forwardInbound } from './forward.ts';
import { defaultOptOutReplies, type OptOutAction, OptOutWords } from './optout.ts';

export interface TwoWayOptions {
  gateway: Gateway;
  config: Pick<GatewayConfig, 'optOut'>;
  webhooks: WebhookSender;
  /** The account's webhook signing secret, for rules that forward in the JSON format. */
  webhookSecret(accountId: string): string | null;
  forward?: ForwardOptions;
  /** Something went wrong that no caller waits for (a URL down, a reply refused). */
  onError?(error: Error, message: Message): void;
}

export class TwoWay {
  readonly conversations: Conversations;
  readonly #o: TwoWayOptions;
  readonly #words: OptOutWords;

  constructor(options: TwoWayOptions) {
    this.#o = options;
    this.#words = new OptOutWords(options.config.optOut);
    this.conversations = new Conversations(options.gateway.store);
    options.gateway.on('inbound', (m, route) => {
      this.#onInbound(m, route).catch((err: Error) => this.#o.onError?.(err, m));
    });
    options.gateway.on('status', (m) => {
      // Checked here, not in the async method: no promise for each of a message's statuses.
      const code = this.#suppressingCode(m);
      if (code === undefined) return;
      this.#suppressOnReceipt(m, code).catch((err: Error) => this.#o.onError?.(err, m));
    });
  }

  /** Sends a text back to the sender of an inbound message: from its `to`, over its connector. */
  reply(
    inbound: Pick<Message, 'accountId' | 'from' | 'to' | 'connectorId'> & { id?: string },
    text: string,
    exempt = false,
  ) {
    const request: SubmitRequest = {
      to: inbound.from,
      from: inbound.to,
      text,
      priority: 'transactional',
      meta: {
        ...(inbound.connectorId ? { via: inbound.connectorId } : {}),
        ...(inbound.id ? { inReplyTo: inbound.id } : {}),
      },
    };
    return this.#o.gateway.submit(inbound.accountId, request, { optOutExempt: exempt, replying: true });
  }

  async #onInbound(m: Message, route: MoRouteConfig | null): Promise<void> {
    if (!route) return;
    // A rule without an account (Kannel's sms-service) has no suppression list or
    // conversations to keep: its messages belong to the system owner.
    const ofAccount = m.accountId !== systemAccountId;
    const optOut = this.#o.config.optOut;
    const action = ofAccount && optOut.enabled ? this.#words.classify(m.text) : null;
    if (ofAccount) await this.conversations.touch(m.accountId, m.to, m.from, m.createdAt, m.connectorId);
    if (action) await this.#optOut(m, action);

    // Each target runs even when another failed; a failure is kept on the inbound message.
    if (route.url) {
      const target = route.url;
      await this.#traced(m, 'url', async () => {
        if (target.format === 'json') {
          await this.#o.webhooks.enqueue(m.accountId, target.url, this.#o.webhookSecret(m.accountId), {
            type: 'message.inbound',
            data: inboundView(m),
          });
          return;
        }
        const body = await forwardInbound(target, m, this.#o.forward);
        // An opt-out word was answered already: the service's answer would be a second reply.
        if (target.replyWithBody && body && !action) await this.#replyTraced(m, body);
      });
    }
    if (route.reply && !action) {
      const words = (m.text ?? '').trim().split(/\s+/);
      const text = fillTemplate(route.reply, {
        from: m.from,
        to: m.to,
        text: m.text ?? '',
        keyword: firstWord(m.text),
        args: words.slice(1).join(' '),
      });
      await this.#traced(m, 'reply', () => this.#replyTraced(m, text));
    }
  }

  /** A rule's reply, noted on the inbound message (`replied`, with the reply's id). */
  async #replyTraced(m: Message, text: string): Promise<void> {
    const sent = await this.reply(m, text);
    // The reply is on its way whatever happens to this note: a failure here is no rule failure.
    await this.#o.gateway.store
      .updateMessage(m.id, {}, { at: sent.createdAt, type: 'replied', detail: { messageId: sent.id } })
      .catch((err: Error) => this.#o.onError?.(err, m));
  }

  /** Runs one target of a rule; its failure is told (onError) and kept as a `rule_failed` event. */
  async #traced(m: Message, target: 'url' | 'reply', run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (err) {
      this.#o.onError?.(err as Error, m);
      const error =
        err instanceof GatewayError
          ? { code: err.code, message: err.message }
          : { message: err instanceof Error ? err.message : String(err) };
      await this.#o.gateway.store
        .updateMessage(m.id, {}, { at: Date.now(), type: 'rule_failed', detail: { target, ...error } })
        .catch(() => {});
    }
  }

  async #optOut(m: Message, action: OptOutAction): Promise<void> {
    const { scope, replies } = this.#o.config.optOut;
    const suppressions = this.#o.gateway.suppressions;
    const from = scope === 'sender' ? m.to : null;
    if (action === 'stop') {
      await suppressions.add(m.accountId, { to: m.from, from, source: 'keyword', reason: firstWord(m.text) });
    } else if (action === 'start') {
      if (scope === 'sender') await suppressions.remove(m.accountId, m.from, m.to);
      else await suppressions.removeAll(m.accountId, m.from);
    }
    const template = replies[action] === undefined ? defaultOptOutReplies[action] : replies[action];
    if (template) {
      // The STOP confirmation goes to a number now suppressed: it is the one message allowed.
      await this.reply(m, fillTemplate(template, { from: m.from, to: m.to }), action === 'stop');
    }
  }

  /** Hard-failure receipts with a configured error code (optOut.receiptErrors) suppress the number. */
  #suppressingCode(m: Message): string | undefined {
    if (m.direction !== 'mt' || (m.status !== 'undelivered' && m.status !== 'rejected') || !m.error)
      return undefined;
    return this.#o.config.optOut.receiptErrors.includes(m.error.code) ? m.error.code : undefined;
  }

  async #suppressOnReceipt(m: Message, code: string): Promise<void> {
    await this.#o.gateway.suppressions.add(m.accountId, {
      to: m.to,
      from: null,
      source: 'receipt',
      reason: `${m.status} ${code}`,
    });
  }
}

/** The `message.inbound` webhook's data (CONTRACT §4). */
export function inboundView(m: Message) {
  return {
    id: m.id,
    from: m.from,
    to: m.to,
    text: m.text,
    encoding: m.encoding,
    segments: m.segments,
    connector: m.connectorId,
    receivedAt: new Date(m.createdAt).toISOString(),
  };
}
