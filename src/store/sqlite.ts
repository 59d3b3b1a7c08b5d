/**
 * The embedded default dialect: SQLite through better-sqlite3, in WAL mode so the worker's job
 * processes (separate OS processes) can read and write the same file at once.
 *
 * Every transaction begins with `BEGIN IMMEDIATE` ({@link ImmediateSqliteDialect}): it takes the
 * write lock up front, waiting up to `busy_timeout` for it, instead of reading first and failing
 * with SQLITE_BUSY when the read has to become a write (SQLite: "Transactions", DEFERRED vs
 * IMMEDIATE, https://sqlite.org/lang_transaction.html).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDialectConfig } from 'kysely';
import type { CountryCode } from '../phone/index.js';
import { WRITE_RETRY_MS } from './booking.js';
import type { Database } from './schema.js';
import { SqlStore } from './store.js';

/** How long one SQLite statement waits for another connection's lock, in ms (`PRAGMA busy_timeout`), unless {@link OpenOptions.busyTimeoutMs} says otherwise. */
export const BUSY_TIMEOUT_MS = 5000;

/** Options of opening a store. */
export interface OpenOptions {
  /** Apply pending migrations (default true); job processes skip it, the worker migrated at start. */
  readonly migrate?: boolean;
  /**
   * How long one statement (a `BEGIN IMMEDIATE` above all) waits for a lock another process holds,
   * in ms, before SQLite gives up with SQLITE_BUSY; default {@link BUSY_TIMEOUT_MS}. The wait is
   * synchronous: it blocks this process's event loop while it lasts.
   */
  readonly busyTimeoutMs?: number;
  /**
   * How long a booking change keeps retrying after SQLITE_BUSY or SQLITE_LOCKED, in ms; default
   * {@link WRITE_RETRY_MS} (see `Booking` in ./booking.ts).
   */
  readonly writeRetryMs?: number;
}

/** better-sqlite3's driver, beginning every transaction with `BEGIN IMMEDIATE` instead of a deferred `BEGIN`. */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/**
 * Kysely's SQLite dialect whose transactions (`db.transaction().execute(…)`) take the write lock as
 * they begin. In WAL mode a deferred transaction that reads, then writes, cannot wait for the lock:
 * if another process wrote meanwhile its snapshot is stale and SQLite answers SQLITE_BUSY (or
 * SQLITE_BUSY_SNAPSHOT) at once, whatever the busy timeout. `BEGIN IMMEDIATE` waits for the lock
 * (up to `busy_timeout`) before the first read, so the transaction then runs alone.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly settings: SqliteDialectConfig) {
    super(settings);
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.settings);
  }
}

/**
 * Opens (creating the file and its folder if needed) the SQLite file at `path` and migrates it to
 * the latest schema. `:memory:` gives a private in-memory database. The product opens its store
 * with `openStore` (./index.ts); tests call this for `:memory:` and temporary files.
 * WAL mode, `busy_timeout` ({@link OpenOptions.busyTimeoutMs}) and foreign keys are set on the connection.
 * @param defaultCountry the country numbers without a `+` belong to when looking callers up.
 * @throws Error when the file cannot be opened or a migration fails.
 * @throws Error naming the option when an option is not a whole number of milliseconds ≥ 0.
 */
export async function openSqliteStore(path: string, defaultCountry: CountryCode = 'US', opts: OpenOptions = {}): Promise<SqlStore> {
  const busyTimeoutMs = milliseconds('busyTimeoutMs', opts.busyTimeoutMs, BUSY_TIMEOUT_MS);
  const writeRetryMs = milliseconds('writeRetryMs', opts.writeRetryMs, WRITE_RETRY_MS);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new BetterSqlite3(path);
  sqlite.pragma(`busy_timeout = ${busyTimeoutMs}`);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: sqlite }) });
  const store = new SqlStore(db, defaultCountry, { writeRetryMs });
  if (opts.migrate !== false) await store.migrate();
  return store;
}

/** An option in ms: `fallback` when absent. @throws Error naming the option when it is not a whole number ≥ 0. */
function milliseconds(name: keyof OpenOptions, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) throw new Error(`OpenOptions.${name} must be a whole number of milliseconds, 0 or more (got ${value})`);
  return value;
}
