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
    command: 'provision',
    describe: 'The whole flow for one board: keygen patch, build, flash, capture the key, restore, issue, (AWS), render, credential build, flash, verify',
    builder: (y) =>
      y
        .option('board', { type: 'string', describe: 'Board to provision (needed when the config lists several)' })
        .option('from', { type: 'string', describe: 'Resume at this step (after a failure): preflight, probe, patch-keygen, build-keygen, flash-keygen, capture, restore, issue, register, render, build-credential, flash-credential, verify' })
        .option('keygen', { choices: ['auto', 'force'] as const, describe: 'auto (default): reuse a key the board already prints and skip the keygen build; force: always build and flash the keygen image' })
        .option('create-ca', { type: 'boolean', describe: 'Create a lab CA in .keyprov/ when there is none' })
        .option('reissue', { type: 'boolean', describe: 'Allow a new certificate for a key already certified under another CN' }),
    load: async () => (await import('./commands/provision.js')).run,
  },
  {
    command: 'fleet',
    describe: 'Provision a rack of boards (boards[]) in parallel with one keygen build, and the ledger of their keys and certificates',
    subcommands: [
      {
        command: 'provision',
        describe: 'Provision the boards N at a time; a rerun continues each board where it stopped (never a second certificate)',
        builder: (y) =>
          y
            .option('boards', { type: 'string', requiresArg: true, describe: 'all (default), or board ids separated by commas' })
            .option('parallel', { type: 'number', requiresArg: true, describe: 'Boards at once (default: fleet.parallel, else 4)' })
            .option('again', { type: 'string', requiresArg: true, describe: 'Board ids (commas) to provision again from the start even if done, e.g. a replaced board: new key, new certificate' })
            .option('create-ca', { type: 'boolean', describe: 'Create a lab CA in .keyprov/ when there is none' }),
        load: async () => (await import('./commands/fleet.js')).provisionCommand,
      },
      {
        command: 'status',
        describe: 'The ledger: each board, its key fingerprint, certificate serial, thing, status and flags (--json, --csv)',
        builder: (y) =>
          y
            .option('csv', { type: 'boolean', describe: 'CSV on stdout (RFC 4180)' })
            .option('events', { type: 'boolean', describe: 'Also list the event log' }),
        load: async () => (await import('./commands/fleet.js')).statusCommand,
      },
      {
        command: 'clear-flag',
        describe: 'Clear a flag (duplicate-key) after review, with the reason kept in the ledger (event `unflagged`)',
        builder: (y) =>
          y
            .option('board', { type: 'string', array: true, requiresArg: true, demandOption: true, describe: 'Board id (repeatable, or ids separated by commas); all or none are cleared' })
            .option('flag', { choices: ['duplicate-key', 'key-changed'] as const, demandOption: true, describe: 'The flag to clear (key-changed needs --force: a new certificate clears it)' })
            .option('reason', { type: 'string', requiresArg: true, demandOption: true, describe: 'What you checked and fixed; stored in the event with your user name' })
            .option('force', { type: 'boolean', default: false, describe: 'Clear even though the ledger still shows the problem (the key is still on another board)' })
            .example('keyprov fleet clear-flag --board b1 --board b2 --flag duplicate-key --reason "cloned image; b2 reflashed"', 'after b2 got a key of its own'),
        load: async () => (await import('./commands/fleet.js')).clearFlagCommand,
      },
    ],
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
    builder: (y) =>
      y
        .option('only', { choices: ['patch', 'headers'] as const, describe: 'patch: only the keygen patch (leave headers rendered in place); headers: only the original credential headers' })
        .option('force', { type: 'boolean', default: false, describe: 'Restore even while a running `keyprov provision` holds the source tree' }),
    load: async () => (await import('./commands/restore.js')).run,
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
        })
        .option('print-inputs', { type: 'boolean', describe: 'Print the files the headers are made from (config, certificate, CA, templates), one a line, and render nothing (for CMake DEPENDS)' })
        .option('depfile', { type: 'string', describe: 'After rendering, write a make-format dependency file naming the inputs (keyprov.mk includes it)' })
        .option('depfile-target', { type: 'string', describe: 'Target named in the --depfile (default: the depfile itself; Keyprov.cmake names its stamp)' }),
    load: async () => (await import('./commands/render.js')).run,
  },
  {
    command: 'images',
    describe: 'Build one credential image per board with an issued certificate, out of tree and in parallel, into dist/<board>/ with manifests',
    builder: (y) =>
      y
        .option('boards', { type: 'string', default: 'all', describe: 'all (every board with .keyprov/boards/<id>/device-cert.pem) or a comma-separated list of board ids' })
        .option('jobs', { type: 'number', describe: 'Builds to run at once (default: the number of CPUs, at most the number of boards)' })
        .option('out', { type: 'string', describe: 'Where the images and manifests go: <out>/<board>/<image>, <out>/<board>/manifest.json, <out>/manifest.json (default: dist at the project root)' })
        .option('build-dir', { type: 'string', describe: 'Per-board build folders: <build-dir>/<board>, headers in <build-dir>/<board>/generated (default: build at the project root)' })
        .option('image', { type: 'string', describe: 'The image, relative to the board build folder (default: the file name of build.image)' })
        .example('keyprov images --jobs 3', 'one image per board, three builds at a time')
        .example('keyprov images --boards lab-1,lab-2 --out artifacts', 'two boards only'),
    load: async () => (await import('./commands/images.js')).run,
  },
  {
    command: 'cmake-module-path',
    describe: 'Print the folder holding Keyprov.cmake and keyprov.mk (for CMAKE_MODULE_PATH or a make include)',
    load: async () => (await import('./commands/cmake-module-path.js')).run,
  },
  {
    command: 'aws',
    describe: 'Register the CA, boards and a least-privilege policy with AWS IoT (JITP template, deregistration)',
    subcommands: [
      {
        command: 'register-ca',
        describe: 'Register the lab CA with AWS IoT (verification certificate), optionally for JITR/JITP',
        builder: (y) =>
          awsOptions(y)
            .option('ca-cert', { type: 'string', describe: 'CA certificate (default: pki.ca.cert, else .keyprov/ca.pem)' })
            .option('allow-auto-registration', { type: 'boolean', describe: 'JITR: devices signed by the CA register themselves on first connect' })
            .option('jitp-template', { type: 'string', describe: 'JITP provisioning template file (see `keyprov aws jitp-template`)' })
            .option('role-arn', { type: 'string', describe: 'IAM role AWS IoT provisions with (required with --jitp-template)' }),
        load: async () => (await import('./commands/aws.js')).registerCaCommand,
      },
      {
        command: 'register',
        describe: 'Create the thing, register the device certificate, attach the policy and the thing, activate',
        builder: (y) =>
          awsOptions(y)
            .option('board', { type: 'string', describe: 'Board to register (needed when the config lists several)' })
            .option('thing-name', { type: 'string', describe: 'Thing name (default: from the config)' })
            .option('cert', { type: 'string', describe: 'Device certificate (default: .keyprov/boards/<id>/device-cert.pem)' })
            .option('ca-cert', { type: 'string', describe: 'CA certificate (default: pki.ca.cert, else .keyprov/ca.pem)' }),
        load: async () => (await import('./commands/aws.js')).registerCommand,
      },
      {
        command: 'jitp-template',
        describe: 'Print (or write) a JITP provisioning template with the least-privilege policy',
        builder: (y) =>
          awsOptions(y)
            .option('out', { type: 'string', describe: 'Write the template to this file instead of stdout' })
            .option('force', { type: 'boolean', default: false, describe: 'Overwrite an existing --out file' })
            .option('policy-name', { type: 'string', describe: 'Attach this existing policy instead of the inline default document' }),
        load: async () => (await import('./commands/aws.js')).jitpTemplateCommand,
      },
      {
        command: 'deregister',
        describe: "Detach, deactivate and delete a board's certificate, then delete its thing",
        builder: (y) =>
          awsOptions(y)
            .option('board', { type: 'string', describe: 'Board to deregister' })
            .option('thing-name', { type: 'string', describe: 'Thing name (default: from the records, else the config)' })
            .option('cert', { type: 'string', describe: 'Device certificate (default: from the records)' }),
        load: async () => (await import('./commands/aws.js')).deregisterCommand,
      },
    ],
  },
];

/** Options every `keyprov aws` subcommand takes. */
function awsOptions(y: Argv): Argv<any> {
  return y
    .option('region', { type: 'string', describe: 'AWS region (default: aws.region, AWS_REGION, the profile)' })
    .option('profile', { type: 'string', describe: 'AWS profile (default: aws.profile, AWS_PROFILE)' })
    .option('mode', { choices: ['default', 'sni-only'] as const, describe: 'sni-only: no verification certificate; devices registered without CA' });
}

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
