// `keyprov images [--boards all|ID,...] [--jobs N] [--out dist] [--build-dir build] [--image PATH]`
import path from 'node:path';
import { ExitCode, UsageError } from '../../errors.js';
import type { CommandContext, CommandResult } from '../context.js';

interface ImagesArgv {
  boards?: string;
  jobs?: number;
  out?: string;
  buildDir?: string;
  image?: string;
}

export async function run(ctx: CommandContext, argv: ImagesArgv): Promise<CommandResult> {
  const loaded = await ctx.requireConfig();
  const root = await ctx.projectRoot();
  if (argv.jobs !== undefined && (!Number.isInteger(argv.jobs) || argv.jobs < 1)) {
    throw new UsageError('IMAGES_BAD_JOBS', `--jobs must be a whole number >= 1, got ${argv.jobs}`, { hint: 'e.g. --jobs 4' });
  }
  const boards = !argv.boards || argv.boards === 'all' ? 'all' : argv.boards.split(',').map((s) => s.trim()).filter(Boolean);
  const { buildImages } = await import('../../images/images.js');
  const res = await buildImages({
    projectRoot: root,
    config: loaded.config,
    boards,
    jobs: argv.jobs,
    outDir: argv.out ? path.resolve(ctx.cwd, argv.out) : undefined,
    buildDir: argv.buildDir ? path.resolve(ctx.cwd, argv.buildDir) : undefined,
    image: argv.image,
    log: ctx.log,
    dryRun: ctx.dryRun,
    verbose: ctx.verbose,
    env: ctx.env,
  });
  if (!res.dryRun) {
    if (res.failed.length) ctx.log.error(`${res.failed.length} of ${res.failed.length + res.boards.length} boards failed: ${res.failed.map((f) => f.board).join(', ')} (see build/<board>/build.log)`);
    else ctx.log.ok(`${res.boards.length} image${res.boards.length === 1 ? '' : 's'} in ${res.outDir} (manifest ${res.manifest})`);
  }
  return {
    data: { outDir: res.outDir, manifest: res.manifest, cflags: res.cflags, boards: res.boards, failed: res.failed, dryRun: res.dryRun },
    exitCode: res.failed.length ? ExitCode.TOOL_FAILED : ExitCode.OK,
  };
}
