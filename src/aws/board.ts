// From a project (config + state folder) to the inputs of registerDevice, so the CLI and
// the provisioning pipeline register a board the same way.
import { promises as fs } from 'node:fs';
import type { KeyprovConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { UsageError } from '../errors.js';
import { resolveBoard } from '../config/boards.js';
import { boardFiles, caFiles } from '../project.js';
import { exists } from '../util/fs-atomic.js';
import { readCertificate, type LoadedCertificate } from './pem.js';
import { registerDevice, type RegisterDeviceOptions, type RegisterDeviceResult, type RegistrationMode } from './register-device.js';
import type { AwsRecords } from './records.js';
import { openAwsRecords } from './records-store.js';
import { createIotClient } from './client.js';
import type { IoTClient } from '@aws-sdk/client-iot';

export interface BoardRegistrationInput {
  projectRoot: string;
  config?: KeyprovConfig;
  boardId?: string;
  /** Overrides of what the config and the state folder say. */
  thingName?: string;
  certFile?: string;
  caCertFile?: string;
  mode?: RegistrationMode;
  /** Dry run: a certificate not issued yet becomes a placeholder instead of an error. */
  allowMissingCertificates?: boolean;
}

export type ResolvedRegistration = Omit<RegisterDeviceOptions, 'client' | 'records' | 'log'>;

export async function resolveBoardRegistration(i: BoardRegistrationInput): Promise<ResolvedRegistration> {
  const { config } = i;
  const board = resolveBoard(config, i.boardId);
  const thingName = i.thingName ?? board.thingName;
  if (!thingName) {
    throw new UsageError('AWS_THING_NAME_MISSING', `no thing name for board ${board.id}`, {
      hint: 'set credentials.thingName (e.g. "lab-{{id}}") or boards[].thingName, or pass --thing-name',
    });
  }
  if (!/^[a-zA-Z0-9:_-]{1,128}$/.test(thingName)) {
    throw new UsageError('AWS_THING_NAME_INVALID', `"${thingName}" is not a valid AWS IoT thing name`, {
      hint: 'use 1-128 letters, digits, ":", "_" or "-" (no spaces or dots)',
    });
  }
  const mode = i.mode ?? config?.aws?.mode ?? 'default';
  const load = async (file: string, what: string, hint: string): Promise<LoadedCertificate> =>
    i.allowMissingCertificates && !(await exists(file)) ? { file, pem: '', id: '<certificate-id>', subject: '' } : readCertificate(file, what, hint);
  const certificate = await load(i.certFile ?? boardFiles(i.projectRoot, board.id).certificate, 'device certificate', "issue the board's certificate first, or pass --cert FILE");
  const caCertificate =
    mode === 'default'
      ? await load(i.caCertFile ?? config?.pki?.ca?.cert ?? caFiles(i.projectRoot).cert, 'CA certificate', 'set pki.ca.cert or pass --ca-cert FILE (or use --mode sni-only)')
      : undefined;
  const aws = config?.aws;
  return {
    boardId: board.id,
    thingName,
    certificate,
    caCertificate,
    mode,
    policyName: aws?.policyName,
    policyDocument: aws?.policyDocument ? await readJsonFile(aws.policyDocument, 'policy document (aws.policyDocument)') : undefined,
    topicPrefixes: aws?.topicPrefixes,
    thingType: aws?.thingType,
    thingAttributes: aws?.thingAttributes,
    certificateStatus: aws?.certificateStatus,
    lookupEndpoint: !config?.credentials?.endpoint,
  };
}

/** The pipeline's AWS step: register one board from the project's config and state, recorded in the state store. */
export async function registerBoard(
  i: BoardRegistrationInput & { client?: IoTClient; records?: AwsRecords; log?: Logger; region?: string; profile?: string },
): Promise<RegisterDeviceResult> {
  const opts = await resolveBoardRegistration(i);
  const client = i.client ?? (await createIotClient({ config: i.config, region: i.region, profile: i.profile }));
  if (i.records) return registerDevice({ ...opts, client, records: i.records, log: i.log });
  const records = await openAwsRecords(i.projectRoot, i.log);
  try {
    return await registerDevice({ ...opts, client, records, log: i.log });
  } finally {
    records.close();
  }
}

export async function readJsonFile(file: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError('AWS_FILE_UNREADABLE', `cannot read the ${what} ${file}: ${(e as Error).message}`, { hint: `check the path of the ${what}` });
  }
  try {
    JSON.parse(text);
  } catch (e) {
    throw new UsageError('AWS_FILE_NOT_JSON', `the ${what} ${file} is not valid JSON: ${(e as Error).message}`, { hint: `fix the JSON in ${file}` });
  }
  return text;
}
