// In-place mode overwrites headers in the source tree. Before the first overwrite, the
// original (or the fact that there was none) is saved in .keyprov/render-backup/, and
// `keyprov restore` puts it back through restoreRenderedHeaders().
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { stateDir } from '../project.js';
import type { Logger } from '../log.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { headerState, sha256 } from './banner.js';

export interface BackupEntry {
  /** The header in the source tree (absolute). */
  path: string;
  /** Saved copy, relative to the backup folder; absent when there was no original (restore deletes the header). */
  backup?: string;
  mode?: number;
  sha256?: string;
}

interface Manifest {
  version: 1;
  entries: BackupEntry[];
}

export function renderBackupDir(root: string): string {
  return path.join(stateDir(root), 'render-backup');
}

function manifestPath(root: string): string {
  return path.join(renderBackupDir(root), 'manifest.json');
}

async function readManifest(root: string): Promise<Manifest> {
  try {
    return JSON.parse(await fs.readFile(manifestPath(root), 'utf8')) as Manifest;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, entries: [] };
    throw e;
  }
}

/** Save `file`'s current content (or its absence) unless a backup of it already exists: the first original wins. */
export async function backupOriginal(root: string, file: string): Promise<boolean> {
  const m = await readManifest(root);
  const abs = path.resolve(file);
  if (m.entries.some((e) => e.path === abs)) return false;
  const dir = renderBackupDir(root);
  await fs.mkdir(dir, { recursive: true });
  let entry: BackupEntry = { path: abs };
  try {
    const [data, st] = await Promise.all([fs.readFile(abs), fs.stat(abs)]);
    const name = `${m.entries.length}-${path.basename(abs)}`;
    await writeFileAtomic(path.join(dir, name), data, { mode: st.mode & 0o7777, forceMode: true });
    entry = { path: abs, backup: name, mode: st.mode & 0o7777, sha256: sha256(data.toString('utf8')) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  m.entries.push(entry);
  await writeFileAtomic(manifestPath(root), JSON.stringify(m, null, 2) + '\n');
  return true;
}

export interface RestoreResult {
  restored: { path: string; action: 'restored' | 'removed' | 'kept' }[];
}

/**
 * Put back the headers that in-place rendering replaced. A header that is no longer keyprov's
 * output (someone wrote their own since) is kept, with a warning, and its backup left in place.
 */
export async function restoreRenderedHeaders(projectRoot: string, log: Logger, opts: { dryRun?: boolean } = {}): Promise<RestoreResult> {
  const m = await readManifest(projectRoot);
  const dir = renderBackupDir(projectRoot);
  const result: RestoreResult = { restored: [] };
  const left: BackupEntry[] = [];
  for (const e of m.entries) {
    let current: string | undefined;
    try {
      current = await fs.readFile(e.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (current !== undefined && headerState(current).kind === 'foreign' && (e.sha256 === undefined || sha256(current) !== e.sha256)) {
      log.warn(`${e.path} was replaced by a header keyprov did not write; keeping it (the original is in ${dir}${e.backup ? `/${e.backup}` : ''})`);
      result.restored.push({ path: e.path, action: 'kept' });
      left.push(e);
      continue;
    }
    if (e.backup) {
      if (!opts.dryRun) await writeFileAtomic(e.path, await fs.readFile(path.join(dir, e.backup)), { mode: e.mode, forceMode: e.mode !== undefined });
      log.info(`${opts.dryRun ? 'would restore' : 'restored'} ${e.path}`);
      result.restored.push({ path: e.path, action: 'restored' });
    } else {
      if (!opts.dryRun) await fs.rm(e.path, { force: true });
      log.info(`${opts.dryRun ? 'would remove' : 'removed'} ${e.path} (there was no header before keyprov rendered it)`);
      result.restored.push({ path: e.path, action: 'removed' });
    }
  }
  if (opts.dryRun) return result;
  if (left.length === 0) {
    await fs.rm(dir, { recursive: true, force: true });
  } else {
    for (const e of m.entries) if (!left.includes(e) && e.backup) await fs.rm(path.join(dir, e.backup), { force: true });
    await writeFileAtomic(manifestPath(projectRoot), JSON.stringify({ version: 1, entries: left }, null, 2) + '\n');
  }
  return result;
}
