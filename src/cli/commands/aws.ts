// `keyprov aws ...`: a thin layer over src/aws/. Inputs come from options, else the config,
// else the state folder's canonical files. --dry-run prints `aws iot` commands and calls nothing.
import type { CommandContext, CommandResult } from '../context.js';
import { UsageError } from '../../errors.js';
import type { KeyprovConfig } from '../../config/schema.js';
import { resolveBoard } from '../../config/boards.js';
import { boardFiles, caFiles } from '../../project.js';
import { writeFileAtomic, exists } from '../../util/fs-atomic.js';
import { createIotClient, resolveRegion } from '../../aws/client.js';
import { readCertificate } from '../../aws/pem.js';
import { readJsonFile, resolveBoardRegistration } from '../../aws/board.js';
import { awsRecordsPath, jsonFileAwsRecords, type AwsRecords } from '../../aws/records.js';
import { awsEndpointPath, openAwsRecords, sqliteAwsRecords } from '../../aws/records-store.js';
import { openStore, storePath } from '../../store/db.js';
import { formatPlan, type PlannedCall } from '../../aws/dry-run.js';
import { planRegisterDevice, registerDevice, type RegistrationMode } from '../../aws/register-device.js';
import { planRegisterCa, registerCa, validateJitp, type JitpSettings } from '../../aws/register-ca.js';
import { deregisterDevice, planDeregister } from '../../aws/deregister.js';
import { jitpTemplate } from '../../aws/jitp-template.js';
import { loadCreateVerificationCertificate } from '../../aws/verification-loader.js';

interface AwsArgs {
  region?: string;
  profile?: string;
  board?: string;
  thingName?: string;
  cert?: string;
  caCert?: string;
  mode?: RegistrationMode;
}

async function setup(ctx: CommandContext, argv: AwsArgs) {
  const config = (await ctx.loadConfig())?.config;
  const root = await ctx.projectRoot();
  const region = resolveRegion({ region: argv.region, config, env: ctx.env });
  const profile = argv.profile ?? config?.aws?.profile;
  return {
    config,
    root,
    cli: { region, profile },
    client: () => createIotClient({ region, profile, config, env: ctx.env }),
  };
}

/** Runs `fn` with the project's AWS records (the state store), closed afterwards. */
async function withRecords<T>(ctx: CommandContext, root: string, fn: (records: AwsRecords) => Promise<T>): Promise<T> {
  const records = await openAwsRecords(root, ctx.log);
  try {
    return await fn(records);
  } finally {
    records.close();
  }
}

/** A dry run reads what is recorded but creates, imports and renames nothing. */
async function withRecordsReadOnly<T>(root: string, fn: (records: AwsRecords | undefined) => Promise<T>): Promise<T> {
  if (!(await exists(storePath(root)))) return fn((await exists(awsRecordsPath(root))) ? jsonFileAwsRecords(awsRecordsPath(root)) : undefined);
  const db = openStore(storePath(root));
  try {
    return await fn(sqliteAwsRecords(db));
  } finally {
    db.close();
  }
}

function dryRunResult(ctx: CommandContext, plan: PlannedCall[], cli: { region?: string; profile?: string }): CommandResult {
  const text = formatPlan(plan, cli);
  ctx.log.info('dry run: nothing is sent to AWS; the equivalent AWS CLI commands are:');
  return { text, data: { dryRun: true, commands: text.trimEnd().split('\n') } };
}

function modeOf(argv: AwsArgs, config: KeyprovConfig | undefined): RegistrationMode {
  return argv.mode ?? config?.aws?.mode ?? 'default';
}

export async function registerCaCommand(ctx: CommandContext, argv: AwsArgs & { allowAutoRegistration?: boolean; jitpTemplate?: string; roleArn?: string }): Promise<CommandResult> {
  const { config, root, cli, client } = await setup(ctx, argv);
  const caFile = argv.caCert ?? config?.pki?.ca?.cert ?? caFiles(root).cert;
  const ca = await readCertificate(caFile, 'CA certificate', 'create the lab CA first, set pki.ca.cert, or pass --ca-cert FILE');
  const mode = modeOf(argv, config);
  const templateFile = argv.jitpTemplate ?? config?.aws?.jitp?.template;
  const roleArn = argv.roleArn ?? config?.aws?.jitp?.roleArn;
  if (!!templateFile !== !!roleArn) {
    throw new UsageError('AWS_JITP_INCOMPLETE', templateFile ? 'a JITP template needs the IAM role AWS IoT provisions with' : '--role-arn is only used with --jitp-template', {
      hint: 'pass both --jitp-template FILE and --role-arn ARN (or aws.jitp.template and aws.jitp.roleArn)',
    });
  }
  let jitp: JitpSettings | undefined;
  if (templateFile) {
    jitp = { templateBody: await readJsonFile(templateFile, 'JITP template'), roleArn: roleArn! };
    validateJitp(jitp);
  }
  const allowAutoRegistration = argv.allowAutoRegistration ?? config?.aws?.allowAutoRegistration ?? false;
  if (ctx.dryRun) return dryRunResult(ctx, planRegisterCa({ caCertificate: ca, mode, allowAutoRegistration, jitp, jitpTemplateFile: templateFile }), cli);

  const iot = await client();
  const result = await withRecords(ctx, root, async (records) => registerCa({
    client: iot,
    caCertificate: ca,
    mode,
    allowAutoRegistration,
    jitp,
    // Loaded only when AWS asks for proof of possession (a new CA in default mode).
    createVerificationCertificate: async (opts) => (await loadCreateVerificationCertificate())(opts),
    projectRoot: root,
    config,
    records,
    log: ctx.log,
  }));
  return { data: { ...result } };
}

export async function registerCommand(ctx: CommandContext, argv: AwsArgs): Promise<CommandResult> {
  const { config, root, cli, client } = await setup(ctx, argv);
  const opts = await resolveBoardRegistration({
    projectRoot: root,
    config,
    boardId: argv.board,
    thingName: argv.thingName,
    certFile: argv.cert,
    caCertFile: argv.caCert,
    mode: argv.mode,
    allowMissingCertificates: ctx.dryRun,
  });
  if (ctx.dryRun) return dryRunResult(ctx, planRegisterDevice(opts), cli);
  ctx.log.info(`registering board ${opts.boardId} as thing ${opts.thingName}`);
  const iot = await client();
  const result = await withRecords(ctx, root, async (records) => registerDevice({ ...opts, client: iot, records, log: ctx.log }));
  if (result.endpoint) ctx.log.info(`endpoint ${result.endpoint} recorded (${awsEndpointPath(root)}): keyprov render uses it for clientcredentialMQTT_BROKER_ENDPOINT`);
  return { data: { ...result } };
}

export async function jitpTemplateCommand(ctx: CommandContext, argv: AwsArgs & { out?: string; force?: boolean; policyName?: string }): Promise<CommandResult> {
  const config = (await ctx.loadConfig())?.config;
  const aws = config?.aws;
  const template = jitpTemplate({
    thingType: aws?.thingType,
    thingAttributes: aws?.thingAttributes,
    policyName: argv.policyName,
    policyDocument: aws?.policyDocument ? await readJsonFile(aws.policyDocument, 'policy document (aws.policyDocument)') : undefined,
    scope: { region: resolveRegion({ region: argv.region, config, env: ctx.env }), topicPrefixes: aws?.topicPrefixes },
  });
  const text = JSON.stringify(template, null, 2) + '\n';
  if (!argv.out) return { text, data: { template } };
  if (ctx.dryRun) {
    ctx.log.info(`dry run: would write ${argv.out}`);
    return { text, data: { dryRun: true, file: argv.out, template } };
  }
  if ((await exists(argv.out)) && !argv.force) {
    throw new UsageError('FILE_EXISTS', `${argv.out} exists`, { hint: 'pass --force to overwrite it, or choose another --out' });
  }
  await writeFileAtomic(argv.out, text);
  ctx.log.ok(`wrote ${argv.out}; register it with: keyprov aws register-ca --jitp-template ${argv.out} --role-arn ARN`);
  return { data: { file: argv.out, template } };
}

export async function deregisterCommand(ctx: CommandContext, argv: AwsArgs): Promise<CommandResult> {
  const { config, root, cli, client } = await setup(ctx, argv);
  const board = resolveBoard(config, argv.board);
  const deregister = async (records: AwsRecords | undefined): Promise<CommandResult> => {
    const rec = await records?.getBoard(board.id);
    const thingName = argv.thingName ?? rec?.thingName ?? board.thingName;
    let certificateId = argv.cert ? undefined : rec?.certificateId;
    if (!certificateId) {
      const file = argv.cert ?? boardFiles(root, board.id).certificate;
      if (argv.cert || (await exists(file))) certificateId = (await readCertificate(file, 'device certificate', 'pass --cert FILE')).id;
    }
    if (!thingName || !certificateId) {
      throw new UsageError('AWS_NOT_REGISTERED', `nothing is recorded for board ${board.id}, and no ${!thingName ? 'thing name' : 'certificate'} was found`, {
        hint: 'pass --thing-name and --cert FILE',
      });
    }
    if (ctx.dryRun) return dryRunResult(ctx, planDeregister({ thingName, certificateId, policyNames: rec ? [rec.policyName] : undefined }), cli);
    const result = await deregisterDevice({ client: await client(), boardId: board.id, thingName, certificateId, records, log: ctx.log });
    return { data: { ...result } };
  };
  return ctx.dryRun ? withRecordsReadOnly(root, deregister) : withRecords(ctx, root, deregister);
}
