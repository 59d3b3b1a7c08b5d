/**
 * The embedded default dialect: SQLite through better-sqlite3, in WAL mode so the worker's job
 * processes (separate OS processes) can read and write the same file at once.
 *
 * Two rules of this file keep those processes from failing each other's writes and keep patient
 * data private:
 * - every transaction begins with `BEGIN IMMEDIATE` ({@link ImmediateSqliteDialect}): it takes the
 *   write lock up front, waiting up to `busy_timeout` for it, instead of reading first and failing
 *   with SQLITE_BUSY when the read has to become a write (SQLite: "Transactions", DEFERRED vs
 *   IMMEDIATE, https://sqlite.org/lang_transaction.html);
 * - the database file and its `-wal` and `-shm` files are readable and writable by their owner
 *   only (mode 0600).
 */
import { chmodSync, closeSync, fstatSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDialectConfig } from 'kysely';
import type { CountryCode } from '../phone/index.js';
import { WRITE_RETRY_MS } from './booking.js';
import type { Database } from './schema.js';
import { SqlStore } from './store.js';

/** How long one SQLite statement waits for another connection's lock, in ms (`PRAGMA busy_timeout`), unless {@link OpenOptions.busyTimeoutMs} says otherwise. */
export const BUSY_TIMEOUT_MS = 5000;

/** Mode of the database file and its `-wal` and `-shm` files: owner read and write only (patient data). */
export const DATABASE_FILE_MODE = 0o600;

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
 *
 * The file is created with mode 0600, and an existing file, `-wal` and `-shm` are set to 0600 (SQLite
 * creates `-wal` and `-shm` with the database file's mode). WAL mode, `busy_timeout`
 * ({@link OpenOptions.busyTimeoutMs}) and foreign keys are set on the connection.
 * @param path the database file, as `DATABASE_PATH` gives it.
 * @param defaultCountry the country numbers without a `+` belong to when looking callers up.
 * @throws Error when the file cannot be opened, in one line naming `DATABASE_PATH`, the path, the
 *   database's or the system's error code and message, and what to do, e.g.
 *   `DATABASE_PATH=/x/y.db: cannot open the database (SQLITE_CANTOPEN: unable to open database file); check the folder exists and is writable`;
 *   the original error is its `cause`.
 * @throws Error naming the option when an option is not a whole number of milliseconds ≥ 0.
 * @throws Error naming the migration when a migration fails.
 */
export async function openSqliteStore(path: string, defaultCountry: CountryCode = 'US', opts: OpenOptions = {}): Promise<SqlStore> {
  const busyTimeoutMs = milliseconds('busyTimeoutMs', opts.busyTimeoutMs, BUSY_TIMEOUT_MS);
  const writeRetryMs = milliseconds('writeRetryMs', opts.writeRetryMs, WRITE_RETRY_MS);
  const sqlite = openDatabase(path, busyTimeoutMs);
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: sqlite }) });
  const store = new SqlStore(db, defaultCountry, { writeRetryMs });
  if (opts.migrate !== false) await store.migrate();
  return store;
}

/** The better-sqlite3 connection, set up; the file owner-only. @throws Error as {@link openSqliteStore} says. */
function openDatabase(path: string, busyTimeoutMs: number): BetterSqlite3.Database {
  if (path === ':memory:') return configure(new BetterSqlite3(path), busyTimeoutMs);
  if (path.trim() === '') {
    throw new Error('DATABASE_PATH is empty: set it to the file the store keeps its data in, e.g. ./data/appointments.db');
  }
  let sqlite: BetterSqlite3.Database | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    // Created owner-only before SQLite opens it; an existing file is left as it is ('a' writes nothing).
    regularFile(openSync(path, 'a', DATABASE_FILE_MODE));
    sqlite = configure(new BetterSqlite3(path), busyTimeoutMs);
    for (const file of [path, `${path}-wal`, `${path}-shm`]) ownerOnly(file);
    return sqlite;
  } catch (err) {
    sqlite?.close();
    throw openError(path, err);
  }
}

/** WAL, busy timeout, foreign keys. Reading the journal mode is the first read of the file: a file that is not a database fails here. */
function configure(sqlite: BetterSqlite3.Database, busyTimeoutMs: number): BetterSqlite3.Database {
  sqlite.pragma(`busy_timeout = ${busyTimeoutMs}`);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  return sqlite;
}

/**
 * Closes `fd`. @throws an Error with code EINVAL when it is not a regular file (a device such as
 * /dev/null, a pipe): nothing SQLite can keep a database in, and nothing to chmod.
 */
function regularFile(fd: number): void {
  try {
    if (!fstatSync(fd).isFile()) throw Object.assign(new Error('EINVAL: not a regular file (a device, a pipe or a socket)'), { code: 'EINVAL' });
  } finally {
    closeSync(fd);
  }
}

/** chmod 0600, when the file exists (`-wal` and `-shm` come and go with connections). */
function ownerOnly(file: string): void {
  try {
    chmodSync(file, DATABASE_FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** The error {@link openSqliteStore} throws when `path` cannot be opened: one line, the cause kept. */
function openError(path: string, err: unknown): Error {
  const code = (err as { code?: unknown }).code;
  const message = String((err as Error).message ?? err).replace(/\s+/g, ' ').trim();
  const what = typeof code === 'string' && !message.startsWith(`${code}:`) ? `${code}: ${message}` : message;
  return new Error(`DATABASE_PATH=${path}: cannot open the database (${what}); ${fixFor(typeof code === 'string' ? code : '', path)}`, { cause: err });
}

/** What to do about an open error, by its code (SQLite's, or the system's for the folder and file). */
function fixFor(code: string, path: string): string {
  switch (code) {
    case 'SQLITE_NOTADB':
      return 'the file is not an SQLite database: point DATABASE_PATH at the store\'s file, or at a new file';
    case 'SQLITE_CORRUPT':
      return 'the database file is damaged: restore it from a backup';
    case 'EISDIR':
      return `DATABASE_PATH names a folder: give the path of a file in it, e.g. ${path.replace(/\/+$/, '')}/appointments.db`;
    case 'EINVAL':
      return 'DATABASE_PATH must name a regular file (or a new one), not a device or a pipe';
    case 'ENOTDIR':
    case 'EEXIST':
      return 'a part of the folder path is a file, not a folder: check the folder exists and is writable';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
    case 'SQLITE_READONLY':
      return 'check the folder exists and is writable, and the file (and its -wal and -shm) belong to the user the worker runs as';
    default:
      return 'check the folder exists and is writable';
  }
}

/** An option in ms: `fallback` when absent. @throws Error naming the option when it is not a whole number ≥ 0. */
function milliseconds(name: keyof OpenOptions, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) throw new Error(`OpenOptions.${name} must be a whole number of milliseconds, 0 or more (got ${value})`);
  return value;
}
