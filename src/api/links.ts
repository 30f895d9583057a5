// Short links (`accounts[].links`, src/core/links.ts): `GET /l/{code}` sends the reader on
// to the link's URL, counts the click and reports it to the account with a
// `message.clicked` webhook; `GET /v1/messages/{id}/links` lists a message's links.
import type { FastifyInstance } from 'fastify';
import { GatewayError, type LinkData, linkCodePattern, linkRecordKind } from '../core/index.ts';
import { type Store, StoreConflictError, type StoredRecord } from '../store/index.ts';
import { maxPageSize } from './paging.ts';

export interface LinkRoutesOptions {
  store: Store;
  /** Reports an event to the account's webhook (stored before it resolves). */
  notify: (accountId: string, type: string, data: unknown) => Promise<void>;
  now?: () => number;
}

/** Clicks on one link that land together are counted one after the other: each reads and writes anew. */
const maxCountTries = 50;

function linkView(link: StoredRecord<LinkData>) {
  const at = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    code: link.id,
    messageId: link.ref,
    url: link.data.url,
    clicks: link.data.clicks,
    firstClickAt: at(link.data.firstClickAt),
    lastClickAt: at(link.data.lastClickAt),
  };
}

function noLink(): GatewayError {
  return new GatewayError('not_found', 'no such link', 'code', 404);
}

/** The link with this click counted (a compare-and-set, so concurrent clicks all count); null: no such link. */
async function countClick(store: Store, code: string, at: number): Promise<StoredRecord<LinkData> | null> {
  for (let tries = 0; tries < maxCountTries; tries++) {
    const link = await store.getRecord<LinkData>(linkRecordKind, code);
    if (!link) return null;
    const { version, ...record } = link;
    const data: LinkData = {
      ...link.data,
      clicks: link.data.clicks + 1,
      firstClickAt: link.data.firstClickAt ?? at,
      lastClickAt: at,
    };
    try {
      return await store.putRecord({ ...record, data, updatedAt: at }, version);
    } catch (err) {
      if (!(err instanceof StoreConflictError)) throw err;
    }
  }
  throw new Error(`the click on link ${code} could not be counted: too many at once`);
}

/** `GET /l/{code}`: no authentication (whoever got the message follows it). */
export function linkRedirectRoutes(o: LinkRoutesOptions) {
  const now = o.now ?? Date.now;
  return async (app: FastifyInstance) => {
    app.get('/l/:code', async (req, reply) => {
      const { code } = req.params as { code: string };
      if (!linkCodePattern.test(code)) throw noLink();
      const at = now();
      const link = await countClick(o.store, code, at);
      if (!link) throw noLink();
      const message = link.ref === null ? null : await o.store.getMessage(link.ref);
      await o.notify(link.accountId, 'message.clicked', {
        ...linkView(link),
        to: message?.to ?? null,
        at: new Date(at).toISOString(),
      });
      return reply
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer')
        .redirect(link.data.url, 302);
    });
  };
}

/** `GET /v1/messages/{id}/links`: the account's own messages only. */
export function messageLinkRoutes(o: Pick<LinkRoutesOptions, 'store'>) {
  return async (app: FastifyInstance) => {
    app.get('/v1/messages/:id/links', async (req) => {
      const { id } = req.params as { id: string };
      const message = await o.store.getMessage(id);
      if (!message || message.accountId !== req.account.id)
        throw new GatewayError('not_found', `no message ${id}`, 'id', 404);
      const links = await o.store.listRecords<LinkData>(
        linkRecordKind,
        { accountId: req.account.id, ref: id },
        null,
        maxPageSize,
      );
      // In the order they appear in the text.
      const at = (code: string) => message.text?.indexOf(`/l/${code}`) ?? 0;
      return { data: links.data.sort((a, b) => at(a.id) - at(b.id)).map(linkView) };
    });
  };
}
