// The applications built on the gateway: one-time passwords, emergency alerts with contacts
// and groups, appointment reminders. Each is a service over the message pipeline and the
// records store, with its HTTP routes as an `account` plugin.
import type { HttpPlugin } from '../api/index.ts';
import type { AccountConfig } from '../config/index.ts';
import type { Message } from '../core/index.ts';
import type { AppContext } from './shared.ts';
import { VerifyService, type VerifySettings, verifyDefaults, verifyRoutes } from './verify.ts';

export type { AppContext } from './shared.ts';
export {
  RetryLater,
  VerifyService,
  type VerifySettings,
  type VerifyStatus,
  verificationView,
  verifyDefaults,
} from './verify.ts';

export interface Apps {
  verify: VerifyService;
  /** Account routes of every application. */
  plugins: HttpPlugin[];
  /** Every status change of a message; runs before webhooks are told. */
  onStatus(message: Message): void;
}

export function buildApps(ctx: AppContext, accounts: readonly AccountConfig[]): Apps {
  const verifySettings = new Map<string, VerifySettings>(
    accounts.map((a) => [
      a.id,
      {
        ...verifyDefaults,
        ...a.verify,
        // An account's own template is not overridden by the built-in translations.
        templates: { ...(a.verify?.template ? {} : verifyDefaults.templates), ...a.verify?.templates },
      },
    ]),
  );
  const verify = new VerifyService(ctx, (id) => verifySettings.get(id) ?? verifyDefaults);
  return {
    verify,
    plugins: [verifyRoutes(verify)],
    onStatus(message) {
      verify.redact(message);
    },
  };
}
