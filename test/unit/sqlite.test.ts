/**
 * Opening the SQLite store (src/store/sqlite.ts): the files holding patient data are their owner's
 * only, and a database that cannot be opened says so in one line naming DATABASE_PATH, the path and
 * the fix.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/index.js';

const folder = () => mkdtempSync(join(tmpdir(), 'sqlite-'));
const mode = (file: string) => statSync(file).mode & 0o777;

/** What opening `path` rejects with. */
async function openFailure(path: string, opts = {}): Promise<Error & { cause?: { code?: string } }> {
  const err = await openSqliteStore(path, 'US', opts).then(
    async (store) => {
      await store.close();
      return undefined;
    },
    (e: unknown) => e as Error & { cause?: { code?: string } },
  );
  if (!err) throw new Error(`opening ${path} did not fail`);
  return err;
}

describe('the database files are their owner\'s only (0600)', () => {
  it('a new file, its -wal and its -shm', async () => {
    const file = join(folder(), 'new', 'app.db');
    const store = await openSqliteStore(file);
    try {
      await store.upsertProvider({ id: 'dr', name: 'Doctor Chen' });
      expect(existsSync(`${file}-wal`) && existsSync(`${file}-shm`)).toBe(true);
      expect([mode(file), mode(`${file}-wal`), mode(`${file}-shm`)]).toEqual([0o600, 0o600, 0o600]);
    } finally {
      await store.close();
    }
  });

  it('an existing file readable by others, and the -wal and -shm left with it, are made 0600 on open', async () => {
    const file = join(folder(), 'app.db');
    // A file an earlier version made (mode 0644), still open in another process: its -wal and -shm exist.
    writeFileSync(file, '');
    chmodSync(file, 0o644);
    const other = new BetterSqlite3(file);
    other.pragma('journal_mode = WAL');
    other.exec('create table t (x)');
    for (const f of [file, `${file}-wal`, `${file}-shm`]) chmodSync(f, 0o644);
    try {
      const store = await openSqliteStore(file);
      await store.close();
      expect(mode(file)).toBe(0o600);
      // Still open in the other process, so they are still there.
      expect([mode(`${file}-wal`), mode(`${file}-shm`)]).toEqual([0o600, 0o600]);
    } finally {
      other.close();
    }
  });
});

describe('a database that cannot be opened', () => {
  it('a folder: says so, and which file to give instead', async () => {
    const dir = folder();
    const err = await openFailure(dir);
    expect(err.message).toBe(
      `DATABASE_PATH=${dir}: cannot open the database (EISDIR: illegal operation on a directory, open '${dir}'); DATABASE_PATH names a folder: give the path of a file in it, e.g. ${dir}/appointments.db`,
    );
    expect(err.cause?.code).toBe('EISDIR');
  });

  it('a file that is not a database: names SQLite\'s code, keeps its error as the cause', async () => {
    const file = join(folder(), 'notes.txt');
    writeFileSync(file, 'These are not the rows you are looking for.\n'.repeat(20));
    const err = await openFailure(file);
    expect(err.message).toBe(
      `DATABASE_PATH=${file}: cannot open the database (SQLITE_NOTADB: file is not a database); the file is not an SQLite database: point DATABASE_PATH at the store's file, or at a new file`,
    );
    expect(err.cause).toBeInstanceOf(BetterSqlite3.SqliteError);
    expect(err.cause?.code).toBe('SQLITE_NOTADB');
  });

  it('a folder path that runs through a file', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'data'), '');
    const path = join(dir, 'data', 'app.db');
    const err = await openFailure(path);
    expect(err.message).toMatch(new RegExp(`^DATABASE_PATH=${path}: cannot open the database \\((EEXIST|ENOTDIR): [^\\n]+\\); a part of the folder path is a file, not a folder: check the folder exists and is writable$`));
  });

  it('a device, not a file (left as it is)', async () => {
    const before = statSync('/dev/null').mode;
    expect((await openFailure('/dev/null')).message).toBe(
      'DATABASE_PATH=/dev/null: cannot open the database (EINVAL: not a regular file (a device, a pipe or a socket)); DATABASE_PATH must name a regular file (or a new one), not a device or a pipe',
    );
    expect(statSync('/dev/null').mode).toBe(before);
  });

  it('a file the system will not let anyone create', async () => {
    const err = await openFailure('/proc/app.db');
    expect(err.message).toMatch(/^DATABASE_PATH=\/proc\/app\.db: cannot open the database \((ENOENT|EACCES): [^\n]+\); check the folder exists and is writable/);
    expect(err.cause).toBeInstanceOf(Error);
  });

  it.skipIf(process.getuid?.() === 0)('a folder this user cannot write (not checkable as root)', async () => {
    const dir = join(folder(), 'locked');
    mkdirSync(dir, { mode: 0o500 });
    const err = await openFailure(join(dir, 'app.db'));
    expect(err.message).toMatch(/^DATABASE_PATH=.+: cannot open the database \(EACCES: .+\); check the folder exists and is writable/);
  });

  it('an empty DATABASE_PATH, and options that are not milliseconds', async () => {
    expect((await openFailure('')).message).toBe('DATABASE_PATH is empty: set it to the file the store keeps its data in, e.g. ./data/appointments.db');
    expect((await openFailure(':memory:', { busyTimeoutMs: -1 })).message).toBe('OpenOptions.busyTimeoutMs must be a whole number of milliseconds, 0 or more (got -1)');
    expect((await openFailure(':memory:', { writeRetryMs: 1.5 })).message).toBe('OpenOptions.writeRetryMs must be a whole number of milliseconds, 0 or more (got 1.5)');
  });
});

