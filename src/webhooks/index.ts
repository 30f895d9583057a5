export { type WebhookEvent, WebhookSender, type WebhookSenderOptions } from './sender.ts';
export { signWebhook, verifyWebhook } from './sign.ts';
