import { runChecks, type CheckStatus } from '../../doctor/checks.js';
import type { CommandContext, CommandResult } from '../context.js';

export async function run(ctx: CommandContext, argv: { board?: string }): Promise<CommandResult> {
  const checks = await runChecks(ctx, { board: argv.board });
  const mark: Record<CheckStatus, string> = { ok: 'ok     ', warn: 'warn   ', problem: 'PROBLEM', skip: 'skip   ' };
  for (const c of checks) {
    const line = `${mark[c.status]} ${c.check}: ${c.detail}${c.fix && c.status !== 'ok' ? `\n        fix: ${c.fix}` : ''}`;
    if (c.status === 'problem') ctx.log.info(ctx.log.paint('red', line));
    else if (c.status === 'warn') ctx.log.info(ctx.log.paint('yellow', line));
    else ctx.log.info(line);
  }
  const problems = checks.filter((c) => c.status === 'problem').length;
  ctx.log.info(problems ? `${problems} problem(s) found` : 'no problems found');
  return { data: { checks, problems }, exitCode: problems ? 1 : 0 };
}
