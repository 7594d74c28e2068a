import type { CommandContext, CommandResult } from '../context.js';
import { caOverrides, caSummary } from './ca-options.js';

export async function run(ctx: CommandContext, argv: Record<string, any>): Promise<CommandResult> {
  const { createCa } = await import('../../pki/ca-create.js');
  const loaded = await ctx.loadConfig();
  const created = await createCa({
    projectRoot: await ctx.projectRoot(),
    config: loaded?.config,
    env: ctx.env,
    overrides: caOverrides(ctx.cwd, argv),
    algorithm: argv.algorithm,
    subject: argv.subject,
    days: argv.days,
    force: argv.force,
    log: ctx.log,
  });
  return {
    data: { backend: created.backend, certificate: created.certPath, key: created.keyLocation, encrypted: created.encrypted, ca: caSummary(created.certificate) },
  };
}
