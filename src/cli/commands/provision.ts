import type { CommandContext, CommandResult } from '../context.js';
import { provision } from '../../pipeline/provision.js';

interface Argv {
  board?: string;
  from?: string;
  keygen?: 'auto' | 'force';
  createCa?: boolean;
  reissue?: boolean;
}

export async function run(ctx: CommandContext, argv: Argv): Promise<CommandResult> {
  const loaded = await ctx.requireConfig();
  const root = await ctx.projectRoot();
  // SIGINT/SIGTERM stop the run; the `restore` step still runs before keyprov exits (130).
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) return;
    ctx.log.warn(`${sig}: stopping after restoring the source`);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const report = await provision({
      projectRoot: root,
      loaded,
      boardId: argv.board,
      from: argv.from,
      keygen: argv.keygen,
      createCa: argv.createCa,
      reissue: argv.reissue,
      dryRun: ctx.dryRun,
      verbose: ctx.verbose,
      env: ctx.env,
      log: ctx.log,
      signal: ac.signal,
    });
    const total = ((report.durationMs ?? 0) / 1000).toFixed(1);
    if (!ctx.dryRun) ctx.log.ok(`board ${report.board} connected with mutual TLS as thing ${report.thingName} (certificate serial ${report.certificate?.serial ?? '?'}, ${total} s)`);
    return { data: { report } };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
