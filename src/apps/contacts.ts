// Contacts and groups to address alerts (and any later feature) to: a contact is a number
// with a name and variables, one per number in an account; a group holds contacts through
// member records (one per group and contact) so a group of any size is read page by page.

import { pipeline, Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import {
  csvParser,
  csvRefusal,
  cursorRefused,
  type HttpPlugin,
  readJsonUploads,
  uploadSlots,
  uploadStream,
} from '../api/index.ts';
import { derivedId, destinationOf, GatewayError, newId, normaliseNumber } from '../core/index.ts';
import type { NewRecord, StoredRecord } from '../store/index.ts';
import { type AppContext, countryOf, Fields, iso, notFound, pageOf } from './shared.ts';

export const contactKind = 'contact';
export const groupKind = 'group';
/** id `<group id>:<contact id>`, ref the group: a group's members in pages. */
export const memberKind = 'group-member';

export interface Contact {
  to: string;
  name: string | null;
  vars: Record<string, string>;
  groups: string[];
}

export interface Group {
  name: string;
  description: string | null;
}

interface Member {
  contactId: string;
  to: string;
}

const maxGroupsPerContact = 100;
const maxImportRows = 100_000;
const maxImportBytes = 20 * 1_048_576;
/** Rows stored together by an import. */
const importChunkRows = 1_000;
const maxConcurrentImports = 4;
/** A contact's caps, whether made one at a time or imported. */
const maxNameChars = 200;
const maxVars = 50;
const maxVarChars = 1000;

export class ContactsService {
  readonly #ctx: AppContext;

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
  }

  async createGroup(accountId: string, body: unknown): Promise<StoredRecord<Group>> {
    const f = new Fields(body);
    const now = this.#ctx.now();
    return this.#ctx.store.putRecord<Group>(
      {
        kind: groupKind,
        id: newId(now),
        accountId,
        ref: null,
        status: null,
        dueAt: null,
        createdAt: now,
        updatedAt: now,
        data: { name: f.requiredString('name', 200), description: f.string('description', 1000) ?? null },
      },
      0,
    );
  }

  async group(accountId: string, id: string): Promise<StoredRecord<Group>> {
    const g = await this.#ctx.store.getRecord<Group>(groupKind, id);
    if (!g || g.accountId !== accountId) throw notFound('group', id);
    return g;
  }

  groupSize(accountId: string, id: string): Promise<number> {
    return this.#ctx.store.countRecords(memberKind, { accountId, ref: id });
  }

  listGroups(accountId: string, query: unknown) {
    const { limit, cursor } = pageOf(query);
    return this.#ctx.store.listRecords<Group>(groupKind, { accountId }, cursor, limit).catch(cursorRefused);
  }

  async deleteGroup(accountId: string, id: string): Promise<void> {
    await this.group(accountId, id);
    for await (const member of this.#members(accountId, id)) {
      const contact = await this.#ctx.store.getRecord<Contact>(contactKind, member.data.contactId);
      if (contact)
        await this.#ctx.store.putRecord({
          ...contact,
          data: { ...contact.data, groups: contact.data.groups.filter((g) => g !== id) },
        });
      await this.#ctx.store.deleteRecord(memberKind, member.id);
    }
    await this.#ctx.store.deleteRecord(groupKind, id);
  }

  /** Every number in these groups of the account, each group page by page. */
  async *numbersOf(accountId: string, groupIds: readonly string[]): AsyncGenerator<string> {
    for (const id of groupIds) {
      await this.group(accountId, id);
      for await (const member of this.#members(accountId, id)) yield member.data.to;
    }
  }

  async *#members(accountId: string, groupId: string): AsyncGenerator<StoredRecord<Member>> {
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof this.listMembers>> = await this.listMembers(accountId, groupId, {
        cursor,
        limit: 500,
      });
      yield* page.data;
      cursor = page.nextCursor;
    } while (cursor);
  }

  listMembers(accountId: string, groupId: string, page: { cursor: string | null; limit: number }) {
    return this.#ctx.store
      .listRecords<Member>(memberKind, { accountId, ref: groupId }, page.cursor, page.limit)
      .catch(cursorRefused);
  }

  async createContact(accountId: string, body: unknown): Promise<StoredRecord<Contact>> {
    const f = new Fields(body);
    const to = destinationOf(f.requiredString('to', 32), countryOf(this.#ctx, accountId));
    const existing = await this.#byNumber(accountId, to);
    if (existing)
      throw new GatewayError('duplicate_contact', `contact ${existing.id} has this number`, 'to', 409);
    const groups = await this.#groupsOf(accountId, f.stringList('groups', maxGroupsPerContact, 64) ?? []);
    const now = this.#ctx.now();
    const contact: NewRecord<Contact> = {
      kind: contactKind,
      id: contactId(accountId, to),
      accountId,
      ref: to,
      status: null,
      dueAt: null,
      createdAt: now,
      updatedAt: now,
      data: { to, name: f.string('name', maxNameChars) ?? null, vars: varsOf(f), groups },
    };
    await this.#ctx.store.putRecords<unknown>([contact, ...memberRecords(contact, groups, now)]);
    return (await this.#ctx.store.getRecord<Contact>(contactKind, contact.id))!;
  }

  async contact(accountId: string, id: string): Promise<StoredRecord<Contact>> {
    const c = await this.#ctx.store.getRecord<Contact>(contactKind, id);
    if (!c || c.accountId !== accountId) throw notFound('contact', id);
    return c;
  }

  listContacts(accountId: string, query: unknown) {
    const { limit, cursor } = pageOf(query);
    const to = new Fields(query ?? {}).string('to', 32);
    return this.#ctx.store
      .listRecords<Contact>(
        contactKind,
        {
          accountId,
          ref: to === undefined ? undefined : (normaliseNumber(to, countryOf(this.#ctx, accountId)) ?? to),
        },
        cursor,
        limit,
      )
      .catch(cursorRefused);
  }

  /** Name, variables and groups (the list given replaces the contact's). */
  async updateContact(accountId: string, id: string, body: unknown): Promise<StoredRecord<Contact>> {
    const current = await this.contact(accountId, id);
    const f = new Fields(body);
    const groups = f.has('groups')
      ? await this.#groupsOf(accountId, f.stringList('groups', maxGroupsPerContact, 64)!)
      : current.data.groups;
    const now = this.#ctx.now();
    const updated = {
      ...current,
      updatedAt: now,
      data: {
        ...current.data,
        name: f.has('name') ? (f.string('name', maxNameChars) ?? null) : current.data.name,
        vars: f.has('vars') ? varsOf(f) : current.data.vars,
        groups,
      },
    };
    for (const g of current.data.groups)
      if (!groups.includes(g)) await this.#ctx.store.deleteRecord(memberKind, `${g}:${id}`);
    await this.#ctx.store.putRecords<unknown>([
      updated,
      ...memberRecords(
        updated,
        groups.filter((g) => !current.data.groups.includes(g)),
        now,
      ),
    ]);
    return this.contact(accountId, id);
  }

  async deleteContact(accountId: string, id: string): Promise<void> {
    const c = await this.contact(accountId, id);
    for (const g of c.data.groups) await this.#ctx.store.deleteRecord(memberKind, `${g}:${id}`);
    await this.#ctx.store.deleteRecord(contactKind, id);
  }

  /**
   * Contacts from CSV (a header row naming `to` — or `phone`, `number` — and optionally
   * `name`; other columns become variables), created or updated by number, all added to
   * `group` if given. Rows that cannot be read, or that break a contact's caps (name, number
   * and length of variables), are skipped and reported, not fatal. Read as it arrives and
   * stored a chunk of rows at a time, so an import holds one chunk in memory whatever its
   * size; a CSV error part-way leaves the chunks before it stored, and says how many rows.
   */
  async importCsv(accountId: string, csv: string | Readable, groupId: string | undefined) {
    if (groupId !== undefined) await this.group(accountId, groupId);
    const tally = { total: 0, created: 0, updated: 0, invalid: 0 };
    /** The first hundred unreadable rows, for the caller to fix. */
    const invalidRows: Array<{ line: number; value: string }> = [];
    let chunk: CsvContactRow[] = [];
    try {
      for await (const row of csvContactRows(csv)) {
        tally.total++;
        chunk.push(row);
        if (chunk.length < importChunkRows) continue;
        await this.#importChunk(accountId, chunk, groupId, tally, invalidRows);
        chunk = [];
      }
    } catch (err) {
      // The chunks before it stay stored: the caller is told how many.
      const stored = tally.total - chunk.length;
      if (err instanceof GatewayError && stored > 0)
        err.message += ` (the ${stored} rows before it were imported)`;
      throw err;
    }
    await this.#importChunk(accountId, chunk, groupId, tally, invalidRows);
    return { ...tally, invalidRows };
  }

  /** One chunk of an import: its contacts created or updated, and added to the group, in one write. */
  async #importChunk(
    accountId: string,
    rows: readonly CsvContactRow[],
    groupId: string | undefined,
    tally: { created: number; updated: number; invalid: number },
    invalidRows: Array<{ line: number; value: string }>,
  ): Promise<void> {
    const now = this.#ctx.now();
    const country = countryOf(this.#ctx, accountId);
    const valid: Array<{ to: string; name: string; vars: Record<string, string> }> = [];
    for (const { raw, name, vars, line } of rows) {
      const to = normaliseNumber(raw, country);
      if (!to || name.length > maxNameChars || !varsFit(vars)) {
        if (tally.invalid++ < 100) invalidRows.push({ line, value: raw });
        continue;
      }
      valid.push({ to, name, vars });
    }
    // The chunk's contacts in one read; a number of an earlier chunk was stored with it.
    const seen = new Map<string, NewRecord<Contact>>();
    const refs = [...new Set(valid.map((v) => v.to))];
    for (const c of await this.#ctx.store.recordsByRef<Contact>(contactKind, accountId, refs))
      if (!seen.has(c.ref!)) seen.set(c.ref!, c);
    const writes: NewRecord<unknown>[] = [];
    for (const { to, name, vars } of valid) {
      const existing = seen.get(to);
      const groups = existing?.data.groups ?? [];
      const contact: NewRecord<Contact> = {
        kind: contactKind,
        id: existing?.id ?? contactId(accountId, to),
        accountId,
        ref: to,
        status: null,
        dueAt: null,
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
        data: {
          to,
          name: name || existing?.data.name || null,
          vars: { ...existing?.data.vars, ...vars },
          groups: groupId && !groups.includes(groupId) ? [...groups, groupId] : groups,
        },
      };
      if (existing) tally.updated++;
      else tally.created++;
      seen.set(to, contact);
      if (groupId && !groups.includes(groupId)) writes.push(...memberRecords(contact, [groupId], now));
    }
    writes.push(...seen.values());
    if (writes.length > 0) await this.#ctx.store.putRecords(writes);
  }

  async #byNumber(accountId: string, to: string): Promise<StoredRecord<Contact> | undefined> {
    return (await this.#ctx.store.listRecords<Contact>(contactKind, { accountId, ref: to }, null, 1)).data[0];
  }

  async #groupsOf(accountId: string, ids: readonly string[]): Promise<string[]> {
    const unique = [...new Set(ids)];
    for (const id of unique) {
      const g = await this.#ctx.store.getRecord(groupKind, id);
      if (!g || g.accountId !== accountId)
        throw new GatewayError('invalid_group', `no group ${id}`, 'groups');
    }
    return unique;
  }
}

/**
 * A new contact's id: the same for the same number of the same account, so two imports (or
 * an import and a create, on any gateway of a cluster) that meet one new number at once
 * write one contact, not two.
 */
function contactId(accountId: string, to: string): string {
  return derivedId(0, `contact\0${accountId}\0${to}`);
}

export interface CsvContactRow {
  /** The number as written. */
  raw: string;
  name: string;
  /** The other columns that have a value, by lower-case name. */
  vars: Record<string, string>;
  /** The line the row starts on. */
  line: number;
}

/** Names the number's column may have (any case); the first found is used. */
const numberColumns = ['to', 'phone', 'number', 'msisdn'];

/**
 * The rows of a CSV with a header row naming the number's column, read as they arrive: at
 * most `maxImportRows`, the rest read and not kept. A string is read in slices, and more
 * than `maxImportBytes` of it refused 413; a stream comes so limited (uploadStream).
 */
export async function* csvContactRows(source: string | Readable): AsyncGenerator<CsvContactRow> {
  let numberColumn: string | undefined;
  const parser = csvParser({
    columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
    skip_empty_lines: true,
    trim: true,
    bom: true,
    relax_column_count: true,
    info: true,
  });
  // pipeline destroys the parser with the source's error (a client that went away, too much).
  pipeline(source instanceof Readable ? source : uploadStream(source, maxImportBytes), parser, () => {});
  let rows = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      if (numberColumn === undefined) {
        numberColumn = numberColumns.find((c) => c in record);
        if (numberColumn === undefined)
          throw new GatewayError('invalid_csv', 'the header row must name a `to` column', 'csv');
      }
      if (++rows > maxImportRows) continue;
      const vars: Record<string, string> = {};
      for (const [k, v] of Object.entries(record))
        if (k !== numberColumn && k !== 'name' && v !== '') vars[k] = v;
      yield { raw: record[numberColumn] ?? '', name: record.name ?? '', vars, line: info.lines };
    }
  } catch (err) {
    throw csvRefusal(err) ?? err;
  } finally {
    parser.destroy();
  }
}

function varsFit(v: object): boolean {
  const values = Object.values(v);
  return values.length <= maxVars && values.every((x) => typeof x === 'string' && x.length <= maxVarChars);
}

function varsOf(f: Fields): Record<string, string> {
  const v = f.raw('vars');
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v) || !varsFit(v))
    throw new GatewayError(
      'invalid_field',
      `vars must be an object of at most ${maxVars} strings of ${maxVarChars} characters`,
      'vars',
    );
  return v as Record<string, string>;
}

function memberRecords(
  contact: NewRecord<Contact>,
  groups: readonly string[],
  now: number,
): NewRecord<Member>[] {
  return groups.map((g) => ({
    kind: memberKind,
    id: `${g}:${contact.id}`,
    accountId: contact.accountId,
    ref: g,
    status: null,
    dueAt: null,
    createdAt: now,
    updatedAt: now,
    data: { contactId: contact.id, to: contact.data.to },
  }));
}

export function contactView(c: StoredRecord<Contact>): Record<string, unknown> {
  return {
    id: c.id,
    to: c.data.to,
    name: c.data.name,
    vars: c.data.vars,
    groups: c.data.groups,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
}

export function groupView(g: StoredRecord<Group>, size?: number): Record<string, unknown> {
  return {
    id: g.id,
    name: g.data.name,
    description: g.data.description,
    ...(size === undefined ? {} : { size }),
    createdAt: iso(g.createdAt),
  };
}

export function contactRoutes(service: ContactsService): HttpPlugin {
  return async (app: FastifyInstance) => {
    // A CSV body reaches the import as the request stream, read while it arrives.
    app.addContentTypeParser('text/csv', (_req, payload, done) => done(null, payload));
    // An import's JSON body (`{csv}`, 20 MB) counts against the uploads' bytes as it is read.
    readJsonUploads(app);
    const idOf = (req: { params: unknown }) => (req.params as { id: string }).id;
    const imports = uploadSlots(app, maxConcurrentImports, 'contact imports');

    app.post('/v1/contacts', async (req, reply) =>
      reply.code(201).send(contactView(await service.createContact(req.account.id, req.body))),
    );
    app.get('/v1/contacts', async (req) => {
      const page = await service.listContacts(req.account.id, req.query);
      return { data: page.data.map(contactView), nextCursor: page.nextCursor };
    });
    app.post(
      '/v1/contacts/import',
      { bodyLimit: maxImportBytes, onRequest: imports.take },
      imports.holding(async (req) => {
        const query = new Fields(req.query ?? {});
        if (req.body instanceof Readable)
          return service.importCsv(
            req.account.id,
            // Stored as read: it holds no more as it grows, so its bytes do not count.
            uploadStream(req.body, maxImportBytes, req, { counted: false }),
            query.string('group', 64),
          );
        const f = new Fields(req.body);
        return service.importCsv(
          req.account.id,
          f.requiredString('csv', maxImportBytes),
          f.string('group', 64) ?? query.string('group', 64),
        );
      }),
    );
    app.get('/v1/contacts/:id', async (req) => contactView(await service.contact(req.account.id, idOf(req))));
    app.patch('/v1/contacts/:id', async (req) =>
      contactView(await service.updateContact(req.account.id, idOf(req), req.body)),
    );
    app.delete('/v1/contacts/:id', async (req, reply) => {
      await service.deleteContact(req.account.id, idOf(req));
      return reply.code(204).send();
    });

    app.post('/v1/groups', async (req, reply) =>
      reply.code(201).send(groupView(await service.createGroup(req.account.id, req.body), 0)),
    );
    app.get('/v1/groups', async (req) => {
      const page = await service.listGroups(req.account.id, req.query);
      return { data: page.data.map((g) => groupView(g)), nextCursor: page.nextCursor };
    });
    app.get('/v1/groups/:id', async (req) => {
      const g = await service.group(req.account.id, idOf(req));
      return groupView(g, await service.groupSize(req.account.id, g.id));
    });
    app.get('/v1/groups/:id/contacts', async (req) => {
      await service.group(req.account.id, idOf(req));
      const page = await service.listMembers(req.account.id, idOf(req), pageOf(req.query));
      const contacts = await Promise.all(
        page.data.map((m) => service.contact(req.account.id, m.data.contactId)),
      );
      return { data: contacts.map(contactView), nextCursor: page.nextCursor };
    });
    app.delete('/v1/groups/:id', async (req, reply) => {
      await service.deleteGroup(req.account.id, idOf(req));
      return reply.code(204).send();
    });
  };
}
