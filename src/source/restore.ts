// Putting patched files back. A file that still holds exactly what keyprov wrote gets its
// original bytes back; a file edited since keeps those edits and only the macro values
// keyprov changed are set back (and keyprov says so). Synchronous at its core so that a
// SIGINT handler or an exit hook can run it to completion.
import { existsSync, readFileSync } from 'node:fs';
import { KeyprovError } from '../errors.js';
import type { Logger } from '../log.js';
import { patchJournalPath } from '../project.js';
import { writeFileAtomicSync } from './atomic-sync.js';
import { findDefinitions } from './definitions.js';
import { readBackup, readJournal, sha256, writeJournal, type JournalEntry } from './journal.js';
import { loadCParser, loadedCParser } from './parser.js';
import { spliceBytes } from './value.js';

export type RestoreHow = 'bytes' | 'values' | 'already-original' | 'recreated';

export interface RestoredFile {
  file: string;
  how: RestoreHow;
  edits: { macro: string; line: number; value: string }[];
}

export interface RestoreResult {
  restored: RestoredFile[];
  /** Entries that could not be restored; they stay in the journal. */
  failed: { file: string; reason: string }[];
}

export interface RestoreOptions {
  projectRoot: string;
  log: Logger;
  dryRun?: boolean;
  /** Restore only these files (absolute paths); the other entries stay in the journal. */
  onlyFiles?: string[];
}

/** Set the journaled macros of an edited file back to their original values, or explain why not. */
function restoreValues(entry: JournalEntry, current: Buffer): { buf: Buffer } | { reason: string } {
  const parser = loadedCParser();
  if (!parser) return { reason: 'the file was edited since the patch and the C parser is not loaded (run `keyprov restore`)' };
  let buf = current;
  // Each edit re-parses the bytes, so offsets always match the buffer being changed.
  for (const edit of entry.edits) {
    const defs = findDefinitions(parser, entry.file, buf, [edit.macro]).filter((d) => d.active);
    if (defs.some((d) => d.unparsable)) return { reason: `the file was edited since the patch and the C parser cannot read the definition of ${edit.macro}` };
    if (defs.length !== 1) return { reason: `the file was edited since the patch and now has ${defs.length} active definitions of ${edit.macro}` };
    const d = defs[0];
    if (d.value === edit.from) continue;
    if (d.value !== edit.to) return { reason: `the file was edited since the patch and ${edit.macro} (line ${d.line}) is now \`${d.value}\`, neither keyprov's \`${edit.to}\` nor the original \`${edit.from}\`` };
    buf = spliceBytes(buf, d.valueStart, d.valueEnd, edit.from);
  }
  return { buf };
}

function restoreEntry(root: string, entry: JournalEntry, log: Logger, dryRun: boolean): RestoredFile | { reason: string } {
  const edits = entry.edits.map((e) => ({ macro: e.macro, line: e.line, value: e.from }));
  if (!existsSync(entry.file)) {
    const original = readBackup(root, entry);
    if (!dryRun) writeFileAtomicSync(entry.file, original, entry.mode);
    log.warn(`${entry.file} was missing; recreated it from the backup`);
    return { file: entry.file, how: 'recreated', edits };
  }
  const current = readFileSync(entry.file);
  const sum = sha256(current);
  if (sum === entry.originalSha256) return { file: entry.file, how: 'already-original', edits };
  if (sum === entry.patchedSha256) {
    const original = readBackup(root, entry);
    if (!dryRun) writeFileAtomicSync(entry.file, original);
    return { file: entry.file, how: 'bytes', edits };
  }
  const r = restoreValues(entry, current);
  if ('reason' in r) return r;
  if (!dryRun && !r.buf.equals(current)) writeFileAtomicSync(entry.file, r.buf);
  log.warn(`${entry.file} was edited since keyprov patched it: set back only ${entry.edits.map((e) => `${e.macro} = ${e.from}`).join(', ')} and kept the other edits`);
  return { file: entry.file, how: 'values', edits };
}

/**
 * Restore every journaled file, synchronously. Byte-for-byte restores never need the
 * parser; an edited file needs it loaded already (restoreAll loads it first).
 * Throws RESTORE_INCOMPLETE after restoring what it could.
 */
export function restoreAllSync(opts: RestoreOptions): RestoreResult {
  const { projectRoot: root, log } = opts;
  const journal = readJournal(root);
  const result: RestoreResult = { restored: [], failed: [] };
  const remaining: JournalEntry[] = [];
  for (const entry of journal.entries) {
    if (opts.onlyFiles && !opts.onlyFiles.includes(entry.file)) {
      remaining.push(entry);
      continue;
    }
    let r: RestoredFile | { reason: string };
    try {
      r = restoreEntry(root, entry, log, !!opts.dryRun);
    } catch (e) {
      r = { reason: (e as Error).message };
    }
    if ('reason' in r) {
      result.failed.push({ file: entry.file, reason: r.reason });
      remaining.push(entry);
    } else {
      result.restored.push(r);
      log.ok(`${opts.dryRun ? 'would restore' : 'restored'} ${r.file} (${r.how === 'bytes' ? 'byte for byte' : r.how === 'values' ? 'values only' : r.how})`);
    }
  }
  if (!opts.dryRun && journal.entries.length) writeJournal(root, { version: 1, entries: remaining });
  if (result.failed.length) {
    throw new KeyprovError('RESTORE_INCOMPLETE', `could not restore ${result.failed.map((f) => `${f.file} (${f.reason})`).join('; ')}`, {
      hint: `fix the value by hand (the original bytes are in the backup named in ${patchJournalPath(root)}), then run \`keyprov restore\` again`,
      details: { ...result },
    });
  }
  return result;
}

/** Restore every journaled file (loads the C parser first when a file was edited since). */
export async function restoreAll(opts: RestoreOptions): Promise<RestoreResult> {
  const entries = readJournal(opts.projectRoot).entries.filter((e) => !opts.onlyFiles || opts.onlyFiles.includes(e.file));
  const edited = entries.some((e) => {
    const s = currentSha(e.file);
    return s !== undefined && s !== e.originalSha256 && s !== e.patchedSha256;
  });
  if (edited) await loadCParser();
  return restoreAllSync(opts);
}

/** sha256 of a file's current bytes, undefined when it cannot be read. */
export function currentSha(file: string): string | undefined {
  try {
    return sha256(readFileSync(file));
  } catch {
    return undefined;
  }
}
