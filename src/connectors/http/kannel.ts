// preset: kannel — Kannel's sendsms (GET {url}?username=&password=&to=&text=...), which
// splits long text itself; delivery reports through the `dlr-url` it is handed (with
// Kannel's %d type and %A reply escapes), inbound through a sms-service's get-url.
// Kannel answers sendsms with no message id of its own, so the gateway's id stands in.
import { parseReceipt } from '../../smpp/index.ts';
import type { ReceiptStatus } from '../types.ts';
import { type Provider, refused, textAt } from './provider.ts';

export interface KannelSettings {
  /** Kannel's /cgi-bin/sendsms. */
  url: string;
  username: string;
  password: string;
}

/** Kannel's DLR types (%d) this gateway asks for: delivered, failed, rejected by the SMSC. */
const dlrTypes = new Map<string, ReceiptStatus>(
  Object.entries({ '1': 'delivered', '2': 'undelivered', '16': 'rejected' }),
);
const dlrMask = 1 + 2 + 16;

export function kannelProvider(s: KannelSettings): Provider {
  return {
    request(sms, urls) {
      const query = new URLSearchParams({ username: s.username, password: s.password, to: sms.to });
      // None: Kannel's global-sender.
      if (sms.from) query.set('from', sms.from);
      let text: string;
      if (sms.binary !== null) {
        query.set('coding', '1');
        text = percentEncoded(sms.binary);
      } else {
        query.set('charset', 'UTF-8');
        query.set('coding', sms.encoding === 'ucs2' ? '2' : '0');
        text = encodeURIComponent(sms.text ?? '');
      }
      if (sms.receipt) {
        query.set('dlr-mask', String(dlrMask));
        query.set('dlr-url', `${urls.receiptUrl}&id=${encodeURIComponent(sms.id)}&type=%d&reply=%A`);
      }
      const udh = sms.udh === null ? '' : `&udh=${percentEncoded(sms.udh)}`;
      const search = `${query.toString()}&text=${text}${udh}`;
      return { method: 'GET', url: `${s.url}?${search}`, headers: {}, body: null };
    },
    answer(status, body) {
      if (status >= 200 && status < 300) return { ok: true, ids: [] };
      return refused(status, body.trim());
    },
    receipts(push) {
      const id = textAt(push.fields, 'id');
      const type = textAt(push.fields, 'type');
      if (!id || !type) return [];
      const reply = parseReceipt(textAt(push.fields, 'reply') ?? '');
      return [
        {
          smscId: id,
          status: dlrTypes.get(type) ?? 'accepted',
          stat: reply?.rawStat ?? `dlr ${type}`,
          err: reply?.err ?? '',
        },
      ];
    },
    inbound(push) {
      const from = textAt(push.fields, 'from');
      const to = textAt(push.fields, 'to');
      const text = textAt(push.fields, 'text');
      return from && to && text !== undefined ? { from, to, text } : null;
    },
  };
}

function percentEncoded(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) out += `%${b.toString(16).padStart(2, '0').toUpperCase()}`;
  return out;
}
