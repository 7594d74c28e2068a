import type { CommandContext, CommandResult } from '../context.js';
import { ExitCode } from '../../errors.js';

interface ProvisionArgv {
  boards?: string;
  again?: string;
  parallel?: number;
  createCa?: boolean;
}

export async function provisionCommand(ctx: CommandContext, argv: ProvisionArgv): Promise<CommandResult> {
  const loaded = await ctx.requireConfig();
  const root = await ctx.projectRoot();
  const { provisionFleet } = await import('../../fleet/fleet.js');
  // SIGINT/SIGTERM: every board stops after its `always` steps; the ledger records where each stood.
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) return;
    ctx.log.warn(`${sig}: stopping every board; rerun \`keyprov fleet provision\` to continue`);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const boards = argv.boards === undefined || argv.boards === 'all' ? 'all' : argv.boards.split(',');
    const r = await provisionFleet({ projectRoot: root, loaded, boards, parallel: argv.parallel, createCa: argv.createCa, env: ctx.env, log: ctx.log, verbose: ctx.verbose, signal: ac.signal, dryRun: ctx.dryRun, again: argv.again?.split(',').map((a) => a.trim()).filter(Boolean) });
    if (ctx.dryRun) return { data: { fleet: r } };
    const count = (o: string) => r.boards.filter((b) => b.outcome === o).length;
    const summary = `${count('ok')} provisioned, ${count('already-done')} already done, ${count('failed')} failed${count('busy') ? `, ${count('busy')} busy` : ''}${count('interrupted') ? `, ${count('interrupted')} interrupted` : ''}; ${r.keygenBuilds} keygen build(s); ${(r.durationMs / 1000).toFixed(1)} s`;
    for (const b of r.boards) {
      if (b.outcome === 'failed' || b.outcome === 'busy') ctx.log.error(`board ${b.board}: ${b.error?.code}: ${b.error?.message}${b.error?.hint ? `\n  hint: ${b.error.hint}` : ''}`);
      if (b.flags.length) ctx.log.warn(`board ${b.board} is flagged: ${b.flags.join(', ')} (see \`keyprov fleet status\`)`);
    }
    if (r.ok) ctx.log.ok(`fleet: ${summary}`);
    else ctx.log.warn(`fleet: ${summary}; logs in .keyprov/boards/<id>/fleet.log; rerun to continue`);
    const interrupted = ac.signal.aborted;
    return { data: { fleet: r }, exitCode: r.ok ? ExitCode.OK : interrupted ? 130 : ExitCode.FAILURE };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

interface StatusArgv {
  csv?: boolean;
  events?: boolean;
}

export async function statusCommand(ctx: CommandContext, argv: StatusArgv): Promise<CommandResult> {
  const root = await ctx.projectRoot();
  const loaded = await ctx.loadConfig();
  const { openStore, storePath } = await import('../../store/db.js');
  const { FleetLedger } = await import('../../fleet/ledger.js');
  const { statusRows, toCsv, toTable } = await import('../../fleet/status.js');
  const { resolveBoard } = await import('../../config/boards.js');
  const configured = (loaded?.config.boards ?? []).map((b) => {
    const r = resolveBoard(loaded!.config, b.id);
    return { id: b.id, thing: r.thingName ?? b.id };
  });
  const { existsSync } = await import('node:fs');
  // No store yet: every configured board is new (and `status` creates nothing).
  const db = existsSync(storePath(root)) ? openStore(storePath(root)) : undefined;
  try {
    const ledger = db && new FleetLedger(db);
    const rows = statusRows(ledger?.all() ?? [], configured);
    const events = argv.events ? (ledger?.events() ?? []) : undefined;
    const flagged = rows.filter((r) => r.flags).length;
    if (flagged) ctx.log.warn(`${flagged} board(s) flagged (duplicate-key: the same key on two boards; key-changed: the key differs from the certified one)`);
    if (argv.csv) return { text: toCsv(rows), data: { boards: rows } };
    const text = toTable(rows) + (events ? '\n\n' + events.map((e) => `${e.at}  ${e.boardId}  pid ${e.pid}  ${e.kind}${e.step ? ` ${e.step}` : ''}${e.detail ? `: ${e.detail}` : ''}`).join('\n') : '');
    return { text, data: { boards: rows, ...(events ? { events } : {}) } };
  } finally {
    db?.close();
  }
}
