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
    command: 'build',
    describe: 'Run build.command for one phase (KEYPROV_PHASE=keygen|credential in its environment)',
    builder: (y) =>
      y
        .option('phase', { type: 'string', choices: ['keygen', 'credential'], demandOption: true, describe: 'Which image to build' })
        .option('board', { type: 'string', describe: 'Board being built for (exported as KEYPROV_BOARD)' }),
    load: async () => (await import('./commands/build.js')).run,
  },
  {
    command: 'flash',
    describe: "Flash an image to a board with its configured runner (flash.runner)",
    builder: (y) =>
      y
        .option('board', { type: 'string', describe: 'Board to flash (from boards[])' })
        .option('image', { type: 'string', describe: 'Image file (default: build.image)' }),
    load: async () => (await import('./commands/flash.js')).run,
  },
  {
    command: 'reset',
    describe: "Reset a board with its configured runner",
    builder: (y) => y.option('board', { type: 'string', describe: 'Board to reset (from boards[])' }),
    load: async () => (await import('./commands/flash.js')).runReset,
  },
];
