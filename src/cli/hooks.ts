// Checks that run before every command (e.g. warning about a pending keygen patch).
// Kept in a list so each subsystem can add its own without touching main.ts.
import { readFile } from 'node:fs/promises';
import type { CommandContext } from './context.js';
import { patchJournalPath, projectRoot } from '../project.js';

export type BeforeCommandHook = (ctx: CommandContext, command: string) => Promise<void>;

/** A keygen patch left in the tree makes the board regenerate its key on every boot: say so loudly. */
async function warnPendingPatch(ctx: CommandContext): Promise<void> {
  let root: string;
  try {
    root = await ctx.projectRoot();
  } catch {
    root = projectRoot({ cwd: ctx.cwd }); // a broken config is reported by the command itself
  }
  let journal: { entries?: { file: string }[] };
  try {
    journal = JSON.parse(await readFile(patchJournalPath(root), 'utf8'));
  } catch {
    return;
  }
  const files = (journal.entries ?? []).map((e) => e.file);
  if (files.length) ctx.log.warn(`a keygen patch is still applied to ${files.join(', ')}; the board will regenerate its key on every boot. Run \`keyprov restore\`.`);
}

export const beforeCommandHooks: BeforeCommandHook[] = [warnPendingPatch];
