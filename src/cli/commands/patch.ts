import { UsageError } from '../../errors.js';
import { Logger } from '../../log.js';
import type { CommandContext, CommandResult } from '../context.js';
import { patchInputs } from './patch-inputs.js';

interface PatchArgv {
  phase?: 'keygen' | 'credential';
  source?: string[];
  macro?: string[];
  mode?: 'edit' | 'guard';
  printCflags?: boolean;
  keygenDelay?: number;
}

export async function run(ctx: CommandContext, argv: PatchArgv): Promise<CommandResult> {
  const { applyPhase, phaseCflags } = await import('../../source/index.js');
  const inputs = await patchInputs(ctx, argv);
  const mode = argv.mode ?? 'edit';
  if (!argv.phase && argv.printCflags) throw new UsageError('PATCH_PHASE_MISSING', '--print-cflags needs --phase keygen or --phase credential', { hint: 'e.g. keyprov patch --phase keygen --print-cflags' });
  if (!argv.phase && mode !== 'guard') throw new UsageError('PATCH_PHASE_MISSING', 'say which build this is: --phase keygen or --phase credential', { hint: 'or pass --mode guard to make the phase a compile definition' });
  const phase = argv.phase ?? 'credential';

  if (argv.printCflags && mode === 'edit') {
    if (argv.keygenDelay !== undefined) throw new UsageError('PATCH_OPTIONS_CONFLICT', '--print-cflags changes no file, so --keygen-delay has no effect with it', { hint: 'drop one of them' });
    const r = await phaseCflags({ ...inputs, phase });
    return { data: { phase, ...r }, text: r.cflags.join(' ') };
  }
  if (mode === 'edit' && !ctx.dryRun) await refuseWhileProvisioning(ctx, () => applyPhase({ ...inputs, phase, mode, keygenDelaySeconds: argv.keygenDelay, dryRun: true, log: new Logger({ stream: { write: () => true } }) }));
  const r = await applyPhase({ ...inputs, phase, mode, keygenDelaySeconds: argv.keygenDelay, dryRun: ctx.dryRun, log: ctx.log });
  if (r.phase === 'keygen' && r.mode === 'edit' && r.changes.length && !ctx.dryRun) {
    ctx.log.warn(`the source now builds a KEYGEN image; run \`keyprov patch --phase credential\` or \`keyprov restore\` after flashing it`);
  }
  return { data: { ...r }, text: argv.printCflags ? r.cflags.join(' ') : undefined };
}

/**
 * A running `keyprov provision` holds the source tree (pipeline/patch-lock.ts): a patch that
 * would change a file now would end up in its build or undo its keygen patch. A patch that
 * changes nothing (e.g. a build script of that very run re-applying its phase) is fine.
 */
async function refuseWhileProvisioning(ctx: CommandContext, plan: () => Promise<{ changes: unknown[] }>): Promise<void> {
  const root = await ctx.projectRoot();
  const { patchLockHeldByOther, describeHolder, patchLockPath } = await import('../../pipeline/patch-lock.js');
  const running = patchLockHeldByOther(root);
  if (!running || !(await plan()).changes.length) return;
  throw new UsageError('PATCH_IN_USE', `${describeHolder(running)} is using the source tree (${patchLockPath(root)}); patching now would change the source under its build`, {
    hint: 'wait for that run to finish (it restores the source itself), or stop it first',
  });
}
