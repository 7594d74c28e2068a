import path from 'node:path';
import { KeyprovError, UsageError } from '../../errors.js';
import { CONFIG_NAMES } from '../../config/load.js';
import { discover } from '../../init/discover.js';
import { starterConfig } from '../../init/starter-config.js';
import { exists, writeFileAtomic } from '../../util/fs-atomic.js';
import { DEFAULT_KEYGEN_MACROS } from '../../config/sections/firmware.js';
import type { CommandContext, CommandResult } from '../context.js';

export async function run(ctx: CommandContext, argv: { dir?: string; force?: boolean }): Promise<CommandResult> {
  const root = path.resolve(ctx.cwd, argv.dir ?? '.');
  const configFile = ctx.configPath ?? path.join(root, CONFIG_NAMES[0]!);
  for (const name of ctx.configPath ? [configFile] : CONFIG_NAMES.map((n) => path.join(root, n))) {
    if ((await exists(name)) && !argv.force) {
      throw new UsageError('CONFIG_EXISTS', `${name} already exists; not overwriting it`, { hint: 'pass --force to replace it, or edit it by hand' });
    }
  }
  const d = await discover(root);
  if (d.macroDefinitions.length === 0) {
    throw new KeyprovError(
      'INIT_NO_MACRO',
      `no #define of ${DEFAULT_KEYGEN_MACROS.join(' or ')} found in the ${d.filesScanned} .c/.h files under ${root} (skipped .git, node_modules and build folders); nothing written`,
      { hint: 'run `keyprov init --dir <firmware tree>` (the tree holding aws_dev_mode_key_provisioning.c), or write keyprov.config.yaml by hand with firmware.provisioningSource' },
    );
  }
  for (const m of d.macroDefinitions) ctx.log.info(`found ${m.macro} ${m.value} at ${path.relative(root, m.file)}:${m.line}`);
  if (d.switch) {
    ctx.log.info(`keygen switch: ${path.relative(root, d.switch.file)}:${d.switch.line}${d.switch.aliases.length ? ` (${d.switch.aliases.map((a) => `${path.relative(root, a.file)}:${a.line}`).join(', ')} forwards to it)` : ''}`);
  } else if (d.switchProblem) {
    ctx.log.warn(`provisioningSource left unset: ${d.switchProblem.message}; set firmware.provisioningSource to the file(s) your build uses`);
  }
  if (d.headerDirs.length) ctx.log.info(`credential headers in ${d.headerDirs.map((h) => path.relative(root, h) || '.').join(', ')}`);
  ctx.log.info(`build system: ${d.buildSystems.join(', ') || 'none detected'}`);
  const text = starterConfig(path.dirname(configFile), d);
  if (ctx.dryRun) {
    ctx.log.info(`would write ${configFile}`);
    return { data: { configFile, written: false, discovery: d }, text };
  }
  await writeFileAtomic(configFile, text);
  ctx.log.ok(`wrote ${configFile}`);
  return { data: { configFile, written: true, discovery: d } };
}
