// The patch journal: written BEFORE any source file changes, so that whatever happens
// afterwards (crash, SIGKILL, power loss) `keyprov restore` knows which files to put back
// and has their original bytes. Lives at .keyprov/patch-journal.json; original bytes are
// kept beside it in .keyprov/patch-backup/<sha256>.orig.
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { KeyprovError } from '../errors.js';
import { patchJournalPath, stateDir } from '../project.js';
import { writeFileAtomicSync } from './atomic-sync.js';

export type EditKind = 'keygen' | 'delay';

export interface JournalEdit {
  kind: EditKind;
  macro: string;
  line: number;
  /** Value as written before keyprov changed it (e.g. `0`, `( 0 )`, `180`). */
  from: string;
  to: string;
}

export interface JournalEntry {
  /** Absolute real path of the patched file (a symlink given as --source is resolved: restore writes the file, not the link). */
  file: string;
  /** sha256 of the bytes before the first keyprov edit, and of the bytes keyprov wrote. */
  originalSha256: string;
  patchedSha256: string;
  /** Backup of the original bytes, relative to the state folder. */
  backup: string;
  mode: number;
  edits: JournalEdit[];
  patchedAt: string;
}

export interface Journal {
  version: 1;
  entries: JournalEntry[];
}

export const BACKUP_DIR = 'patch-backup';

export function sha256(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** The journal, or an empty one when there is none. */
export function readJournal(root: string): Journal {
  const file = patchJournalPath(root);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, entries: [] };
    throw e;
  }
  try {
    const j = JSON.parse(text) as Journal;
    if (!Array.isArray(j.entries)) throw new Error('no "entries" array');
    return { version: 1, entries: j.entries };
  } catch (e) {
    throw new KeyprovError('PATCH_JOURNAL_CORRUPT', `the patch journal ${file} is unreadable: ${(e as Error).message}`, {
      hint: `compare the files it names with their backups in ${path.join(stateDir(root), BACKUP_DIR)}, fix or delete the journal by hand`,
    });
  }
}

/** How the journal names a file: its real path, so a symlink and its target are one entry. */
export function journalFile(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

/** The journal entry for `file` (given as a link or as its target), if any. */
export function journalEntryFor(journal: Journal, file: string): JournalEntry | undefined {
  const real = journalFile(file);
  return journal.entries.find((e) => e.file === real || journalFile(e.file) === real);
}

/** Entries of patches still applied (what `keyprov restore` would put back). */
export function pendingPatch(root: string): JournalEntry[] {
  return readJournal(root).entries;
}

/** Write the journal atomically; an empty journal is removed along with unreferenced backups. */
export function writeJournal(root: string, journal: Journal): void {
  const file = patchJournalPath(root);
  mkdirSync(path.dirname(file), { recursive: true });
  if (journal.entries.length === 0) {
    rmSync(file, { force: true });
  } else {
    writeFileAtomicSync(file, Buffer.from(JSON.stringify(journal, null, 2) + '\n'));
  }
  const keep = new Set(journal.entries.map((e) => path.basename(e.backup)));
  const dir = path.join(stateDir(root), BACKUP_DIR);
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) if (!keep.has(f)) rmSync(path.join(dir, f), { force: true });
  if (journal.entries.length === 0) rmSync(dir, { recursive: true, force: true });
}

/** Keep a copy of a file's original bytes; returns its path relative to the state folder. */
export function saveBackup(root: string, original: Buffer): string {
  const rel = path.join(BACKUP_DIR, `${sha256(original)}.orig`);
  const abs = path.join(stateDir(root), rel);
  if (!existsSync(abs)) {
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileAtomicSync(abs, original, 0o600);
  }
  return rel;
}

export function readBackup(root: string, entry: JournalEntry): Buffer {
  const abs = path.join(stateDir(root), entry.backup);
  let buf: Buffer;
  try {
    buf = readFileSync(abs);
  } catch {
    throw new KeyprovError('PATCH_BACKUP_MISSING', `the backup of ${entry.file} (${abs}) is missing`, {
      hint: `set ${entry.edits.map((e) => `${e.macro} back to ${e.from}`).join(', ')} by hand, then delete ${patchJournalPath(root)}`,
    });
  }
  if (sha256(buf) !== entry.originalSha256) {
    throw new KeyprovError('PATCH_BACKUP_CORRUPT', `the backup of ${entry.file} (${abs}) does not match its recorded hash`, {
      hint: `set ${entry.edits.map((e) => `${e.macro} back to ${e.from}`).join(', ')} by hand, then delete ${patchJournalPath(root)}`,
    });
  }
  return buf;
}
