// `keyprov flash [--board ID] [--image FILE]` and `keyprov reset [--board ID]`
import type { CommandContext, CommandResult } from '../context.js';
import { runRunner } from '../../runners/run.js';
import type { RunnerCommand } from '../../runners/base.js';
import { resolveBoard } from '../../config/boards.js';
import { boardFiles } from '../../project.js';
import path from 'node:path';

async function runOnBoard(ctx: CommandContext, command: RunnerCommand, argv: { board?: string; image?: string }): Promise<CommandResult> {
  const loaded = await ctx.requireConfig();
  const board = resolveBoard(loaded.config, argv.board);
  const root = await ctx.projectRoot();
  const logFile = path.join(boardFiles(root, board.id).dir, 'flash.log');
  const image = argv.image !== undefined ? path.resolve(ctx.cwd, argv.image) : loaded.config.build?.image;
  const r = await runRunner(command, {
    board,
    configDir: loaded.dir,
    image,
    log: ctx.log,
    dryRun: ctx.dryRun,
    verbose: ctx.verbose,
    logFile: ctx.dryRun ? undefined : logFile,
    env: ctx.env,
  });
  if (!r.dryRun) {
    const what = command === 'flash' ? `flashed ${image ?? 'the build output'} to` : `${command === 'reset' ? 'reset' : 'erased'}`;
    ctx.log.ok(`${what} board ${board.id} with ${r.runner} in ${(r.durationMs / 1000).toFixed(1)} s`);
  }
  return { data: { ...r, image: command === 'flash' ? image : undefined, logFile: r.dryRun ? undefined : logFile } };
}

export const run = (ctx: CommandContext, argv: { board?: string; image?: string }) => runOnBoard(ctx, 'flash', argv);
export const runReset = (ctx: CommandContext, argv: { board?: string }) => runOnBoard(ctx, 'reset', argv);
