import path from 'node:path';
import { readFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { writeFileAtomic } from '../../util/fs-atomic.js';
import { ExitCode, UsageError } from '../../errors.js';
import { stampedResult, recordStamp, envReferences } from '../../render/input-stamp.js';
import { sha256 } from '../../render/banner.js';
import type { CommandContext, CommandResult } from '../context.js';

interface RenderArgv {
  certificate?: string;
  caCertificate?: string;
  outDir?: string;
  board?: string;
  check?: boolean;
  force?: boolean;
  importPrivateKey?: string;
  printInputs?: boolean;
  depfile?: string;
  depfileTarget?: string;
}

export async function run(ctx: CommandContext, argv: RenderArgv): Promise<CommandResult> {
  const abs = (p?: string) => (p === undefined ? undefined : path.resolve(ctx.cwd, p));
  const root = await ctx.projectRoot();
  const configFile = await ctx.configFile();
  const opts = {
    certificateFile: abs(argv.certificate),
    caCertificateFile: abs(argv.caCertificate),
    outDir: abs(argv.outDir),
    boardId: argv.board,
    importPrivateKeyFile: abs(argv.importPrivateKey),
  };
  if (argv.printInputs) {
    if (argv.check || argv.depfile) throw new UsageError('RENDER_BAD_OPTIONS', '--print-inputs renders nothing: it cannot be combined with --check or --depfile', { hint: 'run them as two commands' });
    return printInputs(ctx, root, configFile, opts);
  }
  const depfile = abs(argv.depfile);
  // As a pre-build step this usually has nothing to do: say so without parsing the config.
  const commandKey = JSON.stringify({ configFile: configFile ?? null, ...opts });
  // make runs this only when an input is newer than the depfile (e.g. a config saved unchanged):
  // the shortcut still answers, and the depfile is rewritten so that make sees it up to date.
  const hit = await stampedResult(root, commandKey, ctx.env);
  if (hit) {
    if (opts.importPrivateKeyFile) ctx.log.warn(`keyCLIENT_PRIVATE_KEY_PEM holds the private key from ${opts.importPrivateKeyFile}: the firmware destroys the key pair generated on the board`);
    ctx.log.info(`headers up to date in ${hit.dir}`);
    if (depfile && !ctx.dryRun) await writeDepfile(depfile, abs(argv.depfileTarget) ?? depfile, [...hit.inputs.files, ...hit.inputs.dirs]);
    const files = Object.keys(hit.outputs).map((p) => ({ path: p, written: false, stale: false }));
    return { data: { mode: hit.mode, dir: hit.dir, board: hit.board, files } };
  }

  const loaded = await ctx.loadConfig();
  const { renderHeaders } = await import('../../render/render.js');
  const res = await renderHeaders({ projectRoot: root, config: loaded?.config, check: argv.check, force: argv.force, dryRun: ctx.dryRun, log: ctx.log, ...opts });
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
  // Nothing is recorded by --dry-run, nor by --check when it found stale headers.
  if (!ctx.dryRun && (!argv.check || !stale.length)) {
    const configText = configFile ? await readFile(configFile, 'utf8') : '';
    const outputs: Record<string, string> = {};
    for (const f of res.files) outputs[f.path] = sha256(await readFile(f.path, 'utf8'));
    await recordStamp(
      root,
      commandKey,
      { files: [...(configFile ? [configFile] : []), ...res.inputs.files], dirs: res.inputs.dirs, env: envReferences(configText) },
      ctx.env,
      { mode: res.mode, dir: res.dir, board: res.boardId, outputs },
    );
  }
  if (depfile && !ctx.dryRun && exitCode === ExitCode.OK) {
    await writeDepfile(depfile, abs(argv.depfileTarget) ?? depfile, [...(configFile ? [configFile] : []), ...res.inputs.files, ...res.inputs.dirs]);
  }
  return { data: { mode: res.mode, dir: res.dir, board: res.boardId, files: res.files, ...(depfile ? { depfile } : {}) }, exitCode };
}

/** `--print-inputs`: the files the headers are made from, one absolute path a line, for
 *  CMake's DEPENDS. Reads no PEM, so it works before the certificate exists. */
async function printInputs(ctx: CommandContext, root: string, configFile: string | undefined, opts: { certificateFile?: string; caCertificateFile?: string; outDir?: string; boardId?: string; importPrivateKeyFile?: string }): Promise<CommandResult> {
  const loaded = await ctx.loadConfig();
  const { renderPlan } = await import('../../render/render.js');
  const plan = await renderPlan({ projectRoot: root, config: loaded?.config, ...opts });
  const inputs = [...(configFile ? [configFile] : []), ...plan.inputs.files];
  return { data: { board: plan.boardId, dir: plan.dir, config: configFile ?? null, outputs: plan.outputs, inputs }, text: inputs.join('\n') + '\n' };
}

/** A make-format depfile: `<target>: <inputs>`, plus an empty rule per input (a deleted input
 *  then re-runs the render, which names it, instead of make failing with "No rule").
 *  Always rewritten (new mtime): keyprov.mk includes it as a makefile whose target is itself,
 *  and make compares its mtime with the inputs'. CMake names its stamp as the target.
 *  No comment line: Ninja's depfile parser does not accept one. */
/**
 * A make depfile: the target depends on every input that exists (template folders too: a new
 * template file adds a header). A missing file is left out: make would treat it as always
 * changed and run keyprov on every build (e.g. .keyprov/aws-endpoint before any AWS registration).
 */
async function writeDepfile(file: string, target: string, candidates: string[]): Promise<void> {
  const inputs = [...new Set(candidates)].filter((p) => existsSync(p));
  const esc = (p: string) => p.replace(/([ #\\])/g, '\\$1').replace(/\$/g, '$$$$');
  const text = `${esc(target)}: ${inputs.map(esc).join(' \\\n  ')}\n` + inputs.map((i) => `${esc(i)}:\n`).join('');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, text);
}
