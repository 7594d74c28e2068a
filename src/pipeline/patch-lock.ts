// The pipeline holds this lock while its keygen patch is in the tree. A lock whose
// process is gone means a keyprov run died (SIGKILL, power loss) between patching and
// restoring: the next keyprov command restores the source before anything else.
// A patch made by `keyprov patch` itself takes no lock: the user asked for it to stay.
import { existsSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { pipelinePatchLockPath, stateDir } from '../project.js';
import { writeFileAtomicSync } from '../source/atomic-sync.js';
import type { Logger } from '../log.js';

export interface PatchLock {
  pid: number;
  host: string;
  board?: string;
  startedAt: string;
}

export const patchLockPath = pipelinePatchLockPath;

export function acquirePatchLock(root: string, board?: string): void {
  mkdirSync(stateDir(root), { recursive: true });
  const lock: PatchLock = { pid: process.pid, host: hostname(), board, startedAt: new Date().toISOString() };
  writeFileAtomicSync(patchLockPath(root), Buffer.from(JSON.stringify(lock, null, 2) + '\n'));
}

export function releasePatchLock(root: string): void {
  rmSync(patchLockPath(root), { force: true });
}

export function readPatchLock(root: string): PatchLock | undefined {
  try {
    return JSON.parse(readFileSync(patchLockPath(root), 'utf8')) as PatchLock;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Restore the source when the run that patched it is gone. Returns whether it restored. */
export async function recoverInterruptedPatch(root: string, log: Logger): Promise<boolean> {
  if (!existsSync(patchLockPath(root))) return false;
  const lock = readPatchLock(root);
  if (lock && lock.host === hostname() && alive(lock.pid)) return false; // that run is still going
  const { restoreAll } = await import('../source/restore.js');
  const r = await restoreAll({ projectRoot: root, log });
  releasePatchLock(root);
  if (r.restored.length) {
    log.warn(
      `a keyprov run (pid ${lock?.pid ?? '?'}${lock?.board ? `, board ${lock.board}` : ''}, started ${lock?.startedAt ?? '?'}) ended without restoring its keygen patch; restored ${r.restored.map((f) => f.file).join(', ')} before going on`,
    );
  }
  return r.restored.length > 0;
}
