// `keyprov aws register-ca`: prove possession of the lab CA to AWS IoT (a verification
// certificate whose CN is the account's registration code, signed by the CA) and register
// it ACTIVE, optionally with auto-registration (JITR) and a provisioning template (JITP).
// `sni-only` registers the CA without a verification certificate (multi-account mode).
import type { IoTClient } from '@aws-sdk/client-iot';
import type { Logger } from '../log.js';
import type { KeyprovConfig } from '../config/schema.js';
import { KeyprovError, ToolError, UsageError } from '../errors.js';
import { IotSession } from './session.js';
import { parseCertificate, type LoadedCertificate } from './pem.js';
import type { AwsRecords, CaAwsRecord } from './records.js';
import type { RegistrationMode } from './register-device.js';
import type { PlannedCall } from './dry-run.js';

/** The contract with src/pki/verification.ts (issue 5): signs a verification certificate with the lab CA. */
export type CreateVerificationCertificate = (opts: {
  projectRoot: string;
  config?: KeyprovConfig;
  registrationCode: string;
  log?: Logger;
}) => Promise<{ certificatePem: string; caCertificatePem: string }>;

export interface JitpSettings {
  /** The provisioning template (JSON text), e.g. from `keyprov aws jitp-template`. */
  templateBody: string;
  /** IAM role AWS IoT assumes to create the thing and policy. */
  roleArn: string;
}

export interface RegisterCaOptions {
  client: IoTClient;
  caCertificate: LoadedCertificate;
  mode?: RegistrationMode;
  /** JITR: certificates signed by this CA register themselves (PENDING_ACTIVATION) on first connect. */
  allowAutoRegistration?: boolean;
  /** JITP: implies auto-registration. */
  jitp?: JitpSettings;
  /** Needed in `default` mode. Injected so the PKI code (and tests) provide it. */
  createVerificationCertificate?: CreateVerificationCertificate;
  projectRoot: string;
  config?: KeyprovConfig;
  records?: AwsRecords;
  log?: Logger;
}

export interface RegisterCaResult extends CaAwsRecord {
  status: string;
  /** What this run changed; empty when the CA was already registered as wanted. */
  changes: string[];
}

export function validateJitp(j: JitpSettings): void {
  try {
    const t = JSON.parse(j.templateBody) as { Resources?: unknown };
    if (!t || typeof t !== 'object' || !t.Resources) throw new Error('it has no "Resources"');
  } catch (e) {
    throw new UsageError('AWS_JITP_TEMPLATE_INVALID', `the JITP template is not a provisioning template: ${(e as Error).message}`, {
      hint: 'write one with `keyprov aws jitp-template --out jitp.json`',
    });
  }
  if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/.+/.test(j.roleArn)) {
    throw new UsageError('AWS_ROLE_ARN_INVALID', `"${j.roleArn}" is not an IAM role ARN`, {
      hint: 'pass --role-arn arn:aws:iam::<account>:role/<name> (a role that trusts iot.amazonaws.com, e.g. with AWSIoTThingsRegistration)',
    });
  }
}

export async function registerCa(o: RegisterCaOptions): Promise<RegisterCaResult> {
  const s = await IotSession.open(o.client, o.log);
  const { sdk } = s;
  const ca = o.caCertificate;
  const mode = o.mode ?? 'default';
  if (o.jitp) validateJitp(o.jitp);
  const wantAuto = !!(o.allowAutoRegistration || o.jitp);
  const changes: string[] = [];
  const change = (what: string) => {
    changes.push(what);
    o.log?.info(`  ${what}`);
  };

  const existing = (await s.find(() => s.send(new sdk.DescribeCACertificateCommand({ certificateId: ca.id }))));
  let certificateArn: string;
  let status: string;
  let certificateMode: 'DEFAULT' | 'SNI_ONLY' = mode === 'sni-only' ? 'SNI_ONLY' : 'DEFAULT';
  let autoRegistration = wantAuto;
  let jitp = !!o.jitp;

  if (existing?.certificateDescription) {
    // Same fingerprint: keep it; only bring its switches to what was asked.
    const d = existing.certificateDescription;
    certificateArn = d.certificateArn!;
    status = d.status ?? 'UNKNOWN';
    certificateMode = (d.certificateMode as 'DEFAULT' | 'SNI_ONLY') ?? certificateMode;
    autoRegistration = d.autoRegistrationStatus === 'ENABLE';
    jitp = !!existing.registrationConfig?.templateBody;
    o.log?.info(`CA ${ca.id} is already registered (${status}, ${certificateMode}); keeping it`);
    if (certificateMode !== (mode === 'sni-only' ? 'SNI_ONLY' : 'DEFAULT')) o.log?.warn(`the CA is registered in ${certificateMode} mode, not ${mode}; keyprov leaves the mode as it is`);
    const update: Record<string, unknown> = {};
    if (status !== 'ACTIVE') update.newStatus = 'ACTIVE';
    if (wantAuto && !autoRegistration) update.newAutoRegistrationStatus = 'ENABLE';
    const rc = existing.registrationConfig;
    if (o.jitp && (!sameJson(rc?.templateBody, o.jitp.templateBody) || rc?.roleArn !== o.jitp.roleArn)) update.registrationConfig = { templateBody: o.jitp.templateBody, roleArn: o.jitp.roleArn };
    if (Object.keys(update).length) {
      await s.send(new sdk.UpdateCACertificateCommand({ certificateId: ca.id, ...update }));
      if (update.newStatus) change('set CA ACTIVE');
      if (update.newAutoRegistrationStatus) change('enabled auto-registration');
      if (update.registrationConfig) change('set the JITP template');
      status = 'ACTIVE';
      autoRegistration ||= wantAuto;
      jitp ||= !!o.jitp;
    } else {
      o.log?.ok('CA already registered as asked; nothing changed');
    }
  } else {
    const registrationConfig = o.jitp ? { templateBody: o.jitp.templateBody, roleArn: o.jitp.roleArn } : undefined;
    let verificationCertificate: string | undefined;
    if (mode === 'default') {
      if (!o.createVerificationCertificate) {
        throw new ToolError('AWS_VERIFICATION_UNAVAILABLE', 'registering the CA needs a verification certificate, and no issuer for one is available', {
          hint: 'use the PKI module (src/pki/verification.ts), or register with --mode sni-only',
        });
      }
      const { registrationCode } = await s.send(new sdk.GetRegistrationCodeCommand({}));
      const v = await o.createVerificationCertificate({ projectRoot: o.projectRoot, config: o.config, registrationCode: registrationCode!, log: o.log });
      // The verification certificate must come from the very CA being registered.
      const signer = parseCertificate(v.caCertificatePem, undefined, 'CA certificate returned by the PKI module');
      if (signer.id !== ca.id) {
        throw new ToolError('AWS_VERIFICATION_WRONG_CA', `the verification certificate was issued by CA ${signer.id}, not by the CA being registered (${ca.id})`, {
          hint: 'make pki.ca.cert and --ca-cert name the same CA',
        });
      }
      verificationCertificate = v.certificatePem;
    }
    try {
      const r = await s.send(
        new sdk.RegisterCACertificateCommand({
          caCertificate: ca.pem,
          verificationCertificate,
          setAsActive: true,
          allowAutoRegistration: wantAuto,
          registrationConfig,
          ...(mode === 'sni-only' ? { certificateMode: 'SNI_ONLY' as const } : {}),
        }),
      );
      certificateArn = r.certificateArn!;
    } catch (e) {
      if (e instanceof KeyprovError && e.code === 'AWS_CONFLICT' && /another account/i.test(e.message)) {
        throw new ToolError('AWS_CA_IN_OTHER_ACCOUNT', 'this CA is already registered in DEFAULT mode in another AWS account', { hint: 'register it here with --mode sni-only', cause: e });
      }
      throw e;
    }
    status = 'ACTIVE';
    change(`registered CA ${ca.id} (${certificateMode}${wantAuto ? ', auto-registration' : ''}${o.jitp ? ', JITP' : ''})`);
    o.log?.ok('CA registered with AWS IoT');
  }

  const record: CaAwsRecord = {
    certificateId: ca.id,
    certificateArn,
    mode: certificateMode,
    autoRegistration,
    jitp,
    status,
    ...(s.region ? { region: s.region } : {}),
    updatedAt: new Date().toISOString(),
  };
  await o.records?.putCa(record);
  return { ...record, status, changes };
}

function sameJson(a: string | undefined, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a ?? '')) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

/** The commands a first CA registration runs, for --dry-run. */
export function planRegisterCa(o: Pick<RegisterCaOptions, 'caCertificate' | 'mode' | 'allowAutoRegistration' | 'jitp'> & { jitpTemplateFile?: string }): PlannedCall[] {
  const mode = o.mode ?? 'default';
  const plan: PlannedCall[] = [];
  const ca = o.caCertificate.file ? `file://${o.caCertificate.file}` : o.caCertificate.pem;
  if (mode === 'default') {
    plan.push({ name: 'GetRegistrationCode', input: {}, capture: { variable: 'REGISTRATION_CODE', query: 'registrationCode' }, note: 'keyprov runs describe-ca-certificate first and keeps a CA that is already registered' });
  }
  plan.push({
    name: 'RegisterCACertificate',
    input: {
      caCertificate: ca,
      verificationCertificate: mode === 'default' ? 'file://verification-cert.pem' : undefined,
      setAsActive: true,
      allowAutoRegistration: !!(o.allowAutoRegistration || o.jitp),
      registrationConfig: o.jitp ? { templateBody: o.jitpTemplateFile ? `<contents of ${o.jitpTemplateFile}>` : o.jitp.templateBody, roleArn: o.jitp.roleArn } : undefined,
      certificateMode: mode === 'sni-only' ? 'SNI_ONLY' : undefined,
    },
    note: mode === 'default' ? 'verification-cert.pem: issued by the CA with CN=$REGISTRATION_CODE (keyprov does this itself)' : undefined,
  });
  return plan;
}
