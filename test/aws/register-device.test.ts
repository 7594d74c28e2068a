import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync, existsSync } from 'node:fs';
import { mockClient } from 'aws-sdk-client-mock';
import {
  IoTClient,
  DescribeEndpointCommand,
  DescribeThingCommand,
  CreateThingCommand,
  DescribeCertificateCommand,
  RegisterCertificateCommand,
  RegisterCertificateWithoutCACommand,
  GetPolicyCommand,
  CreatePolicyCommand,
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  UpdateCertificateCommand,
  ListPrincipalThingsCommand,
  ListAttachedPoliciesCommand,
  ResourceNotFoundException,
  ResourceAlreadyExistsException,
  CertificateValidationException,
} from '@aws-sdk/client-iot';
import { tmpDir } from '../helpers/tmp.js';
import { memoryLogger } from '../../src/log.js';
import { KeyprovError } from '../../src/errors.js';
import { registerDevice } from '../../src/aws/register-device.js';
import { readCertificate } from '../../src/aws/pem.js';
import { registerBoard, resolveBoardRegistration } from '../../src/aws/board.js';
import { awsRecordsPath } from '../../src/aws/records.js';
import { openAwsRecords } from '../../src/aws/records-store.js';
import { callLog, makeTestPki, pem, useFakeAwsEnv } from './fixtures.js';

useFakeAwsEnv();
const iot = mockClient(IoTClient);
beforeEach(() => iot.reset());

const THING = 'lab-b1';
const ACCOUNT = '123456789012';
const THING_ARN = `arn:aws:iot:eu-west-1:${ACCOUNT}:thing/${THING}`;
const ENDPOINT = 'a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com';
const notFound = (what: string) => new ResourceNotFoundException({ message: `${what} not found`, $metadata: { httpStatusCode: 404 } });

async function setup(t: { after(fn: () => void): void }) {
  const root = tmpDir(t);
  const pki = makeTestPki(root);
  const log = memoryLogger();
  const records = await openAwsRecords(root); // what the CLI and the pipeline use
  t.after(() => records.close());
  const base = {
    client: new IoTClient({}),
    boardId: 'b1',
    thingName: THING,
    certificate: await readCertificate(pki.deviceCert, 'device certificate', ''),
    caCertificate: await readCertificate(pki.caCert, 'CA certificate', ''),
    records,
    log,
  };
  const certArn = `arn:aws:iot:eu-west-1:${ACCOUNT}:cert/${pki.deviceId}`;
  return { root, pki, log, records, base, certArn };
}

test('first registration: endpoint, thing, certificate, policy, attachments, activation, in that order', async (t) => {
  const { root, pki, log, base, certArn, records } = await setup(t);
  iot.on(DescribeEndpointCommand).resolves({ endpointAddress: ENDPOINT });
  iot.on(DescribeThingCommand).rejects(notFound('thing'));
  iot.on(CreateThingCommand).resolves({ thingName: THING, thingArn: THING_ARN });
  iot.on(DescribeCertificateCommand).rejects(notFound('certificate'));
  iot.on(RegisterCertificateCommand).resolves({ certificateArn: certArn, certificateId: pki.deviceId });
  iot.on(GetPolicyCommand).rejects(notFound('policy'));
  iot.on(CreatePolicyCommand).resolves({});
  iot.on(AttachPolicyCommand).resolves({});
  iot.on(AttachThingPrincipalCommand).resolves({});
  iot.on(UpdateCertificateCommand).resolves({});

  const r = await registerDevice({ ...base, lookupEndpoint: true, thingType: 'devkit', thingAttributes: { lab: 'rack-1' } });

  const calls = callLog(iot);
  // The policy document is checked separately (policy.test.ts); here: the one sent is the default, scoped to this account and region.
  const policyDoc = JSON.parse(calls.find(([n]) => n === 'CreatePolicy')![1].policyDocument as string);
  assert.equal(policyDoc.Statement[0].Resource[0], `arn:aws:iot:eu-west-1:${ACCOUNT}:client/\${iot:Connection.Thing.ThingName}`);
  assert.deepEqual(calls, [
    ['DescribeEndpoint', { endpointType: 'iot:Data-ATS' }],
    ['DescribeThing', { thingName: THING }],
    ['CreateThing', { thingName: THING, thingTypeName: 'devkit', attributePayload: { attributes: { lab: 'rack-1' } } }],
    ['DescribeCertificate', { certificateId: pki.deviceId }],
    ['RegisterCertificate', { certificatePem: pem(pki.deviceCert), caCertificatePem: pem(pki.caCert), status: 'PENDING_ACTIVATION' }],
    ['GetPolicy', { policyName: 'keyprov-device' }],
    ['CreatePolicy', { policyName: 'keyprov-device', policyDocument: JSON.stringify(policyDoc) }],
    ['AttachPolicy', { policyName: 'keyprov-device', target: certArn }],
    ['AttachThingPrincipal', { thingName: THING, principal: certArn }],
    ['UpdateCertificate', { certificateId: pki.deviceId, newStatus: 'ACTIVE' }],
  ]);
  assert.equal(r.changes.length, 6);
  assert.equal(r.certificateStatus, 'ACTIVE');
  assert.match(log.text(), /registered with AWS IoT \(6 changes\)/);

  // Recorded for later steps (render reads the endpoint, deregister the certificate).
  const row = records.db.prepare('SELECT * FROM aws_boards WHERE board_id = ?').get('b1') as Record<string, unknown>;
  assert.equal((records.db.prepare('SELECT endpoint FROM aws_account').get() as { endpoint: string }).endpoint, ENDPOINT);
  assert.equal(readFileSync(path.join(root, '.keyprov', 'aws-endpoint'), 'utf8'), ENDPOINT + '\n', 'mirrored for keyprov render');
  assert.equal(row.registered_at, row.updated_at);
  assert.deepEqual(
    { ...row, registered_at: undefined, updated_at: undefined },
    { board_id: 'b1', thing_name: THING, thing_arn: THING_ARN, certificate_arn: certArn, certificate_id: pki.deviceId, policy_name: 'keyprov-device', endpoint: ENDPOINT, region: 'eu-west-1', registered_at: undefined, updated_at: undefined },
  );
});

test('second run: only reads (lists read to the last page), changes nothing and says so', async (t) => {
  const { pki, log, base, certArn } = await setup(t);
  iot.on(DescribeThingCommand).resolves({ thingName: THING, thingArn: THING_ARN });
  iot.on(DescribeCertificateCommand).resolves({ certificateDescription: { certificateArn: certArn, certificateId: pki.deviceId, status: 'ACTIVE' } });
  iot.on(ListPrincipalThingsCommand).resolves({ things: [], nextToken: 'page2' }).on(ListPrincipalThingsCommand, { principal: certArn, nextToken: 'page2' }).resolves({ things: [THING] });
  iot.on(GetPolicyCommand).resolves({ policyName: 'keyprov-device', policyDocument: '{}' });
  iot.on(ListAttachedPoliciesCommand).resolves({ policies: [{ policyName: 'other' }], nextMarker: 'm2' }).on(ListAttachedPoliciesCommand, { target: certArn, marker: 'm2' }).resolves({ policies: [{ policyName: 'keyprov-device' }] });

  const r = await registerDevice({ ...base });

  assert.deepEqual(callLog(iot), [
    ['DescribeThing', { thingName: THING }],
    ['DescribeCertificate', { certificateId: pki.deviceId }],
    ['ListPrincipalThings', { principal: certArn }],
    ['ListPrincipalThings', { principal: certArn, nextToken: 'page2' }],
    ['ListAttachedPolicies', { target: certArn }],
    ['ListAttachedPolicies', { target: certArn, marker: 'm2' }],
    ['GetPolicy', { policyName: 'keyprov-device' }],
  ]);
  assert.deepEqual(r.changes, []);
  assert.match(log.text(), /lab-b1: already registered with AWS IoT; nothing changed/);
});

test('a certificate registered but PENDING and detached: attach and activate only', async (t) => {
  const { pki, base, certArn } = await setup(t);
  iot.on(DescribeThingCommand).resolves({ thingName: THING, thingArn: THING_ARN });
  iot.on(DescribeCertificateCommand).resolves({ certificateDescription: { certificateArn: certArn, status: 'PENDING_ACTIVATION' } });
  iot.on(ListPrincipalThingsCommand).resolves({ things: [] });
  iot.on(ListAttachedPoliciesCommand).resolves({ policies: [] });
  iot.on(GetPolicyCommand).resolves({ policyName: 'keyprov-device' });
  iot.on(AttachPolicyCommand).resolves({});
  iot.on(AttachThingPrincipalCommand).resolves({});
  iot.on(UpdateCertificateCommand).resolves({});
  await registerDevice({ ...base });
  assert.deepEqual(callLog(iot).map(([n]) => n).slice(-3), ['AttachPolicy', 'AttachThingPrincipal', 'UpdateCertificate']);
  assert.equal(iot.commandCalls(RegisterCertificateCommand).length, 0);
});

test('a certificate attached to another thing is a clear error, and nothing is changed', async (t) => {
  const { pki, base, certArn } = await setup(t);
  iot.on(DescribeThingCommand).resolves({ thingName: THING, thingArn: THING_ARN });
  iot.on(DescribeCertificateCommand).resolves({ certificateDescription: { certificateArn: certArn, status: 'ACTIVE' } });
  iot.on(ListPrincipalThingsCommand).resolves({ things: ['lab-b7'] });
  await assert.rejects(registerDevice({ ...base }), (e: KeyprovError) => {
    assert.equal(e.code, 'AWS_CERT_ATTACHED_ELSEWHERE');
    assert.match(e.message, new RegExp(`certificate ${pki.deviceId} is already attached to another thing: lab-b7 \\(wanted lab-b1\\)`));
    assert.match(e.hint!, /detach-thing-principal --thing-name lab-b7/);
    return true;
  });
  assert.deepEqual(callLog(iot).map(([n]) => n), ['DescribeThing', 'DescribeCertificate', 'ListPrincipalThings']);
});

test('CA not registered: the error points to `keyprov aws register-ca`', async (t) => {
  const { base } = await setup(t);
  iot.on(DescribeThingCommand).resolves({ thingName: THING, thingArn: THING_ARN });
  iot.on(DescribeCertificateCommand).rejects(notFound('certificate'));
  iot.on(RegisterCertificateCommand).rejects(new CertificateValidationException({ message: 'The CA certificate is not registered in this account', $metadata: { httpStatusCode: 400 } }));
  await assert.rejects(registerDevice({ ...base }), (e: KeyprovError) => {
    assert.equal(e.code, 'AWS_CA_NOT_REGISTERED');
    assert.equal(e.exitCode, 3);
    assert.match(e.hint!, /keyprov aws register-ca/);
    return true;
  });
  assert.equal(iot.commandCalls(AttachPolicyCommand).length, 0);
});

test('sni-only mode registers the certificate without its CA', async (t) => {
  const { pki, base, certArn } = await setup(t);
  iot.on(DescribeThingCommand).resolves({ thingName: THING, thingArn: THING_ARN });
  iot.on(DescribeCertificateCommand).rejects(notFound('certificate'));
  iot.on(RegisterCertificateWithoutCACommand).resolves({ certificateArn: certArn, certificateId: pki.deviceId });
  iot.on(GetPolicyCommand).resolves({ policyName: 'keyprov-device' });
  await registerDevice({ ...base, caCertificate: undefined, mode: 'sni-only', certificateStatus: 'PENDING_ACTIVATION' });
  assert.deepEqual(callLog(iot), [
    ['DescribeThing', { thingName: THING }],
    ['DescribeCertificate', { certificateId: pki.deviceId }],
    ['RegisterCertificateWithoutCA', { certificatePem: pem(pki.deviceCert), status: 'PENDING_ACTIVATION' }],
    ['GetPolicy', { policyName: 'keyprov-device' }],
    ['AttachPolicy', { policyName: 'keyprov-device', target: certArn }],
    ['AttachThingPrincipal', { thingName: THING, principal: certArn }],
    // certificateStatus PENDING_ACTIVATION: no UpdateCertificate.
  ]);
});

test('resource conflict: CreateThing refused because the thing exists with other settings', async (t) => {
  const { base } = await setup(t);
  iot.on(DescribeThingCommand).rejects(notFound('thing'));
  iot.on(CreateThingCommand).rejects(new ResourceAlreadyExistsException({ message: 'Thing lab-b1 already exists in account with different attributes', $metadata: { httpStatusCode: 409 } }));
  await assert.rejects(registerDevice({ ...base, thingType: 'devkit' }), (e: KeyprovError) => {
    assert.equal(e.code, 'AWS_CONFLICT');
    assert.match(e.message, /iot:CreateThing conflicts with an existing resource: Thing lab-b1 already exists/);
    assert.ok(e.hint);
    return true;
  });
});

test('boards registered in parallel: the shared policy created meanwhile by another board is attached, not an error', async (t) => {
  const { pki, base, certArn, log } = await setup(t);
  iot.on(DescribeThingCommand).resolves({ thingName: THING, thingArn: THING_ARN });
  iot.on(DescribeCertificateCommand).rejects(notFound('certificate'));
  iot.on(RegisterCertificateCommand).resolves({ certificateArn: certArn, certificateId: pki.deviceId });
  iot.on(GetPolicyCommand).rejects(notFound('policy'));
  iot.on(CreatePolicyCommand).rejects(new ResourceAlreadyExistsException({ message: 'Policy cannot be created - name already exists (name=keyprov-device)', $metadata: { httpStatusCode: 409 } }));
  const r = await registerDevice({ ...base });
  assert.deepEqual(callLog(iot).map(([n]) => n).slice(-4), ['CreatePolicy', 'AttachPolicy', 'AttachThingPrincipal', 'UpdateCertificate']);
  assert.deepEqual(iot.commandCalls(AttachPolicyCommand)[0]!.args[0].input, { policyName: 'keyprov-device', target: certArn });
  assert.ok(!r.changes.includes('created policy keyprov-device'), r.changes.join('; '));
  assert.match(log.text(), /policy keyprov-device was created meanwhile by another registration; attaching it/);
  assert.equal(r.certificateStatus, 'ACTIVE');
});

test('CreatePolicy refused for another reason (a malformed document) is still an error', async (t) => {
  const { pki, base, certArn } = await setup(t);
  iot.on(DescribeThingCommand).resolves({ thingName: THING, thingArn: THING_ARN });
  iot.on(DescribeCertificateCommand).rejects(notFound('certificate'));
  iot.on(RegisterCertificateCommand).resolves({ certificateArn: certArn, certificateId: pki.deviceId });
  iot.on(GetPolicyCommand).rejects(notFound('policy'));
  iot.on(CreatePolicyCommand).rejects(Object.assign(new Error('Policy document is malformed'), { name: 'MalformedPolicyException', $metadata: { httpStatusCode: 400 } }));
  await assert.rejects(registerDevice({ ...base, policyDocument: '{"Version":"2012-10-17","Statement":[]}' }), /Policy document is malformed/);
  assert.equal(iot.commandCalls(AttachPolicyCommand).length, 0);
  assert.equal(iot.commandCalls(UpdateCertificateCommand).length, 0);
});

test('AccessDenied names the IAM action that is missing', async (t) => {
  const { base } = await setup(t);
  const denied = Object.assign(new Error('User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iot:DescribeThing on resource: arn:aws:iot:eu-west-1:123456789012:thing/lab-b1'), {
    name: 'AccessDeniedException',
    $metadata: { httpStatusCode: 403 },
  });
  iot.on(DescribeThingCommand).rejects(denied);
  await assert.rejects(registerDevice({ ...base }), (e: KeyprovError) => {
    assert.equal(e.code, 'AWS_ACCESS_DENIED');
    assert.equal(e.message, 'AWS denied iot:DescribeThing to arn:aws:iam::123456789012:user/ci');
    assert.match(e.hint!, /grant "iot:DescribeThing" to arn:aws:iam::123456789012:user\/ci/);
    return true;
  });
  // Without the action in the message, the failed call's own action is named.
  iot.reset();
  iot.on(DescribeThingCommand).rejects(notFound('thing'));
  iot.on(CreateThingCommand).rejects(Object.assign(new Error('Forbidden'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } }));
  await assert.rejects(registerDevice({ ...base }), /AWS denied iot:CreateThing/);
});

test('registerBoard (the pipeline step): inputs from the config and the state folder; configured endpoint, no lookup', async (t) => {
  const { root, pki, certArn } = await setup(t);
  iot.on(DescribeThingCommand).rejects(notFound('thing'));
  iot.on(CreateThingCommand).resolves({ thingArn: THING_ARN });
  iot.on(DescribeCertificateCommand).rejects(notFound('certificate'));
  iot.on(RegisterCertificateCommand).resolves({ certificateArn: certArn });
  iot.on(GetPolicyCommand).resolves({ policyName: 'lab-policy' });
  const config = { credentials: { thingName: 'lab-{{id}}', endpoint: ENDPOINT }, boards: [{ id: 'b1' }], aws: { policyName: 'lab-policy', certificateStatus: 'PENDING_ACTIVATION' as const } };
  const r = await registerBoard({ projectRoot: root, config, client: new IoTClient({}) });
  assert.deepEqual(callLog(iot).map(([n]) => n), ['DescribeThing', 'CreateThing', 'DescribeCertificate', 'RegisterCertificate', 'GetPolicy', 'AttachPolicy', 'AttachThingPrincipal']);
  assert.deepEqual(callLog(iot)[3]![1], { certificatePem: pem(pki.deviceCert), caCertificatePem: pem(pki.caCert), status: 'PENDING_ACTIVATION' });
  assert.equal(r.thingName, THING);
  assert.equal(r.policyName, 'lab-policy');
  // Recorded in the state store, not in the old JSON file.
  const stored = await openAwsRecords(root);
  assert.equal((await stored.getBoard('b1'))?.certificateId, pki.deviceId);
  stored.close();
  assert.equal(existsSync(awsRecordsPath(root)), false);
  await assert.rejects(resolveBoardRegistration({ projectRoot: root, config, thingName: 'lab b1' }), (e: KeyprovError) => e.code === 'AWS_THING_NAME_INVALID' && e.exitCode === 2);
});
