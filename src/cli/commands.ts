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
    command: 'render',
    describe: 'Write aws_clientcredential.h and aws_clientcredential_keys.h from the certificate and the config (only when they change)',
    builder: (y) =>
      y
        .option('certificate', { type: 'string', describe: 'Device certificate PEM (default: .keyprov/boards/<board>/device-cert.pem)' })
        .option('ca-certificate', { type: 'string', describe: 'CA certificate PEM for keyJITR_DEVICE_CERTIFICATE_AUTHORITY_PEM (turns JITR on; default with render.jitr: .keyprov/ca.pem)' })
        .option('out-dir', { type: 'string', describe: 'Write the headers into this folder (put it first on the include path)' })
        .option('board', { type: 'string', describe: 'Board id (certificate, thing name, generated folder)' })
        .option('check', { type: 'boolean', default: false, describe: 'Write nothing; exit 1 when a header is missing or stale (for CI)' })
        .option('force', { type: 'boolean', default: false, describe: 'Overwrite headers edited by hand or not written by keyprov' })
        .option('import-private-key', {
          type: 'string',
          describe: 'Put this PEM private key into keyCLIENT_PRIVATE_KEY_PEM (only for boards that cannot generate a key; the firmware destroys the on-board key)',
        }),
    load: async () => (await import('./commands/render.js')).run,
  },
];
