// Billing over REST: the account's balance, ledger and usage; an admin's credit.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpPlugin } from '../api/index.ts';
import { csvCell, objectBody, pageLimit, timeParam } from '../api/index.ts';
import { countryOfNumber, fromMicros, GatewayError } from '../core/index.ts';
import type { Billing } from './billing.ts';

const groupings = ['day', 'country', 'connector'] as const;
type Grouping = (typeof groupings)[number];

export interface BillingRoutesOptions {
  /** Told of every credit once it is booked (the audit log, src/manage). */
  onCredit?: (
    req: FastifyRequest,
    accountId: string,
    credit: { amount: number; reference: string | null; balance: number; currency: string | null },
  ) => Promise<void>;
}

export function billingRoutes(
  billing: Billing,
  options: BillingRoutesOptions = {},
): { account: HttpPlugin; admin: HttpPlugin } {
  return {
    async account(app) {
      app.get('/v1/balance', async (req) => billing.balance(req.account.id));

      app.get('/v1/balance/ledger', async (req) => {
        const query = req.query as Record<string, string | undefined>;
        const limit = pageLimit(query);
        const before = query.cursor === undefined ? null : Number(query.cursor);
        if (before !== null && !(Number.isInteger(before) && before > 0))
          throw new GatewayError('invalid_cursor', 'cursor is not one this API gave', 'cursor');
        const entries = await billing.ledger(req.account.id, before, limit);
        return {
          data: entries.map((e) => ({
            id: e.id,
            at: new Date(e.at).toISOString(),
            kind: e.kind,
            amount: fromMicros(e.amount),
            balance: fromMicros(e.balance),
            currency: e.currency,
            messageId: e.messageId,
            reference: e.reference,
          })),
          nextCursor: entries.length === limit ? String(entries[entries.length - 1]!.id) : null,
        };
      });

      app.get('/v1/usage', async (req, reply) => {
        const query = req.query as Record<string, string | undefined>;
        const now = Date.now();
        const from = query.from === undefined ? monthStart(now) : timeParam(query.from, 'from', false);
        const to = query.to === undefined ? now + 1 : timeParam(query.to, 'to', true);
        if (to <= from) throw new GatewayError('invalid_range', 'to must be after from', 'to');
        const groupBy = (query.groupBy ?? 'day') as Grouping;
        if (!groupings.includes(groupBy))
          throw new GatewayError(
            'invalid_group',
            `groupBy must be one of ${groupings.join(', ')}`,
            'groupBy',
          );
        const format = query.format ?? (/\btext\/csv\b/.test(req.headers.accept ?? '') ? 'csv' : 'json');
        if (format !== 'csv' && format !== 'json')
          throw new GatewayError('invalid_format', 'format must be json or csv', 'format');
        // Countries are read from the numbers here: the store groups by number for them.
        const rows = await billing.usage(req.account.id, from, to, groupBy === 'country' ? 'to' : groupBy);
        const groups = new Map<string, UsageGroup>();
        for (const r of rows) {
          const key =
            groupBy === 'day'
              ? new Date(r.group as number).toISOString().slice(0, 10)
              : groupBy === 'country'
                ? (countryOfNumber(r.group as string) ?? null)
                : (r.group as string | null);
          const id = `${key}\0${r.currency}`;
          const group = groups.get(id) ?? {
            [groupBy]: key,
            currency: r.currency,
            messages: 0,
            parts: 0,
            price: 0,
            cost: 0,
          };
          group.messages += r.messages;
          group.parts += r.parts;
          group.price += r.price;
          group.cost += r.cost;
          groups.set(id, group);
        }
        const data = [...groups.values()]
          .map(
            (g): Record<string, unknown> => ({ ...g, price: fromMicros(g.price), cost: fromMicros(g.cost) }),
          )
          .sort((a, b) => String(a[groupBy] ?? '').localeCompare(String(b[groupBy] ?? '')));
        const period = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
        if (format === 'csv') return csv(reply, groupBy, data);
        return { ...period, groupBy, data, total: totalOf([...groups.values()]) };
      });
    },

    async admin(app) {
      app.post('/v1/admin/accounts/:id/credit', async (req) => {
        const { id } = req.params as { id: string };
        if (!billing.hasAccount(id)) throw new GatewayError('not_found', `no account ${id}`, undefined, 404);
        const body = objectBody(req.body);
        const amount = body.amount;
        // Not 0, nor so small that it rounds to nothing (money is kept in millionths).
        if (
          typeof amount !== 'number' ||
          !Number.isFinite(amount) ||
          Math.abs(amount) < 0.000_001 ||
          Math.abs(amount) > 1e9
        )
          throw new GatewayError(
            'invalid_amount',
            'amount must be a number in the main unit, at least 0.000001 either way and at most 1000000000',
            'amount',
          );
        const reference = body.reference;
        if (reference !== undefined && (typeof reference !== 'string' || reference.length > 256))
          throw new GatewayError(
            'invalid_reference',
            'reference must be a string of at most 256 characters',
            'reference',
          );
        const { balance, currency } = await billing.credit(id, amount, reference ?? null);
        await options.onCredit?.(req, id, { amount, reference: reference ?? null, balance, currency });
        return { balance, currency };
      });
    },
  };
}

type UsageGroup = Record<string, string | number | null> & {
  messages: number;
  parts: number;
  price: number;
  cost: number;
};

function monthStart(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** Every group together; money only when one currency covers it all (null otherwise). */
function totalOf(groups: UsageGroup[]) {
  const currencies = new Set(groups.filter((g) => g.price > 0).map((g) => g.currency));
  const single = currencies.size <= 1;
  const sum = (f: (g: UsageGroup) => number) => groups.reduce((n, g) => n + f(g), 0);
  return {
    messages: sum((g) => g.messages),
    parts: sum((g) => g.parts),
    price: single ? fromMicros(sum((g) => g.price)) : null,
    cost: single ? fromMicros(sum((g) => g.cost)) : null,
    currency: single ? ((currencies.values().next().value as string | null | undefined) ?? null) : null,
  };
}

function csv(reply: FastifyReply, groupBy: Grouping, data: Array<Record<string, unknown>>): string {
  const columns = [groupBy, 'currency', 'messages', 'parts', 'price', 'cost'];
  reply.type('text/csv; charset=utf-8');
  return `${[columns.join(','), ...data.map((row) => columns.map((c) => csvCell(row[c])).join(','))].join('\r\n')}\r\n`;
}
