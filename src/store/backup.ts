// An online copy of a SQLite store: `VACUUM INTO` reads one snapshot of the database in a
// single read transaction, so the copy is consistent, and in WAL mode that transaction
// blocks no writer: a gateway (in this process or another) keeps accepting meanwhile.
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

export interface BackupReport {
  /** Messages in the copy. */
  messages: number;
  /** The schema version the copy was written by (PRAGMA user_version). */
  schemaVersion: number;
}

/**
 * Copies the store at `source` to `target`, which must not exist or be empty. The copy is written
 * beside the target under another name, checked (PRAGMA integrity_check), then renamed
 * into place, so `target` never names a partial or damaged copy.
 */
export function backupSqlite(source: string, target: string, busyTimeoutMs = 10_000): BackupReport {
  // DatabaseSync would create an empty database where there is none.
  if (!existsSync(source)) throw new Error(`no SQLite store at ${source}`);
  // An empty file holds nothing to lose (a name made by mktemp, say); anything else is kept.
  if (existsSync(target) && statSync(target).size > 0)
    throw new Error(`${target} already exists; a backup never overwrites`);
  if (!existsSync(dirname(target))) throw new Error(`no directory ${dirname(target)} to write ${target} in`);
  const partial = `${target}.partial-${process.pid}`;
  try {
    const db = new DatabaseSync(source, { timeout: busyTimeoutMs });
    try {
      if (!db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'messages'").get())
        throw new Error(`${source} is not an smsgw store`);
      db.prepare('VACUUM INTO ?').run(partial);
    } finally {
      db.close();
    }
    const report = checkCopy(partial);
    renameSync(partial, target);
    return report;
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
}

function checkCopy(path: string): BackupReport {
  const copy = new DatabaseSync(path, { readOnly: true });
  try {
    const problems = copy
      .prepare('PRAGMA integrity_check')
      .all()
      .map((row) => String(row['integrity_check']));
    if (problems.join() !== 'ok')
      throw new Error(`the copy failed its integrity check: ${problems.join('; ')}`);
    const version = copy.prepare('PRAGMA user_version').get()!['user_version'] as number;
    const messages = copy.prepare('SELECT count(*) AS n FROM messages').get()!['n'] as number;
    return { messages, schemaVersion: version };
  } finally {
    copy.close();
  }
}
