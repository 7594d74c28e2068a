import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mockClient } from 'aws-sdk-client-mock';
import {
  IoTClient,
  DescribeCertificateCommand,
  ListPrincipalThingsCommand,
  DetachThingPrincipalCommand,
  ListAttachedPoliciesCommand,
  DetachPolicyCommand,
  UpdateCertificateCommand,
  DeleteCertificateCommand,
  DescribeThingCommand,
  DeleteThingCommand,
  ResourceNotFoundException,
  DeleteConflictException,
} from '@aws-sdk/client-iot';
import { tmpDir } from '../helpers/tmp.js';
import { memoryLogger } from '../../src/log.js';
import { KeyprovError } from '../../src/errors.js';
import { deregisterDevice } from '../../src/aws/deregister.js';
import { openAwsRecords } from '../../src/aws/records-store.js';
import { callLog, useFakeAwsEnv } from './fixtures.js';

useFakeAwsEnv();
const iot = mockClient(IoTClient);
beforeEach(() => iot.reset());

const THING = 'lab-b1';
const CERT_ID = 'a'.repeat(64);
const CERT_ARN = `arn:aws:iot:eu-west-1:123456789012:cert/${CERT_ID}`;

async function recorded(t: { after(fn: () => void): void }) {
  const records = await openAwsRecords(tmpDir(t)); // the state store, as the CLI uses
  t.after(() => records.close());
  await records.putBoard('b1', {
    thingName: THING,
    thingArn: `arn:aws:iot:eu-west-1:123456789012:thing/${THING}`,
    certificateArn: CERT_ARN,
    certificateId: CERT_ID,
    policyName: 'keyprov-device',
    updatedAt: new Date().toISOString(),
  });
  return records;
}

test('deregister: detach thing and policies, deactivate, delete the certificate, delete the thing, in that order', async (t) => {
  const records = await recorded(t);
  iot.on(DescribeCertificateCommand).resolves({ certificateDescription: { certificateArn: CERT_ARN, certificateId: CERT_ID, status: 'ACTIVE' } });
  iot.on(ListPrincipalThingsCommand).resolves({ things: [THING] });
  iot.on(DetachThingPrincipalCommand).resolves({});
  iot.on(ListAttachedPoliciesCommand).resolves({ policies: [{ policyName: 'keyprov-device' }], nextMarker: 'p2' }).on(ListAttachedPoliciesCommand, { target: CERT_ARN, marker: 'p2' }).resolves({ policies: [{ policyName: 'extra' }] });
  iot.on(DetachPolicyCommand).resolves({});
  iot.on(UpdateCertificateCommand).resolves({});
  iot.on(DeleteCertificateCommand).resolves({});
  iot.on(DescribeThingCommand).resolves({ thingName: THING });
  iot.on(DeleteThingCommand).resolves({});

  const r = await deregisterDevice({ client: new IoTClient({}), boardId: 'b1', records, log: memoryLogger() });

  assert.deepEqual(callLog(iot), [
    ['DescribeCertificate', { certificateId: CERT_ID }],
    ['ListPrincipalThings', { principal: CERT_ARN }],
    ['DetachThingPrincipal', { thingName: THING, principal: CERT_ARN }],
    ['ListAttachedPolicies', { target: CERT_ARN }],
    ['ListAttachedPolicies', { target: CERT_ARN, marker: 'p2' }],
    ['DetachPolicy', { policyName: 'keyprov-device', target: CERT_ARN }],
    ['DetachPolicy', { policyName: 'extra', target: CERT_ARN }],
    ['UpdateCertificate', { certificateId: CERT_ID, newStatus: 'INACTIVE' }],
    ['DeleteCertificate', { certificateId: CERT_ID }],
    ['DescribeThing', { thingName: THING }],
    ['DeleteThing', { thingName: THING }],
  ]);
  assert.equal(r.changes.length, 6);
  assert.equal(await records.getBoard('b1'), undefined, 'the record is gone');
});

test('deregister waits out the eventually consistent detach (DeleteConflict) with backoff', async (t) => {
  const records = await recorded(t);
  iot.on(DescribeCertificateCommand).resolves({ certificateDescription: { certificateArn: CERT_ARN, status: 'INACTIVE' } });
  iot.on(ListPrincipalThingsCommand).resolves({ things: [] });
  iot.on(ListAttachedPoliciesCommand).resolves({ policies: [] });
  iot.on(DeleteCertificateCommand)
    .rejectsOnce(new DeleteConflictException({ message: 'Certificate is attached to things', $metadata: { httpStatusCode: 409 } }))
    .resolves({});
  iot.on(DescribeThingCommand).rejects(new ResourceNotFoundException({ message: 'no thing', $metadata: {} }));
  const sleeps: number[] = [];
  await deregisterDevice({ client: new IoTClient({}), boardId: 'b1', records, sleep: async (ms) => void sleeps.push(ms) });
  assert.deepEqual(callLog(iot).map(([n]) => n), ['DescribeCertificate', 'ListPrincipalThings', 'ListAttachedPolicies', 'DeleteCertificate', 'DeleteCertificate', 'DescribeThing']);
  assert.deepEqual(sleeps, [1000]);
});

test('deregister: already gone is not an error; a certificate shared with another thing is refused', async (t) => {
  const records = await recorded(t);
  iot.on(DescribeCertificateCommand).rejects(new ResourceNotFoundException({ message: 'no cert', $metadata: {} }));
  iot.on(DescribeThingCommand).rejects(new ResourceNotFoundException({ message: 'no thing', $metadata: {} }));
  const r = await deregisterDevice({ client: new IoTClient({}), boardId: 'b1', records });
  assert.deepEqual(r.changes, []);
  assert.deepEqual(callLog(iot).map(([n]) => n), ['DescribeCertificate', 'DescribeThing']);

  iot.reset();
  iot.on(DescribeCertificateCommand).resolves({ certificateDescription: { certificateArn: CERT_ARN, status: 'ACTIVE' } });
  iot.on(ListPrincipalThingsCommand).resolves({ things: [THING, 'lab-b9'] });
  await assert.rejects(deregisterDevice({ client: new IoTClient({}), boardId: 'b1', thingName: THING, certificateId: CERT_ID }), (e: KeyprovError) => e.code === 'AWS_CERT_ATTACHED_ELSEWHERE' && /lab-b9/.test(e.message));
  assert.deepEqual(callLog(iot).map(([n]) => n), ['DescribeCertificate', 'ListPrincipalThings']);

  await assert.rejects(deregisterDevice({ client: new IoTClient({}), boardId: 'nothing-here', records }), (e: KeyprovError) => e.code === 'AWS_NOT_REGISTERED' && e.exitCode === 2);
});
