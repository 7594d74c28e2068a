// `keyprov aws register`: the AWS IoT side of one board. Every step first looks at what
// exists, so a second run makes no change (and says so). Order matters: the certificate
// is registered PENDING_ACTIVATION and only set ACTIVE once its policy and thing are attached.
import type { IoTClient } from '@aws-sdk/client-iot';
import type { Logger } from '../log.js';
import { KeyprovError, ToolError } from '../errors.js';
import { IotSession, paginate } from './session.js';
import { caNotRegistered, errorName, looksLikeCaNotRegistered } from './errors.js';
import { DEFAULT_POLICY_NAME, defaultPolicyDocument, policyJson, scopeFromArn } from './policy.js';
import type { LoadedCertificate } from './pem.js';
import type { AwsRecords, BoardAwsRecord } from './records.js';
import type { PlannedCall } from './dry-run.js';

export type RegistrationMode = 'default' | 'sni-only';
export type CertificateStatusSetting = 'ACTIVE' | 'PENDING_ACTIVATION';

export interface RegisterDeviceOptions {
  client: IoTClient;
  boardId: string;
  thingName: string;
  /** The device certificate (from the board's state folder). */
  certificate: LoadedCertificate;
  /** The CA that issued it; required in `default` mode (RegisterCertificate). */
  caCertificate?: LoadedCertificate;
  /** `sni-only`: RegisterCertificateWithoutCA (the CA need not be registered in this account). */
  mode?: RegistrationMode;
  /** Default `keyprov-device`, one policy shared by every board and scoped per thing by a policy variable. */
  policyName?: string;
  /** A policy document (JSON) used instead of the default when the policy has to be created. */
  policyDocument?: string;
  /** Extra topic prefixes for the default policy (`aws.topicPrefixes`, with `{{thing}}`). */
  topicPrefixes?: string[];
  thingType?: string;
  thingAttributes?: Record<string, string>;
  /** Final certificate status (default ACTIVE). */
  certificateStatus?: CertificateStatusSetting;
  /** Look up the iot:Data-ATS endpoint (when the config leaves `credentials.endpoint` empty). */
  lookupEndpoint?: boolean;
  records?: AwsRecords;
  log?: Logger;
}

export interface RegisterDeviceResult extends BoardAwsRecord {
  boardId: string;
  certificateStatus: string;
  /** What this run changed, in order; empty on a second run. */
  changes: string[];
}

export async function registerDevice(o: RegisterDeviceOptions): Promise<RegisterDeviceResult> {
  const s = await IotSession.open(o.client, o.log);
  const { sdk } = s;
  const mode = o.mode ?? 'default';
  const policyName = o.policyName ?? DEFAULT_POLICY_NAME;
  const wantStatus = o.certificateStatus ?? 'ACTIVE';
  const thingName = o.thingName;
  const cert = o.certificate;
  const changes: string[] = [];
  const change = (what: string) => {
    changes.push(what);
    o.log?.info(`  ${what}`);
  };

  let endpoint: string | undefined;
  if (o.lookupEndpoint) {
    endpoint = (await s.send(new sdk.DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }))).endpointAddress;
    o.log?.info(`AWS IoT data endpoint: ${endpoint}`);
  }

  // 1. The thing.
  const thing = await s.find(() => s.send(new sdk.DescribeThingCommand({ thingName })));
  let thingArn = thing?.thingArn;
  if (!thing) {
    const attributes = o.thingAttributes && Object.keys(o.thingAttributes).length ? { attributes: o.thingAttributes } : undefined;
    thingArn = (await s.send(new sdk.CreateThingCommand({ thingName, thingTypeName: o.thingType, attributePayload: attributes }))).thingArn;
    change(`created thing ${thingName}`);
  } else if (o.thingType && thing.thingTypeName !== o.thingType) {
    o.log?.warn(`thing ${thingName} exists with type ${thing.thingTypeName ?? '(none)'}, not ${o.thingType}; keyprov leaves it as it is`);
  }

  // 2. The certificate: registered already (same SHA-256), or register it now.
  const described = await s.find(() => s.send(new sdk.DescribeCertificateCommand({ certificateId: cert.id })));
  let certificateArn: string;
  let status: string;
  let attachedToThing = false;
  let attachedPolicies: string[] = [];
  if (described?.certificateDescription) {
    certificateArn = described.certificateDescription.certificateArn!;
    status = described.certificateDescription.status ?? 'UNKNOWN';
    if (status === 'REVOKED' || status === 'PENDING_TRANSFER') {
      throw new ToolError('AWS_CERT_UNUSABLE', `the device certificate ${cert.id} is ${status} in AWS IoT`, {
        hint: 'issue a new device certificate for this board and register that one',
      });
    }
    const things = await paginate(async (nextToken) => {
      const r = await s.send(new sdk.ListPrincipalThingsCommand({ principal: certificateArn, nextToken }));
      return { items: r.things, next: r.nextToken };
    });
    const others = things.filter((t) => t !== thingName);
    if (others.length) {
      throw new ToolError('AWS_CERT_ATTACHED_ELSEWHERE', `the device certificate ${cert.id} is already attached to another thing: ${others.join(', ')} (wanted ${thingName})`, {
        hint: `one certificate belongs to one board: check the thing name, or detach it with \`aws iot detach-thing-principal --thing-name ${others[0]} --principal ${certificateArn}\``,
        details: { certificateArn, things: others },
      });
    }
    attachedToThing = things.includes(thingName);
    attachedPolicies = (
      await paginate(async (marker) => {
        const r = await s.send(new sdk.ListAttachedPoliciesCommand({ target: certificateArn, marker }));
        return { items: r.policies, next: r.nextMarker };
      })
    ).map((p) => p.policyName!);
  } else {
    try {
      const r =
        mode === 'sni-only'
          ? await s.send(new sdk.RegisterCertificateWithoutCACommand({ certificatePem: cert.pem, status: 'PENDING_ACTIVATION' }))
          : await s.send(new sdk.RegisterCertificateCommand({ certificatePem: cert.pem, caCertificatePem: requireCa(o).pem, status: 'PENDING_ACTIVATION' }));
      certificateArn = r.certificateArn!;
    } catch (e) {
      const cause = e instanceof KeyprovError ? e.cause : e;
      if (mode !== 'sni-only' && looksLikeCaNotRegistered(cause)) throw caNotRegistered(cause, s.region);
      throw e;
    }
    status = 'PENDING_ACTIVATION';
    change(`registered certificate ${cert.id}`);
  }

  // 3. The policy (created once, shared), attached to the certificate.
  const policy = await s.find(() => s.send(new sdk.GetPolicyCommand({ policyName })));
  const wanted = o.policyDocument ?? policyJson(defaultPolicyDocument({ ...scopeFromArn(thingArn), topicPrefixes: o.topicPrefixes }));
  if (!policy) {
    try {
      await s.send(new sdk.CreatePolicyCommand({ policyName, policyDocument: wanted }));
      change(`created policy ${policyName}`);
    } catch (e) {
      // Boards registered in parallel (keyprov fleet) all find the shared policy missing;
      // the first creates it and the others attach the one it made.
      if (errorName(e instanceof KeyprovError ? e.cause : e) !== 'ResourceAlreadyExistsException') throw e;
      o.log?.info(`  policy ${policyName} was created meanwhile by another registration; attaching it`);
    }
  } else if ((o.policyDocument || o.topicPrefixes?.length) && !sameJson(policy.policyDocument, wanted)) {
    // Only when the config asks for a particular document: a hand-edited policy is the user's.
    o.log?.warn(`policy ${policyName} exists with another document; keyprov does not change existing policies (create a new version with \`aws iot create-policy-version\`)`);
  }
  if (!attachedPolicies.includes(policyName)) {
    await s.send(new sdk.AttachPolicyCommand({ policyName, target: certificateArn }));
    change(`attached policy ${policyName}`);
  }

  // 4. The thing, attached to the certificate.
  if (!attachedToThing) {
    await s.send(new sdk.AttachThingPrincipalCommand({ thingName, principal: certificateArn }));
    change(`attached certificate to thing ${thingName}`);
  }

  // 5. Activate last, when everything it needs is in place.
  if (wantStatus === 'ACTIVE' && status !== 'ACTIVE') {
    await s.send(new sdk.UpdateCertificateCommand({ certificateId: cert.id, newStatus: 'ACTIVE' }));
    status = 'ACTIVE';
    change('set certificate ACTIVE');
  }

  if (!changes.length) o.log?.ok(`${thingName}: already registered with AWS IoT; nothing changed`);
  else o.log?.ok(`${thingName}: registered with AWS IoT (${changes.length} change${changes.length > 1 ? 's' : ''})`);

  const record: BoardAwsRecord = {
    thingName,
    thingArn: thingArn!,
    certificateArn,
    certificateId: cert.id,
    policyName,
    ...(endpoint ? { endpoint } : {}),
    ...(s.region ? { region: s.region } : {}),
    updatedAt: new Date().toISOString(),
  };
  await o.records?.putBoard(o.boardId, record);
  return { ...record, boardId: o.boardId, certificateStatus: status, changes };
}

function requireCa(o: RegisterDeviceOptions): LoadedCertificate {
  if (!o.caCertificate) {
    throw new ToolError('AWS_CA_CERT_REQUIRED', 'registering a device certificate with its CA needs the CA certificate', {
      hint: 'set pki.ca.cert (default .keyprov/ca.pem), or use aws.mode: sni-only to register without the CA',
    });
  }
  return o.caCertificate;
}

function sameJson(a: string | undefined, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a ?? '')) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

/** The commands a first registration runs, for --dry-run. */
export function planRegisterDevice(o: Omit<RegisterDeviceOptions, 'client' | 'records' | 'log'>): PlannedCall[] {
  const policyName = o.policyName ?? DEFAULT_POLICY_NAME;
  const file = (c: LoadedCertificate | undefined) => (c?.file ? `file://${c.file}` : (c?.pem ?? '<PEM>'));
  const attributes = o.thingAttributes && Object.keys(o.thingAttributes).length ? { attributes: o.thingAttributes } : undefined;
  const plan: PlannedCall[] = [];
  if (o.lookupEndpoint) plan.push({ name: 'DescribeEndpoint', input: { endpointType: 'iot:Data-ATS' }, capture: { variable: 'ENDPOINT', query: 'endpointAddress' }, note: 'credentials.endpoint is empty: look up the data endpoint' });
  plan.push({
    name: 'CreateThing',
    input: { thingName: o.thingName, thingTypeName: o.thingType, attributePayload: attributes },
    note: 'keyprov runs describe-thing, describe-certificate, get-policy and the list calls first and skips what exists',
  });
  plan.push(
    o.mode === 'sni-only'
      ? { name: 'RegisterCertificateWithoutCA', input: { certificatePem: file(o.certificate), status: 'PENDING_ACTIVATION' }, capture: { variable: 'CERT_ARN', query: 'certificateArn' } }
      : { name: 'RegisterCertificate', input: { certificatePem: file(o.certificate), caCertificatePem: file(o.caCertificate), status: 'PENDING_ACTIVATION' }, capture: { variable: 'CERT_ARN', query: 'certificateArn' } },
  );
  plan.push({
    name: 'CreatePolicy',
    input: { policyName, policyDocument: o.policyDocument ?? policyJson(defaultPolicyDocument({ topicPrefixes: o.topicPrefixes })) },
    note: `only when policy ${policyName} does not exist${o.policyDocument ? '' : ' (keyprov fills region and account from the thing ARN)'}`,
  });
  plan.push({ name: 'AttachPolicy', input: { policyName, target: '$CERT_ARN' } });
  plan.push({ name: 'AttachThingPrincipal', input: { thingName: o.thingName, principal: '$CERT_ARN' } });
  if ((o.certificateStatus ?? 'ACTIVE') === 'ACTIVE') plan.push({ name: 'UpdateCertificate', input: { certificateId: o.certificate.id, newStatus: 'ACTIVE' } });
  return plan;
}
