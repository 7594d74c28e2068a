// `keyprov cmake-module-path`: where the package's build-system glue lives.
import { fileURLToPath } from 'node:url';
import type { CommandContext, CommandResult } from '../context.js';

/** The package's cmake/ folder (Keyprov.cmake, keyprov.mk), from dist/cli/commands/ or src/cli/commands/. */
export const CMAKE_MODULE_DIR = fileURLToPath(new URL('../../../cmake', import.meta.url));

export async function run(_ctx: CommandContext): Promise<CommandResult> {
  return { data: { path: CMAKE_MODULE_DIR }, text: CMAKE_MODULE_DIR + '\n' };
}
