// `keyprov build --phase keygen|credential [--board ID]`
import path from 'node:path';
import type { CommandContext, CommandResult } from '../context.js';
import { runBuild, type BuildPhase } from '../../runners/build.js';
import { resolveBoard } from '../../config/boards.js';
import { boardFiles } from '../../project.js';

export async function run(ctx: CommandContext, argv: { phase?: BuildPhase; board?: string }): Promise<CommandResult> {
  const loaded = await ctx.requireConfig();
  const root = await ctx.projectRoot();
  // A build is per project unless a board is named; its log goes with the board when there is one.
  const board = argv.board !== undefined ? resolveBoard(loaded.config, argv.board).id : undefined;
  const logFile = board ? path.join(boardFiles(root, board).dir, `build-${argv.phase}.log`) : path.join(await ctx.stateDir(), `build-${argv.phase}.log`);
  const r = await runBuild({ build: loaded.config.build, phase: argv.phase as BuildPhase, board, cwd: root, log: ctx.log, dryRun: ctx.dryRun, verbose: ctx.verbose, logFile: ctx.dryRun ? undefined : logFile, env: ctx.env });
  if (!r.dryRun) ctx.log.ok(`built ${argv.phase} image in ${(r.durationMs / 1000).toFixed(1)} s${r.image ? `: ${r.image}` : ''}`);
  return { data: { ...r, logFile: r.dryRun ? undefined : logFile } };
}
