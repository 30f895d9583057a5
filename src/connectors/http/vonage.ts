// preset: vonage — Vonage's (Nexmo's) SMS API: a form POST to {url}/sms/json with api_key
// and api_secret. Vonage splits long text itself and answers with one message id per part,
// each of which gets its own delivery receipt (pushed to the `callback` it is handed);
// inbound messages come to the number's inbound webhook (msisdn, to, text).
import type { ReceiptStatus } from '../types.ts';
import { type Provider, type ProviderAnswer, parseJson, refused, textAt, valueAt } from './provider.ts';

export interface VonageSettings {
  /** The API origin (default https://rest.nexmo.com). */
  url?: string;
  apiKey: string;
  apiSecret: string;
}

const statusOf = new Map<string, ReceiptStatus>(
  Object.entries({
    delivered: 'delivered',
    expired: 'expired',
    failed: 'failed',
    rejected: 'rejected',
    accepted: 'accepted',
    buffered: 'accepted',
  }),
);

/** Vonage's per-message status codes worth trying again: throttled, internal error, too many binds. */
const temporaryCodes = new Set(['1', '5', '9']);

export function vonageProvider(s: VonageSettings): Provider {
  const endpoint = `${(s.url ?? 'https://rest.nexmo.com').replace(/\/+$/, '')}/sms/json`;
  return {
    request(sms, urls) {
      const form = new URLSearchParams({
        api_key: s.apiKey,
        api_secret: s.apiSecret,
        from: sms.from.replace(/^\+/, ''),
        to: sms.to.replace(/^\+/, ''),
        'client-ref': sms.id,
      });
      if (sms.binary !== null || sms.udh !== null) {
        form.set('type', 'binary');
        form.set('body', (sms.binary ?? Buffer.from(sms.text ?? '', 'utf8')).toString('hex'));
        form.set('udh', sms.udh?.toString('hex') ?? '');
      } else {
        form.set('type', sms.encoding === 'ucs2' ? 'unicode' : 'text');
        form.set('text', sms.text ?? '');
      }
      if (sms.receipt) {
        form.set('status-report-req', '1');
        form.set('callback', urls.receiptUrl);
      }
      return {
        method: 'POST',
        url: endpoint,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      };
    },
    answer(status, body): ProviderAnswer {
      const messages = valueAt(parseJson(body), 'messages');
      if (status < 200 || status >= 300 || !Array.isArray(messages) || messages.length === 0)
        return refused(status, body);
      const ids: string[] = [];
      for (const m of messages) {
        const code = textAt(m, 'status');
        const id = textAt(m, 'message-id');
        if (code !== '0' || !id) {
          const message = `Vonage status ${code}: ${textAt(m, 'error-text') ?? 'refused'}`;
          return { ok: false, temporary: temporaryCodes.has(code ?? ''), code: `vonage_${code}`, message };
        }
        ids.push(id);
      }
      return { ok: true, ids };
    },
    receipts(push) {
      const id = textAt(push.fields, 'messageId');
      const stat = textAt(push.fields, 'status');
      if (!id || !stat) return [];
      return [
        {
          smscId: id,
          status: statusOf.get(stat) ?? 'unknown',
          stat,
          err: textAt(push.fields, 'err-code') ?? '',
        },
      ];
    },
    inbound(push) {
      const from = textAt(push.fields, 'msisdn');
      const to = textAt(push.fields, 'to');
      const text = textAt(push.fields, 'text');
      return from && to && text !== undefined ? { from, to, text } : null;
    },
  };
}
