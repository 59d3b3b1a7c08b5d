/**
 * What the tests and the bench read to check what was saved: the store's SQLite file on a
 * read-only connection of their own. Tests look at the real file independently of the product's
 * store (whose connection is private to it), so a check never goes through the code it checks.
 * The file is in WAL mode: this connection reads while the worker writes, and sees each write once
 * it is committed.
 */
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../src/store/index.js';

/**
 * A read-only connection to the SQLite file at `path`, which a store has created and migrated.
 * Close it with `destroy()`.
 * @throws SqliteError when the file does not exist.
 */
export function inspectDatabase(path: string): Kysely<Database> {
  const sqlite = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  sqlite.pragma('busy_timeout = 5000');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
}
