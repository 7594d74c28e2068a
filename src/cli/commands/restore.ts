import type { CommandContext, CommandResult } from '../context.js';
import type { Logger } from '../../log.js';
import { UsageError } from '../../errors.js';

/** One entry per subsystem that leaves files to put back. Each returns a JSON-able summary. */
type Restorer = (root: string, log: Logger, dryRun: boolean) => Promise<Record<string, unknown>>;

const restorers: Record<string, Restorer> = {
  patch: async (root, log, dryRun) => ({ ...(await (await import('../../source/index.js')).restoreAll({ projectRoot: root, log, dryRun })) }),
  headers: async (root, log, dryRun) => ({ ...(await (await import('../../render/backup.js')).restoreRenderedHeaders(root, log, { dryRun })) }),
};

export async function run(ctx: CommandContext, argv: { force?: boolean; only?: 'patch' | 'headers' } = {}): Promise<CommandResult> {
  const root = await ctx.projectRoot();
  const { patchLockHeldByOther, describeHolder, patchLockPath } = await import('../../pipeline/patch-lock.js');
  const running = patchLockHeldByOther(root);
  if (running && !argv.force) {
    throw new UsageError('PATCH_IN_USE', `${describeHolder(running)} is using the source tree (${patchLockPath(root)}); restoring now would change the source under its build`, {
      hint: 'it restores the source itself at its restore step (also on Ctrl-C); wait for it or stop it, or pass --force',
    });
  }
  const data: Record<string, unknown> = {};
  // Run every restorer even when one fails: a failed patch restore must not keep headers from coming back.
  const errors: unknown[] = [];
  for (const [name, restore] of Object.entries(restorers)) {
    if (argv.only && argv.only !== name) continue;
    try {
      data[name] = await restore(root, ctx.log, ctx.dryRun);
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length) throw errors[0];
  const patch = data.patch as { restored: unknown[] } | undefined;
  if (patch && !patch.restored.length) ctx.log.info('no keygen patch to restore');
  return { data };
}
