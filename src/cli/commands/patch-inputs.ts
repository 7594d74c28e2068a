// Where `patch` looks: --source/--macro when given, else the config's firmware section,
// else the project root. Works without a config file when --source is given.
import path from 'node:path';
import type { CommandContext } from '../context.js';

export interface PatchInputs {
  projectRoot: string;
  sources?: string[];
  searchRoot?: string;
  macros?: string[];
}

const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

export async function patchInputs(ctx: CommandContext, argv: { source?: string | string[]; macro?: string | string[] }): Promise<PatchInputs> {
  const loaded = await ctx.loadConfig();
  const fw = loaded?.config.firmware;
  const projectRoot = await ctx.projectRoot();
  const sources = list(argv.source).map((s) => path.resolve(ctx.cwd, s));
  const macros = list(argv.macro);
  return {
    projectRoot,
    sources: sources.length ? sources : fw?.provisioningSource ? list(fw.provisioningSource) : undefined,
    searchRoot: fw?.root ?? projectRoot,
    macros: macros.length ? macros : fw?.macros,
  };
}
