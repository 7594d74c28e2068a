// The project's state store: SQLite at .keyprov/keyprov.db, shared by every area.
// WAL lets readers run beside a writer (parallel provisioning); the busy timeout makes a
// second keyprov process wait for the lock instead of failing.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { stateDir } from '../project.js';
import { KeyprovError } from '../errors.js';
import { migrations as defaultMigrations, type Migration } from './migrations.js';

export type Db = Database.Database;

export function storePath(root: string): string {
  return path.join(stateDir(root), 'keyprov.db');
}

export interface OpenStoreOptions {
  /** For tests; defaults to the project's list. */
  migrations?: Migration[];
  busyTimeoutMs?: number;
}

/** Opens (creating if needed) `file` and brings its schema up to date. */
export function openStore(file: string, opts: OpenStoreOptions = {}): Db {
  mkdirSync(path.dirname(file), { recursive: true });
  let db: Db;
  try {
    db = new Database(file);
  } catch (e) {
    throw new KeyprovError('STORE_OPEN', `cannot open the state store ${file}: ${(e as Error).message}`, {
      hint: 'check that the .keyprov folder is writable by this user',
    });
  }
  db.pragma('journal_mode = WAL');
  db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 10_000}`);
  db.pragma('foreign_keys = ON');
  migrate(db, opts.migrations ?? defaultMigrations, file);
  return db;
}

export function migrate(db: Db, list: Migration[], file = 'the state store'): void {
  const sorted = [...list].sort((a, b) => a.version - b.version);
  sorted.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration versions must be 1..n without gaps (found ${m.version} at position ${i + 1})`);
  });
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > sorted.length) {
    throw new KeyprovError('STORE_TOO_NEW', `${file} has schema version ${current}; this keyprov knows up to ${sorted.length}`, {
      hint: 'upgrade keyprov (the store was written by a newer version)',
    });
  }
  for (const m of sorted.slice(current)) {
    // BEGIN IMMEDIATE: two processes opening a fresh store do not both migrate.
    db.transaction(() => {
      if ((db.pragma('user_version', { simple: true }) as number) >= m.version) return;
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}

/**
 * Opens an existing store for reading only (dry runs): never creates the file, never
 * migrates, never writes. Undefined when there is no store yet (then nothing is recorded in it).
 */
export function openStoreReadonly(file: string): Db | undefined {
  if (!existsSync(file)) return undefined;
  try {
    // Not `readonly`: a read-only connection cannot remove the -wal/-shm files WAL mode
    // creates, so they would be left behind. query_only refuses every write instead, and
    // closing the last connection removes them.
    const db = new Database(file, { fileMustExist: true });
    db.pragma('query_only = 1');
    db.pragma('busy_timeout = 10000');
    return db;
  } catch (e) {
    throw new KeyprovError('STORE_OPEN', `cannot open the state store ${file}: ${(e as Error).message}`, {
      hint: 'check that the .keyprov folder is readable by this user',
    });
  }
}
