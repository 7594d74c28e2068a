import { UsageError } from '../../errors.js';
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
  const r = await applyPhase({ ...inputs, phase, mode, keygenDelaySeconds: argv.keygenDelay, dryRun: ctx.dryRun, log: ctx.log });
  if (r.phase === 'keygen' && r.mode === 'edit' && r.changes.length && !ctx.dryRun) {
    ctx.log.warn(`the source now builds a KEYGEN image; run \`keyprov patch --phase credential\` or \`keyprov restore\` after flashing it`);
  }
  return { data: { ...r }, text: argv.printCflags ? r.cflags.join(' ') : undefined };
}
