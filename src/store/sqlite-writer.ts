// The writer thread of a SqliteStore on a file (see sqlite.ts): while it runs, it holds the
// store's only writing connection, so statements and the COMMIT's fsync do not hold up the
// main thread. It says 'ready' once its connection is open. Each message is a batch of
// writes in call order, applied in one transaction, answered by one message with their
// outcomes in order; 'release-memory' asks it to give back what its heap no longer uses
// (answered by nothing); null asks it to close.
import { parentPort, workerData } from 'node:worker_threads';
import {
  type ConnectionSettings,
  decodeBatch,
  type EncodedBatch,
  openConnection,
  SqliteWrites,
} from './sqlite-writes.ts';

const port = parentPort!;
const db = openConnection(workerData as ConnectionSettings);
const writes = new SqliteWrites(db);
port.postMessage('ready');

port.on('message', (batch: EncodedBatch | 'release-memory' | null) => {
  if (batch === 'release-memory') {
    // The collection V8's memory reducer makes only after 100 s without one (see bin/smsgw).
    globalThis.gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    return;
  }
  if (batch !== null) {
    port.postMessage(writes.apply(decodeBatch(batch)));
    return;
  }
  db.close();
  port.close();
});
