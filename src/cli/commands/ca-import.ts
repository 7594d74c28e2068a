import path from 'node:path';
import type { CommandContext, CommandResult } from '../context.js';
import { caOverrides, caSummary } from './ca-options.js';

export async function run(ctx: CommandContext, argv: Record<string, any>): Promise<CommandResult> {
  const { importCa } = await import('../../pki/ca-import.js');
  const loaded = await ctx.loadConfig();
  const imported = await importCa({
    projectRoot: await ctx.projectRoot(),
    config: loaded?.config,
    env: ctx.env,
    overrides: caOverrides(ctx.cwd, { passphraseEnv: argv.passphraseEnv }),
    certFile: path.resolve(ctx.cwd, argv.cert),
    keyFile: path.resolve(ctx.cwd, argv.key),
    force: argv.force,
    log: ctx.log,
  });
  return { data: { certificate: imported.certPath, key: imported.keyPath, encrypted: imported.encrypted, ca: caSummary(imported.certificate) } };
}
