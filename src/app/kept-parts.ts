// The parts of long inbound messages that wait for the rest (see InboundPartStore), kept as
// records of the store so that a crash between two acknowledged parts loses neither.
import type { InboundPartStore, KeptPart } from '../connectors/index.ts';
import type { Page, Store, StoredRecord } from '../store/index.ts';

/** Parts of long inbound messages waiting for the rest, as records of the store. */
export function keptPartsIn(store: Store): InboundPartStore {
  const kind = 'mo-part';
  const recordId = (connectorId: string, id: string) => `${connectorId}\u0000${id}`;
  return {
    async keep(connectorId, part) {
      const now = Date.now();
      await store.putRecord({
        kind,
        id: recordId(connectorId, part.id),
        accountId: '',
        ref: connectorId,
        status: null,
        dueAt: null,
        createdAt: now,
        updatedAt: now,
        data: {
          key: part.key,
          body: part.body.toString('base64'),
          dataCoding: part.dataCoding,
          sar: part.sar,
        },
      });
    },
    async forget(connectorId, ids) {
      await Promise.all(ids.map((id) => store.deleteRecord(kind, recordId(connectorId, id))));
    },
    async kept(connectorId) {
      const parts: KeptPart[] = [];
      let cursor: string | null = null;
      do {
        const page: Page<StoredRecord<KeptPartData>> = await store.listRecords<KeptPartData>(
          kind,
          { ref: connectorId },
          cursor,
          500,
        );
        for (const r of page.data) {
          parts.push({
            id: r.id.slice(connectorId.length + 1),
            key: r.data.key,
            body: Buffer.from(r.data.body, 'base64'),
            dataCoding: r.data.dataCoding,
            sar: r.data.sar,
          });
        }
        cursor = page.nextCursor;
      } while (cursor !== null);
      return parts.reverse();
    },
  };
}

interface KeptPartData {
  key: string;
  body: string;
  dataCoding: number;
  sar: KeptPart['sar'];
}
