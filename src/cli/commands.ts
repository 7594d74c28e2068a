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
];
