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
    command: 'ca',
    describe: 'The lab CA that issues device certificates: create one, import one made with openssl, or make the AWS IoT verification certificate',
    subcommands: [
      {
        command: 'create',
        describe: 'Create a CA in .keyprov/ (ca.pem, ca.key mode 0600) or with its key in a PKCS #11 token',
        builder: (y) =>
          caBackendOptions(y)
            .option('algorithm', { type: 'string', choices: ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072'], default: 'ec-p256', describe: 'CA key type' })
            .option('subject', { type: 'string', describe: 'Distinguished name, "CN=Lab CA, O=Acme" or "/O=Acme/CN=Lab CA" (default: CN=keyprov lab CA)' })
            .option('days', { type: 'number', describe: 'Validity in days (default 3650)' })
            .option('force', { type: 'boolean', default: false, describe: 'Replace an existing CA' }),
        load: async () => (await import('./commands/ca-create.js')).run,
      },
      {
        command: 'import',
        describe: 'Adopt a CA made with openssl (PKCS #1, SEC1, PKCS #8 or encrypted PKCS #8 key) as the project CA',
        builder: (y) =>
          y
            .option('cert', { type: 'string', demandOption: true, describe: 'CA certificate (rootCA.pem)' })
            .option('key', { type: 'string', demandOption: true, describe: 'CA private key (rootCA.key)' })
            .option('passphrase-env', { type: 'string', describe: 'Environment variable holding the key passphrase (default KEYPROV_CA_PASSPHRASE); the stored copy is encrypted with it too' })
            .option('force', { type: 'boolean', default: false, describe: 'Replace an existing project CA' }),
        load: async () => (await import('./commands/ca-import.js')).run,
      },
      {
        command: 'verification-cert',
        describe: 'Issue the verification certificate (CN = registration code) that AWS IoT needs to register the CA',
        builder: (y) =>
          y
            .option('registration-code', { type: 'string', demandOption: true, describe: 'From `aws iot get-registration-code`' })
            .option('out', { type: 'string', describe: 'Write the PEM here (default: print it on stdout)' }),
        load: async () => (await import('./commands/ca-verification-cert.js')).run,
      },
    ],
  },
  {
    command: 'issue',
    describe: 'Issue a device certificate for a public key captured from a board (what openssl x509 -req -force_pubkey does), plus the chain for JITP',
    builder: (y) =>
      caBackendOptions(y)
        .option('public-key', { type: 'string', describe: 'Device public key, PEM or DER (default with --board: the captured key)' })
        .option('board', { type: 'string', describe: 'Board id: read its captured key and write into .keyprov/boards/<id>/' })
        .option('cn', { type: 'string', describe: "Subject CN (default: the board's recommended CN from capture.json, else the thing name)" })
        .option('days', { type: 'number', describe: 'Validity in days (default: pki.days or 500)' })
        .option('out', { type: 'string', describe: 'Certificate file (default with --board: the board folder; otherwise stdout)' })
        .option('chain', { type: 'string', describe: 'Chain file, device + CA (default: beside --out as <name>-chain.pem)' })
        .option('ca-cert', { type: 'string', describe: 'CA certificate (default: pki.ca.cert or .keyprov/ca.pem)' })
        .option('ca-key', { type: 'string', describe: 'CA key file (default: pki.ca.key or .keyprov/ca.key)' })
        .option('reissue', { type: 'boolean', default: false, describe: 'Allow a second certificate for this key under another CN' })
        .option('force', { type: 'boolean', default: false, describe: 'Overwrite an existing --out/--chain file' }),
    load: async () => (await import('./commands/issue.js')).run,
  },
  {
    command: 'verify',
    describe: 'Check a device certificate: it carries exactly this public key, chains to the CA, has clientAuth and is within its dates',
    builder: (y) =>
      y
        .option('certificate', { type: 'string', demandOption: true, describe: 'Device certificate (PEM or DER)' })
        .option('public-key', { type: 'string', demandOption: true, describe: 'Device public key (PEM or DER)' })
        .option('ca', { type: 'string', describe: 'CA certificate (default: pki.ca.cert or .keyprov/ca.pem when present)' }),
    load: async () => (await import('./commands/verify.js')).run,
  },
];

/** Where the CA key lives, for commands that create or load it. */
function caBackendOptions(y: Argv): Argv<any> {
  return y
    .option('backend', { type: 'string', choices: ['file', 'pkcs11'], describe: 'CA key in a file (default) or a PKCS #11 token (pki.ca.backend)' })
    .option('passphrase-env', { type: 'string', describe: 'Environment variable holding the CA key passphrase (default KEYPROV_CA_PASSPHRASE); ca create encrypts ca.key with it when it is set' })
    .option('pkcs11-module', { type: 'string', describe: 'PKCS #11 module (pki.ca.pkcs11.module), e.g. /usr/lib/softhsm/libsofthsm2.so' })
    .option('token-label', { type: 'string', describe: 'Token label (pki.ca.pkcs11.tokenLabel)' })
    .option('slot', { type: 'number', describe: 'Slot index when no token label is given (pki.ca.pkcs11.slot)' })
    .option('key-label', { type: 'string', describe: 'Label of the CA key in the token (default keyprov-ca); PIN from pki.ca.pkcs11.pin or KEYPROV_PKCS11_PIN' });
}
