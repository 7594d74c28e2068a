// The CLI entry point: the only place that prints errors and sets the exit code.
import yargs, { type Argv } from './yargs.js';
import { readFileSync } from 'node:fs';
import { ExitCode, isKeyprovError, UsageError } from '../errors.js';
import { CommandContext, type GlobalOptions } from './context.js';
import { commands, type CommandSpec } from './commands.js';
import { beforeCommandHooks } from './hooks.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function register(y: Argv<any>, spec: CommandSpec): Argv<any> {
  return y.command(
    spec.command,
    spec.describe,
    (sub: Argv<any>) => {
      let s = spec.builder ? spec.builder(sub) : sub;
      if (spec.subcommands) {
        for (const c of spec.subcommands) s = register(s, c);
        s = s.demandCommand(1, `choose a subcommand of "${spec.command}"`);
      }
      return s;
    },
    spec.load
      ? async (argv: Record<string, any>) => {
          const ctx = new CommandContext(argv as GlobalOptions);
          for (const hook of beforeCommandHooks) await hook(ctx, spec.command);
          const run = await spec.load!();
          const result = await run(ctx, argv);
          if (ctx.json) process.stdout.write(JSON.stringify({ ok: (result?.exitCode ?? 0) === 0, ...(result?.data ?? {}) }, null, 2) + '\n');
          else if (result?.text) process.stdout.write(result.text.endsWith('\n') ? result.text : result.text + '\n');
          process.exitCode = result?.exitCode ?? ExitCode.OK;
        }
      : undefined,
  );
}

export function buildParser(argv: string[]): Argv<any> {
  let y = yargs(argv)
    .scriptName('keyprov')
    .usage('keyprov <command> [options]\n\nProvision FreeRTOS boards with a certificate for the key they generated themselves.')
    .option('config', { type: 'string', describe: 'Config file (default: keyprov.config.yaml found walking up)', global: true })
    .option('json', { type: 'boolean', describe: 'Print one JSON result object on stdout; human output goes to stderr', global: true })
    .option('verbose', { type: 'boolean', describe: 'Show commands, tool output and stack traces', global: true })
    .option('quiet', { type: 'boolean', describe: 'Only warnings and errors', global: true })
    .option('color', { type: 'boolean', describe: 'Colour output (--no-color to disable)', global: true })
    .option('dry-run', { type: 'boolean', describe: 'Print what would be run or written; change nothing', global: true })
    .version(pkg.version)
    .help()
    .alias('h', 'help')
    .strict()
    .demandCommand(1, 'choose a command (see keyprov --help)')
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError('USAGE', msg ?? 'invalid command line', { hint: 'see keyprov --help' });
    });
  for (const c of commands) y = register(y, c);
  return y;
}

export async function main(argv: string[]): Promise<void> {
  const verbose = argv.includes('--verbose');
  const json = argv.includes('--json');
  try {
    await buildParser(argv).parseAsync();
  } catch (e) {
    report(e, { verbose, json });
  }
}

function report(e: unknown, opts: { verbose: boolean; json: boolean }): void {
  const err = process.stderr;
  if (isKeyprovError(e)) {
    err.write(`keyprov: error: ${e.message}\n`);
    if (e.hint) err.write(`hint: ${e.hint}\n`);
    if (opts.verbose && e.stack) err.write(e.stack + '\n');
    if (opts.json) process.stdout.write(JSON.stringify({ ok: false, error: e.toJSON() }, null, 2) + '\n');
    process.exitCode = e.exitCode;
    return;
  }
  const msg = e instanceof Error ? e.message : String(e);
  err.write(`keyprov: internal error: ${msg}\n`);
  err.write(opts.verbose && e instanceof Error && e.stack ? e.stack + '\n' : 'hint: run again with --verbose for the stack trace, and report it\n');
  if (opts.json) process.stdout.write(JSON.stringify({ ok: false, error: { code: 'INTERNAL', message: msg } }, null, 2) + '\n');
  process.exitCode = ExitCode.FAILURE;
}
