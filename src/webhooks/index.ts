export { OutboundPolicy } from './outbound-policy.ts';
export {
  type CircuitState,
  type ReplyHandler,
  type WebhookEvent,
  type WebhookRequest,
  WebhookSender,
  type WebhookSenderOptions,
  webhookConcurrencyDefaults,
} from './sender.ts';
export { signWebhook, twilioSignature, verifyWebhook } from './sign.ts';
