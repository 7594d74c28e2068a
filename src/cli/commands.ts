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
    command: 'capture',
    describe: "Read the board's public key from its serial console (or a saved log), validate it, write DER, PEM and the console log",
    builder: (y) =>
      y
        .option('port', { type: 'string', requiresArg: true, describe: 'Console port: a device path, a /dev/serial/by-id link, a pty link, or "auto" (default: serial.port)' })
        .option('from-log', { type: 'string', requiresArg: true, describe: 'Read a saved console log instead of a port ("-" for stdin)' })
        .option('baud', { type: 'number', describe: 'Baud rate (default: serial.baud, else 115200)' })
        .option('reset', { type: 'string', choices: ['none', 'dtr', 'rts', 'dtr-rts', 'command'], describe: 'Reset the board after opening the port (default: serial.reset, else none)' })
        .option('timeout', { type: 'number', describe: 'Seconds to wait for the key (default: serial.timeout, else 60); extended when the board announces a wait' })
        .option('out', { type: 'string', describe: "Folder for device-public-key.der/.pem, console.log, capture.json (default: the board's state folder)" })
        .option('board', { type: 'string', describe: 'Board whose serial settings and state folder to use' })
        .conflicts('port', 'from-log'),
    load: async () => (await import('./commands/capture.js')).run,
  },
];
