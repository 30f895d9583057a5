// The applications built on the gateway: one-time passwords, emergency alerts with contacts
// and groups, appointment reminders. Each is a service over the message pipeline and the
// records store, with its HTTP routes as an `account` plugin.
import type { HttpPlugin } from '../api/index.ts';
import type { AccountConfig } from '../config/index.ts';
import type { Message } from '../core/index.ts';
import { AlertsService, alertRoutes } from './alerts.ts';
import { ContactsService, contactRoutes } from './contacts.ts';
import { RemindersService, reminderRoutes } from './reminders.ts';
import type { AppContext } from './shared.ts';
import { VerifyService, type VerifySettings, verifyDefaults, verifyRoutes } from './verify.ts';

export { type Alert, AlertsService, alertView } from './alerts.ts';
export { type Contact, ContactsService, type Group } from './contacts.ts';
export { type Reminder, RemindersService, reminderView } from './reminders.ts';
export type { AppContext } from './shared.ts';
export {
  RetryLater,
  type Verification,
  VerifyService,
  type VerifySettings,
  type VerifyStatus,
  verificationView,
  verifyDefaults,
  verifyKind,
} from './verify.ts';

export interface Apps {
  verify: VerifyService;
  reminders: RemindersService;
  contacts: ContactsService;
  alerts: AlertsService;
  /** Account routes of every application. */
  plugins: HttpPlugin[];
  /** A status change as it is written; runs before webhooks are told (codes are masked). */
  onStatusWrite(message: Message): void;
  /** A status change once it is durable. */
  onStatus(message: Message): void;
  /**
   * An inbound message stored for an account: true when an application took it as its own
   * (a reminder's reply). The hook for the inbound pipeline.
   */
  onInbound(message: Message): Promise<boolean>;
  start(): void;
  stop(): void;
  /** Replaces the accounts' verification settings (accounts changed at run time). */
  setAccounts(accounts: readonly AccountConfig[]): void;
}

export function buildApps(ctx: AppContext, accounts: readonly AccountConfig[]): Apps {
  const settingsOf = (list: readonly AccountConfig[]) =>
    new Map<string, VerifySettings>(
      list.map((a) => [
        a.id,
        {
          ...verifyDefaults,
          ...a.verify,
          // An account's own template is not overridden by the built-in translations.
          templates: { ...(a.verify?.template ? {} : verifyDefaults.templates), ...a.verify?.templates },
        },
      ]),
    );
  let verifySettings = settingsOf(accounts);
  const verify = new VerifyService(ctx, (id) => verifySettings.get(id) ?? verifyDefaults);
  const reminders = new RemindersService(ctx);
  const contacts = new ContactsService(ctx);
  const alerts = new AlertsService(ctx, contacts);
  return {
    verify,
    reminders,
    contacts,
    alerts,
    plugins: [verifyRoutes(verify), reminderRoutes(reminders), contactRoutes(contacts), alertRoutes(alerts)],
    onStatusWrite: (message) => verify.redact(message),
    onStatus(message) {
      reminders.onStatus(message);
      alerts.onStatus(message);
    },
    onInbound: (message) => reminders.matchReply(message),
    start() {
      reminders.start();
    },
    stop() {
      reminders.stop();
    },
    setAccounts(list) {
      verifySettings = settingsOf(list);
    },
  };
}
