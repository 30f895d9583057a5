// preset: twilio — the Messages API (form POST to
// {url}/2010-04-01/Accounts/{accountSid}/Messages.json, Basic auth accountSid:authToken),
// delivery through StatusCallback and inbound through the number's messaging webhook, both
// authenticated by X-Twilio-Signature. Twilio splits long text itself.
import { timingSafeEqual } from 'node:crypto';
import { twilioSignature } from '../../webhooks/index.ts';
import type { ReceiptStatus } from '../types.ts';
import {
  basicAuth,
  formFields,
  header,
  type Provider,
  type PushedReceipt,
  parseJson,
  refused,
  textAt,
} from './provider.ts';

export interface TwilioSettings {
  /** The API origin (default https://api.twilio.com). */
  url?: string;
  accountSid: string;
  authToken: string;
}

const statusOf = new Map<string, ReceiptStatus>(
  Object.entries({
    delivered: 'delivered',
    undelivered: 'undelivered',
    failed: 'failed',
    canceled: 'failed',
    sent: 'accepted',
  }),
);

export function twilioProvider(s: TwilioSettings): Provider {
  const origin = (s.url ?? 'https://api.twilio.com').replace(/\/+$/, '');
  const endpoint = `${origin}/2010-04-01/Accounts/${encodeURIComponent(s.accountSid)}/Messages.json`;
  const authorization = basicAuth(s.accountSid, s.authToken);
  return {
    request(sms, urls) {
      if (sms.text === null || sms.udh !== null) throw new Error('Twilio takes text messages only');
      const form = new URLSearchParams({ To: sms.to, From: sms.from, Body: sms.text });
      if (sms.receipt) form.set('StatusCallback', urls.receiptUrl);
      return {
        method: 'POST',
        url: endpoint,
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      };
    },
    answer(status, body) {
      const json = parseJson(body);
      const sid = textAt(json, 'sid');
      if (status >= 200 && status < 300 && sid) return { ok: true, ids: [sid] };
      const code = textAt(json, 'code');
      return refused(status, textAt(json, 'message') ?? body, code ? `twilio_${code}` : undefined);
    },
    verify(push) {
      const given = header(push, 'x-twilio-signature');
      if (!given) return false;
      // Twilio signs a POST's form fields; a GET's parameters are in the URL it signs.
      const params = push.method === 'POST' ? formFields(push.rawBody) : {};
      const expected = Buffer.from(twilioSignature(s.authToken, push.url, params));
      const actual = Buffer.from(given);
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    },
    receipts(push) {
      const sid = textAt(push.fields, 'MessageSid') ?? textAt(push.fields, 'SmsSid');
      const stat = textAt(push.fields, 'MessageStatus') ?? textAt(push.fields, 'SmsStatus');
      if (!sid || !stat) return [];
      const receipt: PushedReceipt = {
        smscId: sid,
        status: statusOf.get(stat) ?? 'unknown',
        stat,
        err: textAt(push.fields, 'ErrorCode') ?? '',
      };
      return [receipt];
    },
    inbound(push) {
      const from = textAt(push.fields, 'From');
      const to = textAt(push.fields, 'To');
      const text = textAt(push.fields, 'Body');
      return from && to && text !== undefined ? { from, to, text } : null;
    },
    pushAnswer: {
      contentType: 'text/xml',
      body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
    },
  };
}
