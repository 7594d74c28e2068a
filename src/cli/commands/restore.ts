import type { CommandContext, CommandResult } from '../context.js';
import type { Logger } from '../../log.js';

/** One entry per subsystem that leaves files to put back. Each returns a JSON-able summary. */
type Restorer = (root: string, log: Logger, dryRun: boolean) => Promise<Record<string, unknown>>;

const restorers: Record<string, Restorer> = {
  patch: async (root, log, dryRun) => ({ ...(await (await import('../../source/index.js')).restoreAll({ projectRoot: root, log, dryRun })) }),
  headers: async (root, log, dryRun) => ({ ...(await (await import('../../render/backup.js')).restoreRenderedHeaders(root, log, { dryRun })) }),
};

export async function run(ctx: CommandContext): Promise<CommandResult> {
  const root = await ctx.projectRoot();
  const data: Record<string, unknown> = {};
  // Run every restorer even when one fails: a failed patch restore must not keep headers from coming back.
  const errors: unknown[] = [];
  for (const [name, restore] of Object.entries(restorers)) {
    try {
      data[name] = await restore(root, ctx.log, ctx.dryRun);
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length) throw errors[0];
  const patch = data.patch as { restored: unknown[] };
  if (!patch.restored.length) ctx.log.info('no keygen patch to restore');
  return { data };
}
