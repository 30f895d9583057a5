// /v1/suppressions (CONTRACT §3): an account's opt-out list — list, add, remove, import a
// CSV. The gateway refuses messages to listed numbers on every path (recipient_opted_out).
import { pipeline, Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { GatewayError, Suppressions } from '../core/index.ts';
import { csvParser, csvRefusal } from './csv.ts';
import { cursorRefused, pageLimit } from './paging.ts';
import { uploadSlots, uploadStream } from './uploads.ts';

/** Rows an import may hold; a bigger list goes in several requests. */
const maxImportRows = 1_000_000;
const maxImportBytes = 64 * 1024 * 1024;
/** Imports one account may run at once. */
const maxConcurrentImports = 4;
/** Entries stored together: an import holds one chunk in memory whatever its size. */
const importChunkRows = 1_000;

export function suppressionRoutes(suppressions: Suppressions) {
  return async (app: FastifyInstance) => {
    // The list reaches the import as the request stream, read while it arrives.
    app.addContentTypeParser(['text/csv', 'text/plain'], (_req, payload, done) => done(null, payload));
    const imports = uploadSlots(app, maxConcurrentImports, 'suppression imports');

    app.get('/v1/suppressions', async (req) => {
      const q = req.query as Record<string, string | undefined>;
      const limit = pageLimit(q);
      const to =
        q.to === undefined ? undefined : Suppressions.parse(q.to, undefined, req.account.defaultCountry).to;
      const page = await suppressions
        .list(req.account.id, { to }, q.cursor ?? null, limit)
        .catch(cursorRefused);
      return { data: page.data.map(view), nextCursor: page.nextCursor };
    });

    app.post('/v1/suppressions', async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      if (typeof body !== 'object' || Array.isArray(body))
        throw new GatewayError('invalid_body', 'expected a JSON object');
      const scope = body.scope ?? (body.from === undefined ? 'account' : 'sender');
      if (scope !== 'account' && scope !== 'sender')
        throw new GatewayError('invalid_scope', 'scope must be account or sender', 'scope');
      if (scope === 'sender' && body.from === undefined)
        throw new GatewayError('missing_field', 'a sender-scoped entry needs from', 'from');
      const entry = Suppressions.parse(
        body.to,
        scope === 'sender' ? body.from : undefined,
        req.account.defaultCountry,
      );
      const reason = typeof body.reason === 'string' ? body.reason.slice(0, 256) : null;
      const added = await suppressions.add(req.account.id, { ...entry, source: 'api', reason });
      return reply.code(201).send(view(added));
    });

    app.post(
      '/v1/suppressions/import',
      { onRequest: imports.take },
      imports.holding(async (req) => {
        if (!(req.body instanceof Readable))
          throw new GatewayError(
            'invalid_body',
            'send the list as text/csv: a `to` column, or one number a line',
          );
        const parser = csvParser({ relax_column_count: true, skip_empty_lines: true, trim: true });
        // Stored as read: it holds no more as it grows, so its bytes do not count.
        pipeline(uploadStream(req.body, maxImportBytes, req, { counted: false }), parser, () => {});
        /** The first hundred unreadable rows, for the caller to fix. */
        const invalidRows: Array<{ line: number; value: string }> = [];
        let invalid = 0;
        let added = 0;
        let chunk: Array<{ to: string; from: string | null }> = [];
        const store = async () => {
          await suppressions.addMany(
            req.account.id,
            chunk.map((e) => ({ ...e, source: 'import' as const })),
          );
          added += chunk.length;
          chunk = [];
        };
        let columns: { to: number; from: number } | null = null;
        let line = 0;
        try {
          for await (const row of parser as AsyncIterable<string[]>) {
            line++;
            if (line === 1) {
              const header = row.map((c) => c.toLowerCase());
              if (header.includes('to')) {
                columns = { to: header.indexOf('to'), from: header.indexOf('from') };
                continue;
              }
            }
            if (added + chunk.length + invalid >= maxImportRows)
              throw new GatewayError(
                'too_many_rows',
                `an import holds at most ${maxImportRows} rows`,
                undefined,
                413,
              );
            const to = row[columns?.to ?? 0] ?? '';
            const from = columns && columns.from >= 0 ? row[columns.from] || undefined : undefined;
            try {
              chunk.push(Suppressions.parse(to, from, req.account.defaultCountry));
            } catch {
              if (invalid++ < 100) invalidRows.push({ line, value: to });
            }
            if (chunk.length >= importChunkRows) await store();
          }
        } catch (err) {
          const refusal = err instanceof GatewayError ? err : csvRefusal(err);
          if (refusal === null) throw err;
          // The chunks before it stay stored: the caller is told how many.
          if (added > 0) refusal.message += ` (the ${added} entries before it were added)`;
          throw refusal;
        } finally {
          parser.destroy();
        }
        if (chunk.length > 0) await store();
        return { added, invalid, invalidRows };
      }),
    );

    app.delete('/v1/suppressions/:to', async (req, reply) => {
      const { to: raw } = req.params as { to: string };
      const q = req.query as Record<string, string | undefined>;
      const { to, from } = Suppressions.parse(raw, q.from, req.account.defaultCountry);
      if (!(await suppressions.remove(req.account.id, to, from)))
        throw new GatewayError('not_found', `${to} is not on the suppression list`, 'to', 404);
      return reply.code(204).send();
    });
  };
}

function view(s: {
  to: string;
  from: string | null;
  source: string;
  reason: string | null;
  createdAt: number;
}) {
  return {
    to: s.to,
    scope: s.from === null ? 'account' : 'sender',
    from: s.from,
    source: s.source,
    reason: s.reason,
    createdAt: new Date(s.createdAt).toISOString(),
  };
}
