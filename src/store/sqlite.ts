/**
 * The embedded default dialect: SQLite through better-sqlite3, in WAL mode so the worker's job
 * processes can read and write the same file at once.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { CountryCode } from '../phone/index.js';
import type { Database } from './schema.js';
import { SqlStore } from './store.js';

/** Options of opening a store. */
export interface OpenOptions {
  /** Apply pending migrations (default true); job processes skip it, the worker migrated at start. */
  readonly migrate?: boolean;
}

/**
 * Opens (creating the file and its folder if needed) the SQLite file at `path` and migrates it to
 * the latest schema. `:memory:` gives a private in-memory database. The product opens its store
 * with `openStore` (./index.ts); tests call this for `:memory:` and temporary files.
 * @param defaultCountry the country numbers without a `+` belong to when looking callers up.
 * @throws Error when the file cannot be opened or a migration fails.
 */
export async function openSqliteStore(path: string, defaultCountry: CountryCode = 'US', opts: OpenOptions = {}): Promise<SqlStore> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new BetterSqlite3(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const store = new SqlStore(new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) }), defaultCountry);
  if (opts.migrate !== false) await store.migrate();
  return store;
}
