// What every compat API is built from: the pipeline, the accounts, the shared per-account
// rate limit and the durable webhook queue its callbacks go through.
import type { VerifyService } from '../apps/index.ts';
import type { AccountLimits, AccountRegistry, Gateway } from '../core/index.ts';
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
}
