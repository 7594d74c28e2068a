import path from 'node:path';
import { ExitCode } from '../../errors.js';
import { renderHeaders } from '../../render/render.js';
import type { CommandContext, CommandResult } from '../context.js';

interface RenderArgv {
  certificate?: string;
  caCertificate?: string;
  outDir?: string;
  board?: string;
  check?: boolean;
  force?: boolean;
  importPrivateKey?: string;
}

export async function run(ctx: CommandContext, argv: RenderArgv): Promise<CommandResult> {
  const loaded = await ctx.loadConfig();
  const abs = (p?: string) => (p === undefined ? undefined : path.resolve(ctx.cwd, p));
  const res = await renderHeaders({
    projectRoot: await ctx.projectRoot(),
    config: loaded?.config,
    boardId: argv.board,
    certificateFile: abs(argv.certificate),
    caCertificateFile: abs(argv.caCertificate),
    outDir: abs(argv.outDir),
    check: argv.check,
    force: argv.force,
    importPrivateKeyFile: abs(argv.importPrivateKey),
    dryRun: ctx.dryRun,
    log: ctx.log,
  });
  const stale = res.files.filter((f) => f.stale);
  let exitCode: number = ExitCode.OK;
  if (argv.check) {
    for (const f of stale) ctx.log.error(`stale: ${f.path} (${f.reason === 'missing' ? 'missing' : f.reason === 'edited' ? 'edited by hand' : f.reason === 'foreign' ? 'not written by keyprov' : 'differs from what the inputs give'})`);
    if (stale.length) {
      ctx.log.info('run `keyprov render` to bring the headers up to date');
      exitCode = ExitCode.FAILURE;
    } else ctx.log.info(`headers up to date in ${res.dir}`);
  } else if (!stale.length) {
    ctx.log.info(`headers up to date in ${res.dir}`);
  }
  return { data: { mode: res.mode, dir: res.dir, board: res.boardId, files: res.files }, exitCode };
}
