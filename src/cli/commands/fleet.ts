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
      if (b.flags.length) ctx.log.warn(`board ${b.board} is flagged: ${b.flags.join(', ')} (see \`keyprov fleet status\`${b.flags.includes('duplicate-key') ? '; after fixing it, `keyprov fleet clear-flag`' : ''})`);
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
  const { statusRows, toCsv, toTable, flagHistoryText } = await import('../../fleet/status.js');
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
    const flagHistory = ledger?.flagEvents() ?? [];
    const rows = statusRows(ledger?.all() ?? [], configured, flagHistory);
    const events = argv.events ? (ledger?.events() ?? []) : undefined;
    const flagged = rows.filter((r) => r.flags).length;
    if (flagged) ctx.log.warn(`${flagged} board(s) flagged (duplicate-key: the same key on two boards; key-changed: the key differs from the certified one)`);
    if (argv.csv) return { text: toCsv(rows), data: { boards: rows } };
    // The full event log (--events) already holds the flag history; otherwise show it on its own.
    const text = toTable(rows) + (events ? '\n\n' + events.map((e) => `${e.at}  ${e.boardId}  pid ${e.pid}  ${e.kind}${e.step ? ` ${e.step}` : ''}${e.detail ? `: ${e.detail}` : ''}`).join('\n') : flagHistory.length ? '\n\n' + flagHistoryText(flagHistory) : '');
    return { text, data: { boards: rows, flagHistory, ...(events ? { events } : {}) } };
  } finally {
    db?.close();
  }
}

interface ClearFlagArgv {
  board?: string[];
  flag?: string;
  reason?: string;
  force?: boolean;
}

/** Who is clearing: the login name and host, for the event (the pid and time are recorded anyway). */
async function whoAmI(env: NodeJS.ProcessEnv): Promise<string> {
  const os = await import('node:os');
  let user: string | undefined;
  try {
    user = os.userInfo().username;
  } catch {
    user = env.USER ?? env.LOGNAME;
  }
  return `${user || 'unknown'}@${os.hostname()}`;
}

export async function clearFlagCommand(ctx: CommandContext, argv: ClearFlagArgv): Promise<CommandResult> {
  const root = await ctx.projectRoot();
  const { existsSync } = await import('node:fs');
  const { UsageError } = await import('../../errors.js');
  const { openStore, storePath } = await import('../../store/db.js');
  const { FleetLedger } = await import('../../fleet/ledger.js');
  if (!existsSync(storePath(root))) throw new UsageError('FLEET_NO_LEDGER', `no fleet ledger in ${root} (no ${storePath(root)})`, { hint: 'run this in the project that ran `keyprov fleet provision`, or pass --config' });
  const boards = (argv.board ?? []).flatMap((b) => String(b).split(','));
  const by = await whoAmI(ctx.env);
  const db = openStore(storePath(root));
  try {
    const cleared = new FleetLedger(db).clearFlag(boards, argv.flag as never, { reason: argv.reason ?? '', by, force: argv.force, dryRun: ctx.dryRun });
    for (const c of cleared) {
      const what = `${c.flag} on ${c.boardId} (flags: ${c.flagsBefore.join(', ')} -> ${c.flagsAfter.join(', ') || 'none'})`;
      if (c.forced) ctx.log.warn(`${c.boardId}: --force${c.sharedWith.length ? `: its key is still the key of ${c.sharedWith.join(', ')}` : ''}`);
      if (ctx.dryRun) ctx.log.info(`would clear ${what}; event: unflagged ${c.detail}`);
      else ctx.log.ok(`cleared ${what}; recorded as an \`unflagged\` event`);
    }
    return { data: { dryRun: ctx.dryRun, flag: argv.flag, reason: (argv.reason ?? '').trim(), by, cleared } };
  } finally {
    db.close();
  }
}
