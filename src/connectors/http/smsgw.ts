// preset: smsgw — another smsgw's REST API (POST {url}/v1/messages, Bearer API key), whose
// `message.status` webhooks (the callbackUrl it is handed) are the receipts and whose
// account webhook's `message.inbound` events are the inbound messages. It splits long
// text itself.
import type { ReceiptStatus } from '../types.ts';
import { type Provider, parseJson, refused, textAt } from './provider.ts';

export interface SmsgwSettings {
  /** The other gateway's origin. */
  url: string;
  apiKey: string;
}

const statusOf = new Map<string, ReceiptStatus>(
  Object.entries({
    delivered: 'delivered',
    undelivered: 'undelivered',
    expired: 'expired',
    rejected: 'rejected',
    failed: 'failed',
    canceled: 'failed',
    submitted: 'accepted',
  }),
);

export function smsgwProvider(s: SmsgwSettings): Provider {
  const endpoint = `${s.url.replace(/\/+$/, '')}/v1/messages`;
  const authorization = `Bearer ${s.apiKey}`;
  return {
    request(sms, urls) {
      if (sms.udh !== null) throw new Error('smsgw takes no user data header through its REST API');
      const body: Record<string, string> = { to: sms.to, from: sms.from };
      if (sms.binary !== null) {
        body.binaryHex = sms.binary.toString('hex');
        body.encoding = 'binary';
      } else {
        body.text = sms.text ?? '';
        if (sms.encoding === 'ucs2' || sms.encoding === 'latin1') body.encoding = sms.encoding;
      }
      if (sms.receipt) body.callbackUrl = urls.receiptUrl;
      return {
        method: 'POST',
        url: endpoint,
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      };
    },
    answer(status, body) {
      const json = parseJson(body);
      const id = textAt(json, 'id');
      if (status >= 200 && status < 300 && id) return { ok: true, ids: [id] };
      return refused(status, textAt(json, 'error.message') ?? body, textAt(json, 'error.code'));
    },
    receipts(push) {
      if (textAt(push.fields, 'type') !== 'message.status') return [];
      const id = textAt(push.fields, 'data.id');
      const stat = textAt(push.fields, 'data.status');
      const status = stat === undefined ? undefined : statusOf.get(stat);
      if (!id || !stat || !status) return [];
      return [{ smscId: id, status, stat, err: textAt(push.fields, 'data.error.code') ?? '' }];
    },
    inbound(push) {
      if (textAt(push.fields, 'type') !== 'message.inbound') return null;
      const from = textAt(push.fields, 'data.from');
      const to = textAt(push.fields, 'data.to');
      const text = textAt(push.fields, 'data.text');
      return from && to && text !== undefined ? { from, to, text } : null;
    },
  };
}
