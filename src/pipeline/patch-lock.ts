// A provisioning run holds this lock while its keygen patch is in the tree and while it
// builds in the tree, so two keyprov runs in one project cannot interleave: one run's
// restore must not land in the middle of another's keygen build, and one run's keygen
// patch must not end up in another's credential image (that board would regenerate its
// key on every boot). A second run waits, and says for whom.
// A lock whose process is gone means a keyprov run died (SIGKILL, power loss) between
// patching and restoring: the next keyprov command restores the source before anything else.
// A patch made by `keyprov patch` itself takes no lock: the user asked for it to stay.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { pipelinePatchLockPath, stateDir } from '../project.js';
import { KeyprovError } from '../errors.js';
import type { Logger } from '../log.js';

export interface PatchLock {
  pid: number;
  host: string;
  board?: string;
  startedAt: string;
}

export const patchLockPath = pipelinePatchLockPath;

export interface AcquireOptions {
  log: Logger;
  signal?: AbortSignal;
  /** How often to look again while another run holds the lock (ms). */
  pollMs?: number;
}

/** Take the lock, waiting while another live keyprov run holds it. Re-entrant within one process. */
export async function acquirePatchLock(root: string, board: string | undefined, opts: AcquireOptions): Promise<void> {
  mkdirSync(stateDir(root), { recursive: true });
  const file = patchLockPath(root);
  let said = false;
  for (;;) {
    const lock: PatchLock = { pid: process.pid, host: hostname(), board, startedAt: new Date().toISOString() };
    try {
      // O_EXCL: of two runs that find the lock free, only one creates it.
      const fd = openSync(file, 'wx', 0o644);
      try {
        writeSync(fd, JSON.stringify(lock, null, 2) + '\n');
      } finally {
        closeSync(fd);
      }
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const held = readPatchLock(root);
    if (held && held.pid === process.pid && held.host === hostname()) return; // ours already
    if (held && held.host !== hostname()) {
      // Its pid means nothing here, so whether that run is still going cannot be told: ask.
      throw new KeyprovError('PATCH_LOCKED_ELSEWHERE', `${describeHolder(held)} holds the source-tree lock ${file}`, {
        hint: `wait for that run to finish; if it is gone, run \`keyprov restore\` there (or check the source with \`keyprov doctor\`) and delete ${file}`,
      });
    }
    if (held && lockHolderAlive(held)) {
      if (opts.signal?.aborted) throw new KeyprovError('INTERRUPTED', 'interrupted while waiting for another keyprov run to leave the source tree', { exitCode: 130 });
      if (!said) opts.log.info(`waiting for ${describeHolder(held)}: its keygen patch or build is in the source tree (${file})`);
      said = true;
      await sleep(opts.pollMs ?? 200);
      continue;
    }
    if (!held) {
      // Just created by another run that has not written it yet, or left empty by a crash.
      await sleep(opts.pollMs ?? 200);
      if (readPatchLock(root)) continue;
    }
    // Left by a dead run: put its patch back, then take over (O_EXCL on the retry keeps two takers apart).
    await recoverInterruptedPatch(root, opts.log);
  }
}

/** Give the lock up, if this process holds it. */
export function releasePatchLock(root: string): void {
  const held = readPatchLock(root);
  if (held && held.pid === process.pid && held.host === hostname()) rmSync(patchLockPath(root), { force: true });
}

export function readPatchLock(root: string): PatchLock | undefined {
  try {
    return JSON.parse(readFileSync(patchLockPath(root), 'utf8')) as PatchLock;
  } catch {
    return undefined;
  }
}

/** Whether the run that holds the lock is still going (a lock from another host counts as alive: its pid means nothing here). */
export function lockHolderAlive(lock: PatchLock): boolean {
  if (lock.host !== hostname()) return true;
  if (lock.pid === process.pid) return true;
  try {
    process.kill(lock.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock of another live keyprov run, if there is one. */
export function patchLockHeldByOther(root: string): PatchLock | undefined {
  const held = readPatchLock(root);
  if (!held || (held.pid === process.pid && held.host === hostname())) return undefined;
  return lockHolderAlive(held) ? held : undefined;
}

export function describeHolder(lock: PatchLock): string {
  return `keyprov pid ${lock.pid}${lock.host !== hostname() ? ` on ${lock.host}` : ''}${lock.board ? ` (board ${lock.board})` : ''}, started ${lock.startedAt}`;
}

/** Restore the source when the run that patched it is gone. Returns whether it restored. */
export async function recoverInterruptedPatch(root: string, log: Logger): Promise<boolean> {
  if (!existsSync(patchLockPath(root))) return false;
  const lock = readPatchLock(root);
  if (lock && lockHolderAlive(lock)) return false; // that run is still going
  const { restoreAll } = await import('../source/restore.js');
  const r = await restoreAll({ projectRoot: root, log });
  // Remove only the dead run's lock: another waiting run may have taken over meanwhile.
  const now = readPatchLock(root);
  if (!now || (now.pid === lock?.pid && now.startedAt === lock?.startedAt)) rmSync(patchLockPath(root), { force: true });
  if (r.restored.length) {
    log.warn(
      `a keyprov run (pid ${lock?.pid ?? '?'}${lock?.board ? `, board ${lock.board}` : ''}, started ${lock?.startedAt ?? '?'}) ended without restoring its keygen patch; restored ${r.restored.map((f) => f.file).join(', ')} before going on`,
    );
  }
  return r.restored.length > 0;
}
