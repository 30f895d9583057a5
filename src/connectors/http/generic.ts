// The generic provider, configured as data: method, URL, headers, auth (basic, bearer or an
// HMAC of the body), a body of templates (JSON or form; a GET's in the query), what answer
// counts as accepted and where it holds the provider's id or an error, and where the
// receipts and inbound messages it pushes hold their fields.
import { createHmac } from 'node:crypto';
import type { HttpConnectorConfig } from '../../config/index.ts';
import {
  basicAuth,
  fillTemplate,
  type Provider,
  parseJson,
  refused,
  templateValues,
  textAt,
  valueAt,
} from './provider.ts';

export function genericProvider(c: HttpConnectorConfig): Provider {
  const url = c.url!;
  const fieldTemplates = Object.entries(c.body ?? {});
  const accepted = c.accepted;
  return {
    request(sms, urls) {
      if (sms.text === null || sms.udh !== null)
        throw new Error('the generic HTTP provider takes text messages only');
      const values = templateValues(sms, urls);
      const fields = fieldTemplates.map(([name, template]): [string, string] => [
        name,
        fillTemplate(template, values),
      ]);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(c.headers ?? {}))
        headers[name.toLowerCase()] = fillTemplate(value, values);
      let target = url;
      let body: string | null = null;
      if (c.method === 'GET') {
        const query = new URLSearchParams(fields).toString();
        target = `${url}${url.includes('?') ? '&' : '?'}${query}`;
      } else if (c.format === 'form') {
        body = new URLSearchParams(fields).toString();
        headers['content-type'] = 'application/x-www-form-urlencoded';
      } else {
        body = JSON.stringify(nested(fields));
        headers['content-type'] = 'application/json';
      }
      const auth = c.auth;
      if (auth?.type === 'basic') headers.authorization = basicAuth(auth.username ?? '', auth.password ?? '');
      else if (auth?.type === 'bearer') headers.authorization = `Bearer ${auth.token ?? ''}`;
      else if (auth?.type === 'hmac') {
        // Signs what the provider receives: the body, or for a GET the query.
        const signed = body ?? new URL(target).search.slice(1);
        headers[(auth.header ?? 'X-Signature').toLowerCase()] = createHmac('sha256', auth.secret ?? '')
          .update(signed)
          .digest('hex');
      }
      return { method: c.method, url: target, headers, body };
    },
    answer(status, body) {
      const json = parseJson(body);
      const ok = accepted.status ? accepted.status.includes(status) : status >= 200 && status < 300;
      const error = accepted.errorPath ? valueAt(json, accepted.errorPath) : undefined;
      const failed = error !== undefined && error !== null && error !== '' && error !== false;
      if (ok && !failed) {
        const id = accepted.idPath ? textAt(json, accepted.idPath) : undefined;
        return { ok: true, ids: id ? [id] : [] };
      }
      const reason = typeof error === 'string' ? error : error !== undefined ? JSON.stringify(error) : body;
      return refused(status, reason);
    },
    receipts(push) {
      const map = c.receipts;
      if (!map) return [];
      // One receipt per push, or a list of them (`listPath`), each read from its own fields.
      const list = map.listPath ? valueAt(push.fields, map.listPath) : [push.fields];
      if (!Array.isArray(list)) return [];
      return list.flatMap((fields) => {
        const id = textAt(fields, map.idPath);
        const stat = textAt(fields, map.statusPath);
        if (!id || !stat) return [];
        const status = map.statuses?.[stat] ?? map.statuses?.[stat.toLowerCase()] ?? wordStatus(stat);
        return [
          { smscId: id, status, stat, err: map.errorPath ? (textAt(fields, map.errorPath) ?? '') : '' },
        ];
      });
    },
    inbound(push) {
      const map = c.inbound;
      if (!map) return null;
      const from = textAt(push.fields, map.fromPath);
      const to = textAt(push.fields, map.toPath);
      const text = textAt(push.fields, map.textPath);
      return from && to && text !== undefined ? { from, to, text } : null;
    },
  };
}

/**
 * A JSON body from dotted field names: `messages.0.to` is `{messages: [{to}]}` (a number
 * names an array's item), so nested bodies (Infobip's, say) are written as data too.
 */
export function nested(fields: Array<[string, string]>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [name, value] of fields) {
    const keys = name.split('.');
    let at: Record<string, unknown> = root;
    keys.forEach((key, i) => {
      if (i === keys.length - 1) {
        at[key] = value;
        return;
      }
      at[key] ??= /^\d+$/.test(keys[i + 1]!) ? [] : {};
      at = at[key] as Record<string, unknown>;
    });
  }
  return root;
}

/** A status word no `statuses` entry maps, read by its usual meaning. */
function wordStatus(stat: string) {
  const s = stat.toLowerCase();
  if (s.startsWith('deliv')) return 'delivered' as const;
  if (s.startsWith('undeliv')) return 'undelivered' as const;
  if (s.startsWith('expir')) return 'expired' as const;
  if (s.startsWith('reject')) return 'rejected' as const;
  if (s.startsWith('fail')) return 'failed' as const;
  return 'unknown' as const;
}
