// Drop-in compatibility APIs (CONTRACT §6): Twilio Messaging, Kannel sendsms and Jasmin's
// HTTP API as public HTTP plugins (each authenticates its own way), and their callbacks
// (DLR URLs, status callbacks, inbound webhooks) fed from the gateway's events through the
// durable webhook queue.
import type { HttpPlugin } from '../api/index.ts';
import type { CompatContext } from './context.ts';
import { jasminApi, jasminDlr } from './jasmin.ts';
import { kannelApi, kannelDlr } from './kannel.ts';
import { sendTwimlReplies, twilioApi, twilioInbound, twilioStatusCallback, twimlReply } from './twilio.ts';
import { twilioLookupApi } from './twilio-lookup.ts';
import { twilioVerifyApi } from './twilio-verify.ts';

export { twilioSignature } from '../webhooks/index.ts';
export type { CompatContext } from './context.ts';
export { idOfSid, sidOf } from './twilio.ts';

/** Starts the callbacks and returns the plugins to register as `public`. */
export function compatApis(ctx: CompatContext): HttpPlugin[] {
  ctx.webhooks.onReply(twimlReply, (delivery, answer) => sendTwimlReplies(ctx, delivery, answer));
  ctx.gateway.on('status', (m) => {
    if (!m.meta || m.direction !== 'mt') return;
    // A snapshot: the pipeline's object moves on while a callback reads the events. Enqueued
    // in the tick of the status write where no read is needed (one store transaction).
    const now = { ...m };
    if (now.meta!.kannel) kannelDlr(ctx, now).catch(() => {});
    if (now.meta!.jasmin) jasminDlr(ctx, now).catch(() => {});
    if (now.meta!.twilio) twilioStatusCallback(ctx, now).catch(() => {});
  });
  ctx.gateway.on('inbound', (m) => {
    twilioInbound(ctx, m).catch(() => {});
  });
  return [
    kannelApi(ctx),
    jasminApi(ctx),
    twilioApi(ctx),
    twilioVerifyApi(ctx, ctx.verify),
    twilioLookupApi(ctx),
  ];
}
