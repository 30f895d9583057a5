// What every compat API is built from: the pipeline, the accounts, the shared per-account
// rate limit and the durable webhook queue its callbacks go through.

import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { VerifyService } from '../apps/index.ts';
import type { Billing } from '../billing/index.ts';
import type { Account, AccountLimits, AccountRegistry, AuthGuard, Gateway } from '../core/index.ts';
import type { OutboundPolicy, WebhookSender } from '../webhooks/index.ts';

export interface CompatContext {
  gateway: Gateway;
  accounts: AccountRegistry;
  limits: AccountLimits;
  webhooks: WebhookSender;
  /** The gateway's Verify service, which Twilio Verify v2 fronts. */
  verify: VerifyService;
  /**
   * Each account's Twilio auth token in clear (its first configured API key), held in
   * memory only: Twilio signatures need it, and the store keeps only hashes.
   */
  authTokens: Map<string, string>;
  /** What a client's StatusCallback or dlr-url may reach. */
  callbacks: OutboundPolicy;
  /** Failed logins, counted per address and account with the other front doors. */
  authGuard: AuthGuard;
  /** Balances and prices (Jasmin /balance and /rate, Twilio Balance.json); API-key address lists. */
  billing?: Billing;
}

/**
 * The longest callback URL (StatusCallback, dlr-url) or other client text kept with each
 * message (Kannel's account and binfo), as REST's callbackUrl: a message held in memory
 * (queued, in flight, its callbacks in hand) holds them, so a request's whole body in one
 * would make each such message a megabyte.
 */
export const maxKeptChars = 2048;

/**
 * A compat API's login through the shared guard: a locked-out address or account gets
 * `locked` (with Retry-After) before its key is looked at; a wrong key waits the guard's
 * delay, then gets `refused`. `named`: the account the request names (its failures count
 * against it too).
 */
export async function guardedLogin(
  ctx: CompatContext,
  req: FastifyRequest,
  reply: FastifyReply,
  named: string,
  find: () => Account | undefined,
  errors: { locked: () => Error; refused: () => Error },
  /** The API key given, for its own address list. */
  key?: string,
): Promise<Account> {
  const wait = ctx.authGuard.lockedFor(req.ip, named);
  if (wait > 0) {
    reply.header('retry-after', String(Math.max(1, Math.ceil(wait / 1000))));
    throw errors.locked();
  }
  const account = find();
  if (!account) {
    await sleep(ctx.authGuard.failed(req.ip, named));
    throw errors.refused();
  }
  ctx.authGuard.succeeded(req.ip, named);
  // An API key used from outside its account's `policy.allowIps` is no key here.
  if (ctx.billing && !ctx.billing.allowsAddress(account.id, 'api', req.ip, key)) throw errors.refused();
  return account;
}
