// Checks that run before every command (e.g. warning about a pending keygen patch).
// Kept in a list so each subsystem can add its own without touching main.ts.
import { existsSync } from 'node:fs';
import type { CommandContext } from './context.js';
import { patchJournalPath, pipelinePatchLockPath, projectRoot } from '../project.js';

export type BeforeCommandHook = (ctx: CommandContext, command: string) => Promise<void>;

/** A keygen patch left in the tree makes the board regenerate its key on every boot: say so loudly. */
async function warnPendingPatch(ctx: CommandContext, command: string): Promise<void> {
  if (command === 'restore') return; // it is about to fix exactly that
  let root: string;
  try {
    root = await ctx.projectRoot();
  } catch {
    root = projectRoot({ cwd: ctx.cwd }); // a broken config is reported by the command itself
  }
  if (!existsSync(patchJournalPath(root))) return; // the usual case: nothing to load
  let files: string[];
  try {
    const { pendingPatch } = await import('../source/journal.js');
    files = pendingPatch(root).map((e) => e.file);
  } catch {
    ctx.log.warn(`the keygen patch journal in ${root}/.keyprov is unreadable; run \`keyprov doctor\``);
    return;
  }
  if (!files.length) return;
  const { patchLockHeldByOther, describeHolder } = await import('../pipeline/patch-lock.js');
  const running = patchLockHeldByOther(root);
  // A live provisioning run restores its own patch at its restore step; `keyprov restore` now would spoil its keygen build.
  if (running) ctx.log.info(`${describeHolder(running)} has its keygen patch in ${files.join(', ')}; it restores the source itself`);
  else ctx.log.warn(`a keygen patch is still applied to ${files.join(', ')}; the board will regenerate its key on every boot. Run \`keyprov restore --only patch\`.`);
}

/** After a keyprov run was killed mid-way, put the source back before anything else runs. */
async function recoverKilledRun(ctx: CommandContext): Promise<void> {
  let root: string;
  try {
    root = await ctx.projectRoot();
  } catch {
    root = projectRoot({ cwd: ctx.cwd });
  }
  if (!existsSync(pipelinePatchLockPath(root))) return;
  const { recoverInterruptedPatch } = await import('../pipeline/patch-lock.js');
  if (ctx.dryRun) return void ctx.log.warn('a keyprov run ended without restoring its keygen patch; run `keyprov restore --only patch`');
  await recoverInterruptedPatch(root, ctx.log);
}

export const beforeCommandHooks: BeforeCommandHook[] = [recoverKilledRun, warnPendingPatch];
