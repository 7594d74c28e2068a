// Every command keyprov has, declared in one place. Options are declared here (cheap);
// the implementation is imported only when the command runs, so `--help` stays fast.
import type { Argv } from './yargs.js';
import type { CommandContext, CommandResult } from './context.js';

export type CommandRun = (ctx: CommandContext, argv: Record<string, any>) => Promise<CommandResult | void>;

export interface CommandSpec {
  command: string;
  describe: string;
  builder?: (y: Argv) => Argv<any>;
  /** Lazily loads the implementation. Absent for a command group (it has `subcommands`). */
  load?: () => Promise<CommandRun>;
  subcommands?: CommandSpec[];
}

export const commands: CommandSpec[] = [
  {
    command: 'init',
    describe: 'Find the provisioning source, header folder and build system in a firmware tree and write a starter keyprov.config.yaml',
    builder: (y) =>
      y
        .option('dir', { type: 'string', describe: 'Firmware tree to inspect (default: current directory)' })
        .option('force', { type: 'boolean', default: false, describe: 'Overwrite an existing config file' }),
    load: async () => (await import('./commands/init.js')).run,
  },
  {
    command: 'doctor',
    describe: 'Check Node, the config, build and flash tools, the serial port, the CA and leftover keygen patches',
    builder: (y) => y.option('board', { type: 'string', describe: 'Board whose port and probe to check' }),
    load: async () => (await import('./commands/doctor.js')).run,
  },
  {
    command: 'patch',
    describe: 'Set the keygen switch (keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR) for the keygen (1) or credential (0) build; journaled so `keyprov restore` can undo it',
    builder: (y) =>
      y
        .option('phase', { choices: ['keygen', 'credential'] as const, describe: 'keygen: set the switch to 1 (journaled). credential: restore the journal and make sure the switch is 0' })
        .option('source', { type: 'string', array: true, describe: 'File defining the switch (repeatable). Default: firmware.provisioningSource, else a search of firmware.root or the project' })
        .option('macro', { type: 'string', array: true, describe: 'Name of the switch macro (repeatable). Default: firmware.macros, else keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR and FORCE_GENERATE_NEW_KEY_PAIR' })
        .option('mode', { choices: ['edit', 'guard'] as const, default: 'edit', describe: 'edit: change the value in place. guard: wrap the definition once in #ifndef NAME (default 0) so the phase becomes a compile definition' })
        .option('print-cflags', { type: 'boolean', describe: 'Print the compile definition for --phase (e.g. -DNAME=1) on stdout; needs a guarded source (--mode guard)' })
        .option('keygen-delay', {
          type: 'number',
          describe:
            'keygen build only: set DELAY_BEFORE_KEY_PAIR_GENERATION_SECS (firmware default 180) to SECONDS; restored with the rest. The firmware waits before generating because a board reset during the next flash can boot the old keygen image once more and regenerate the key, so the certificate would no longer match. Shorten it only when nothing resets the board before the credential image is flashed',
        })
        .example('keyprov patch --phase keygen', 'set the switch to 1 for the keygen build')
        .example('keyprov patch --phase credential', 'put the source back and make sure the switch is 0')
        .example('keyprov patch --mode guard && keyprov patch --phase keygen --print-cflags', 'guard once, then build with -DNAME=1'),
    load: async () => (await import('./commands/patch.js')).run,
  },
  {
    command: 'restore',
    describe: 'Put back every file keyprov patched (byte for byte; values only when the file was edited since)',
    load: async () => (await import('./commands/restore.js')).run,
  },
];
