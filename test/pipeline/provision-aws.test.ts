// provision's `register` step through the library API: a virtual board, Mosquitto with
// mutual TLS, and AWS IoT replaced by a small stateful fake behind aws-sdk-client-mock
// (what was created is remembered, so a second run sees it the way AWS would). The fake
// computes certificate IDs itself and checks the device certificate against the CA PEM
// it is registered with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mockClient } from 'aws-sdk-client-mock';
import {
  IoTClient,
  DescribeThingCommand,
  CreateThingCommand,
  DescribeCertificateCommand,
  RegisterCertificateCommand,
  ListPrincipalThingsCommand,
  ListAttachedPoliciesCommand,
  GetPolicyCommand,
  CreatePolicyCommand,
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  UpdateCertificateCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-iot';
import { makeRig } from '../helpers/rig.js';
import { VBOARD_DIR } from '../helpers/vboard.js';
import { callLog, opensslCertificateId, useFakeAwsEnv } from '../aws/fixtures.js';
import { provision, type ProvisionReport } from '../../src/pipeline/provision.js';
import { loadConfigFile } from '../../src/config/load.js';
import { memoryLogger } from '../../src/log.js';
import { openAwsRecords } from '../../src/aws/records-store.js';
import { KeyprovError } from '../../src/errors.js';
import { allowed } from '../helpers/iot-policy.js';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const arn = (kind: string, name: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:${kind}/${name}`;
const MUTATING = /^(Create|Register|Attach|Update|Delete|Detach)/;

/** The parts of AWS IoT that registration touches, kept in maps. `deny` makes one operation fail as IAM would. */
function fakeIot(iot: ReturnType<typeof mockClient<IoTClient>>) {
  const things = new Map<string, string>(); // name -> arn
  const certs = new Map<string, { arn: string; status: string; pem: string }>(); // id -> cert
  const policies = new Map<string, string>();
  const thingsOf = new Map<string, Set<string>>(); // cert arn -> things
  const policiesOf = new Map<string, Set<string>>(); // cert arn -> policies
  const state = { deny: undefined as string | undefined };
  const notFound = (what: string) => new ResourceNotFoundException({ message: `${what} not found`, $metadata: { httpStatusCode: 404 } });
  const guard =
    <I, O>(op: string, fn: (i: I) => O) =>
    async (i: I): Promise<O> => {
      if (state.deny === op) {
        throw Object.assign(new Error(`User: arn:aws:iam::${ACCOUNT}:user/ci is not authorized to perform: iot:${op} on resource: ${arn('thing', 'x')}`), {
          name: 'AccessDeniedException',
          $metadata: { httpStatusCode: 403 },
        });
      }
      return fn(i);
    };
  const certId = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');

  iot.on(DescribeThingCommand).callsFake(guard('DescribeThing', (i: { thingName?: string }) => {
    const a = things.get(i.thingName!);
    if (!a) throw notFound(`thing ${i.thingName}`);
    return { thingName: i.thingName, thingArn: a };
  }));
  iot.on(CreateThingCommand).callsFake(guard('CreateThing', (i: { thingName?: string }) => {
    things.set(i.thingName!, arn('thing', i.thingName!));
    return { thingName: i.thingName, thingArn: things.get(i.thingName!) };
  }));
  iot.on(DescribeCertificateCommand).callsFake(guard('DescribeCertificate', (i: { certificateId?: string }) => {
    const c = certs.get(i.certificateId!);
    if (!c) throw notFound(`certificate ${i.certificateId}`);
    return { certificateDescription: { certificateId: i.certificateId, certificateArn: c.arn, status: c.status } };
  }));
  iot.on(RegisterCertificateCommand).callsFake(guard('RegisterCertificate', (i: { certificatePem?: string; caCertificatePem?: string; status?: string }) => {
    // AWS refuses a certificate its CA did not sign.
    assert.ok(new X509Certificate(i.certificatePem!).verify(new X509Certificate(i.caCertificatePem!).publicKey), 'the device certificate is signed by the CA sent with it');
    const id = certId(i.certificatePem!);
    certs.set(id, { arn: arn('cert', id), status: i.status ?? 'INACTIVE', pem: i.certificatePem! });
    return { certificateId: id, certificateArn: arn('cert', id) };
  }));
  iot.on(ListPrincipalThingsCommand).callsFake(guard('ListPrincipalThings', (i: { principal?: string }) => ({ things: [...(thingsOf.get(i.principal!) ?? [])] })));
  iot.on(ListAttachedPoliciesCommand).callsFake(guard('ListAttachedPolicies', (i: { target?: string }) => ({ policies: [...(policiesOf.get(i.target!) ?? [])].map((policyName) => ({ policyName })) })));
  iot.on(GetPolicyCommand).callsFake(guard('GetPolicy', (i: { policyName?: string }) => {
    if (!policies.has(i.policyName!)) throw notFound(`policy ${i.policyName}`);
    return { policyName: i.policyName, policyDocument: policies.get(i.policyName!) };
  }));
  iot.on(CreatePolicyCommand).callsFake(guard('CreatePolicy', (i: { policyName?: string; policyDocument?: string }) => {
    policies.set(i.policyName!, i.policyDocument!);
    return { policyName: i.policyName };
  }));
  const attach = (m: Map<string, Set<string>>, key: string, value: string) => m.set(key, new Set([...(m.get(key) ?? []), value]));
  iot.on(AttachPolicyCommand).callsFake(guard('AttachPolicy', (i: { policyName?: string; target?: string }) => void attach(policiesOf, i.target!, i.policyName!)));
  iot.on(AttachThingPrincipalCommand).callsFake(guard('AttachThingPrincipal', (i: { thingName?: string; principal?: string }) => void attach(thingsOf, i.principal!, i.thingName!)));
  iot.on(UpdateCertificateCommand).callsFake(guard('UpdateCertificate', (i: { certificateId?: string; newStatus?: string }) => void (certs.get(i.certificateId!)!.status = i.newStatus!)));
  return { state, things, certs, policies, thingsOf, policiesOf };
}

const outcome = (r: ProvisionReport, name: string) => r.steps.find((s) => s.name === name)?.outcome;

test('provision registers the board with AWS IoT (mocked); AccessDenied stops it at register; a rerun registers nothing new', async (t) => {
  useFakeAwsEnv();
  // Only this instance is mocked: a client provision made itself would not be.
  const awsClient = new IoTClient({ region: REGION });
  const iot = mockClient(awsClient);
  t.after(() => iot.restore());
  const aws = fakeIot(iot);
  // The firmware publishes to keyprov/<thing>/hello: the rig carries the example config's
  // aws.topicPrefixes (examples/virtual-board/keyprov.config.yaml), which allow it.
  const { config: example } = await loadConfigFile(path.join(VBOARD_DIR, 'keyprov.config.yaml'));
  const topicPrefixes = example.aws?.topicPrefixes ?? [];
  assert.ok(topicPrefixes.length > 0, 'the example config sets aws.topicPrefixes');
  const rig = await makeRig(t, { boards: 1, extraConfig: `aws:\n  enabled: true\n  topicPrefixes: ${JSON.stringify(topicPrefixes)}` });
  const loaded = await loadConfigFile(rig.configFile);
  const before = rig.sourceHashes();
  const files = { cert: path.join(rig.root, '.keyprov/boards/b1/device-cert.pem'), ca: path.join(rig.root, '.keyprov/ca.pem') };
  const run = (extra: { from?: string } = {}) => {
    const log = memoryLogger();
    return { log, done: provision({ projectRoot: rig.root, loaded, boardId: 'b1', keygen: 'force', log, awsClient, ...extra }) };
  };

  // 1. IAM lacks iot:CreateThing: the run fails at register, after the keygen phase restored the source.
  aws.state.deny = 'CreateThing';
  const denied = run();
  await assert.rejects(denied.done, (e: KeyprovError) => {
    assert.equal(e.code, 'AWS_ACCESS_DENIED');
    assert.equal(e.message, `AWS denied iot:CreateThing to arn:aws:iam::${ACCOUNT}:user/ci`);
    assert.match(e.hint!, /grant "iot:CreateThing" to arn:aws:iam::123456789012:user\/ci in IAM/);
    return true;
  });
  const failed = JSON.parse(readFileSync(path.join(rig.root, '.keyprov/boards/b1/report.json'), 'utf8')) as ProvisionReport;
  assert.equal(failed.outcome, 'failed');
  assert.equal(outcome(failed, 'issue'), 'ok');
  assert.equal(outcome(failed, 'register'), 'failed');
  for (const s of ['render', 'build-credential', 'flash-credential', 'verify']) assert.equal(outcome(failed, s), 'not-run', s);
  assert.equal(outcome(failed, 'restore'), 'ok');
  assert.deepEqual(rig.sourceHashes(), before, 'the source tree is left unpatched');
  assert.deepEqual(callLog(iot).filter(([n]) => MUTATING.test(n)), [['CreateThing', { thingName: 'lab-b1' }]], 'nothing but the denied call was attempted');
  assert.equal(aws.things.size + aws.certs.size + aws.policies.size, 0);

  // 2. Permission granted: resume from register. The board connects with the certificate AWS got.
  aws.state.deny = undefined;
  iot.resetHistory();
  const ok = run({ from: 'register' });
  const report = await ok.done;
  assert.equal(report.outcome, 'ok', ok.log.text());
  await rig.mosquitto.waitForLog(/New client connected from .* as lab-b1 .*u'lab-b1'/);
  const certPem = readFileSync(files.cert);
  const id = opensslCertificateId(files.cert);
  const certArn = arn('cert', id);
  const calls = callLog(iot);
  assert.deepEqual(
    calls.map(([n]) => n),
    ['DescribeThing', 'CreateThing', 'DescribeCertificate', 'RegisterCertificate', 'GetPolicy', 'CreatePolicy', 'AttachPolicy', 'AttachThingPrincipal', 'UpdateCertificate'],
    'no DescribeEndpoint (credentials.endpoint is set); the certificate is activated last',
  );
  const input = (name: string) => calls.find(([n]) => n === name)![1];
  assert.equal(input('DescribeCertificate').certificateId, id, 'looked up by the SHA-256 openssl computes');
  const reg = input('RegisterCertificate');
  assert.ok(Buffer.from(reg.certificatePem as string).equals(certPem), 'RegisterCertificate got the issued certificate file byte for byte');
  assert.ok(Buffer.from(reg.caCertificatePem as string).equals(readFileSync(files.ca)), 'with the lab CA');
  assert.equal(reg.status, 'PENDING_ACTIVATION');
  assert.deepEqual(input('AttachPolicy'), { policyName: 'keyprov-device', target: certArn });
  assert.deepEqual(input('AttachThingPrincipal'), { thingName: 'lab-b1', principal: certArn });
  assert.deepEqual(input('UpdateCertificate'), { certificateId: id, newStatus: 'ACTIVE' });
  assert.equal(aws.certs.get(id)?.status, 'ACTIVE');
  assert.match(ok.log.text(), /lab-b1: registered with AWS IoT \(6 changes\)/);
  // The topic the board really published to (as Mosquitto saw it) is one the policy sent to AWS allows.
  const published = (await rig.mosquitto.waitForLog(/Received PUBLISH from lab-b1 \([^)]*'([^']+)'/))[1]!;
  const policy = JSON.parse(input('CreatePolicy').policyDocument as string);
  assert.ok(allowed(policy, 'iot:Publish', arn('topic', published), { thingName: 'lab-b1', attached: true }), `the policy allows publishing to ${published}`);
  assert.ok(!allowed(policy, 'iot:Publish', arn('topic', published), { thingName: 'lab-b2', attached: true }), 'but not to another thing');
  for (const s of ['issue', 'capture']) assert.equal(outcome(report, s), 'skipped', s);
  for (const s of ['register', 'render', 'flash-credential', 'verify']) assert.equal(outcome(report, s), 'ok', s);

  // Recorded in the state store.
  const records = await openAwsRecords(rig.root);
  const stored = await records.getBoard('b1');
  records.close();
  assert.deepEqual(
    { ...stored, registeredAt: undefined, updatedAt: undefined },
    { thingName: 'lab-b1', thingArn: arn('thing', 'lab-b1'), certificateArn: certArn, certificateId: id, policyName: 'keyprov-device', region: REGION, registeredAt: undefined, updatedAt: undefined },
  );

  // 3. Again from register: AWS already has everything; only reads are sent.
  iot.resetHistory();
  const again = run({ from: 'register' });
  assert.equal((await again.done).outcome, 'ok', again.log.text());
  const reads = callLog(iot).map(([n]) => n);
  assert.deepEqual(reads.filter((n) => MUTATING.test(n)), [], `registered nothing new: ${reads.join(', ')}`);
  assert.ok(reads.includes('DescribeCertificate') && reads.includes('ListPrincipalThings'), 'it did look');
  assert.match(again.log.text(), /lab-b1: already registered with AWS IoT; nothing changed/);
  assert.deepEqual([aws.things.size, aws.certs.size, aws.policies.size], [1, 1, 1]);
  assert.deepEqual(rig.sourceHashes(), before);
});
