import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mockClient } from 'aws-sdk-client-mock';
import {
  IoTClient,
  DescribeCACertificateCommand,
  GetRegistrationCodeCommand,
  RegisterCACertificateCommand,
  UpdateCACertificateCommand,
  ResourceNotFoundException,
  ResourceAlreadyExistsException,
} from '@aws-sdk/client-iot';
import { tmpDir } from '../helpers/tmp.js';
import { memoryLogger } from '../../src/log.js';
import { KeyprovError } from '../../src/errors.js';
import { registerCa, type CreateVerificationCertificate } from '../../src/aws/register-ca.js';
import { jitpTemplate } from '../../src/aws/jitp-template.js';
import { readCertificate } from '../../src/aws/pem.js';
import { openAwsRecords } from '../../src/aws/records-store.js';
import { callLog, makeTestPki, pem, useFakeAwsEnv } from './fixtures.js';

useFakeAwsEnv();
const iot = mockClient(IoTClient);
beforeEach(() => iot.reset());

const REG_CODE = 'f3c8a1a2b0d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e';
const VERIFICATION_PEM = '-----BEGIN CERTIFICATE-----\nVERIFICATION-STUB\n-----END CERTIFICATE-----\n';
const ROLE = 'arn:aws:iam::123456789012:role/keyprov-jitp';
const notFound = () => new ResourceNotFoundException({ message: 'CA not found', $metadata: { httpStatusCode: 404 } });

async function setup(t: { after(fn: () => void): void }) {
  const root = tmpDir(t);
  const pki = makeTestPki(root);
  const seen: string[] = [];
  // Stands in for src/pki/verification.ts: a fixed PEM, issued "by" the CA under test.
  const createVerificationCertificate: CreateVerificationCertificate = async (o) => {
    seen.push(o.registrationCode);
    return { certificatePem: VERIFICATION_PEM, caCertificatePem: pem(pki.caCert) };
  };
  const records = await openAwsRecords(root); // what the CLI uses
  t.after(() => records.close());
  const base = {
    client: new IoTClient({}),
    caCertificate: await readCertificate(pki.caCert, 'CA certificate', ''),
    createVerificationCertificate,
    projectRoot: root,
    records,
    log: memoryLogger(),
  };
  const caArn = `arn:aws:iot:eu-west-1:123456789012:cacert/${pki.caId}`;
  return { root, pki, seen, base, records, caArn };
}

test('register-ca: registration code, verification certificate, RegisterCACertificate ACTIVE; recorded', async (t) => {
  const { pki, seen, base, records, caArn } = await setup(t);
  iot.on(DescribeCACertificateCommand).rejects(notFound());
  iot.on(GetRegistrationCodeCommand).resolves({ registrationCode: REG_CODE });
  iot.on(RegisterCACertificateCommand).resolves({ certificateArn: caArn, certificateId: pki.caId });
  const r = await registerCa({ ...base });
  assert.deepEqual(callLog(iot), [
    ['DescribeCACertificate', { certificateId: pki.caId }],
    ['GetRegistrationCode', {}],
    ['RegisterCACertificate', { caCertificate: pem(pki.caCert), verificationCertificate: VERIFICATION_PEM, setAsActive: true, allowAutoRegistration: false }],
  ]);
  assert.deepEqual(seen, [REG_CODE], 'the verification certificate is made for the registration code AWS returned');
  assert.equal(r.status, 'ACTIVE');
  const rec = await records.getCa();
  assert.equal(rec?.certificateArn, caArn);
  assert.equal(rec?.mode, 'DEFAULT');
  assert.equal(rec?.status, 'ACTIVE');
  // The store's fingerprint column is the CA's SHA-256 as openssl computes it.
  const row = records.db.prepare('SELECT fingerprint, status FROM aws_cas WHERE certificate_id = ?').get(pki.caId) as { fingerprint: string; status: string };
  assert.deepEqual(row, { fingerprint: pki.caId, status: 'ACTIVE' });
});

test('register-ca with a JITP template: auto-registration on, template and role sent', async (t) => {
  const { pki, base, caArn, records } = await setup(t);
  const templateBody = JSON.stringify(jitpTemplate());
  iot.on(DescribeCACertificateCommand).rejects(notFound());
  iot.on(GetRegistrationCodeCommand).resolves({ registrationCode: REG_CODE });
  iot.on(RegisterCACertificateCommand).resolves({ certificateArn: caArn, certificateId: pki.caId });
  await registerCa({ ...base, jitp: { templateBody, roleArn: ROLE } });
  assert.deepEqual(callLog(iot), [
    ['DescribeCACertificate', { certificateId: pki.caId }],
    ['GetRegistrationCode', {}],
    [
      'RegisterCACertificate',
      { caCertificate: pem(pki.caCert), verificationCertificate: VERIFICATION_PEM, setAsActive: true, allowAutoRegistration: true, registrationConfig: { templateBody, roleArn: ROLE } },
    ],
  ]);
  assert.equal((await records.getCa())?.jitp, true);
});

test('register-ca --mode sni-only: no registration code, no verification certificate', async (t) => {
  const { pki, seen, base, caArn } = await setup(t);
  iot.on(DescribeCACertificateCommand).rejects(notFound());
  iot.on(RegisterCACertificateCommand).resolves({ certificateArn: caArn, certificateId: pki.caId });
  await registerCa({ ...base, mode: 'sni-only', allowAutoRegistration: true });
  assert.deepEqual(callLog(iot), [
    ['DescribeCACertificate', { certificateId: pki.caId }],
    ['RegisterCACertificate', { caCertificate: pem(pki.caCert), setAsActive: true, allowAutoRegistration: true, certificateMode: 'SNI_ONLY' }],
  ]);
  assert.deepEqual(seen, []);
});

test('a CA already registered (same fingerprint) is reported and kept; a JITP template asked later is added', async (t) => {
  const { pki, seen, base, caArn } = await setup(t);
  iot.on(DescribeCACertificateCommand).resolves({
    certificateDescription: { certificateArn: caArn, certificateId: pki.caId, status: 'ACTIVE', autoRegistrationStatus: 'DISABLE', certificateMode: 'DEFAULT' },
  });
  const r = await registerCa({ ...base });
  assert.deepEqual(callLog(iot), [['DescribeCACertificate', { certificateId: pki.caId }]]);
  assert.deepEqual(r.changes, []);
  assert.match((base.log as ReturnType<typeof memoryLogger>).text(), /already registered \(ACTIVE, DEFAULT\); keeping it[\s\S]*nothing changed/);
  assert.deepEqual(seen, []);

  iot.reset();
  iot.on(DescribeCACertificateCommand).resolves({
    certificateDescription: { certificateArn: caArn, certificateId: pki.caId, status: 'ACTIVE', autoRegistrationStatus: 'DISABLE', certificateMode: 'DEFAULT' },
  });
  iot.on(UpdateCACertificateCommand).resolves({});
  const templateBody = JSON.stringify(jitpTemplate());
  await registerCa({ ...base, jitp: { templateBody, roleArn: ROLE } });
  assert.deepEqual(callLog(iot), [
    ['DescribeCACertificate', { certificateId: pki.caId }],
    ['UpdateCACertificate', { certificateId: pki.caId, newAutoRegistrationStatus: 'ENABLE', registrationConfig: { templateBody, roleArn: ROLE } }],
  ]);
});

test('a verification certificate from another CA is refused before RegisterCACertificate', async (t) => {
  const { base } = await setup(t);
  const other = makeTestPki(tmpDir(t));
  iot.on(DescribeCACertificateCommand).rejects(notFound());
  iot.on(GetRegistrationCodeCommand).resolves({ registrationCode: REG_CODE });
  await assert.rejects(
    registerCa({ ...base, createVerificationCertificate: async () => ({ certificatePem: VERIFICATION_PEM, caCertificatePem: pem(other.caCert) }) }),
    (e: KeyprovError) => e.code === 'AWS_VERIFICATION_WRONG_CA',
  );
  assert.equal(iot.commandCalls(RegisterCACertificateCommand).length, 0);
});

test('bad JITP input is refused before any call; a CA owned by another account points to sni-only', async (t) => {
  const { base } = await setup(t);
  await assert.rejects(registerCa({ ...base, jitp: { templateBody: '{}', roleArn: ROLE } }), (e: KeyprovError) => e.code === 'AWS_JITP_TEMPLATE_INVALID' && e.exitCode === 2);
  await assert.rejects(registerCa({ ...base, jitp: { templateBody: JSON.stringify(jitpTemplate()), roleArn: 'keyprov-role' } }), (e: KeyprovError) => e.code === 'AWS_ROLE_ARN_INVALID');
  assert.equal(iot.calls().length, 0);

  iot.on(DescribeCACertificateCommand).rejects(notFound());
  iot.on(GetRegistrationCodeCommand).resolves({ registrationCode: REG_CODE });
  iot.on(RegisterCACertificateCommand).rejects(new ResourceAlreadyExistsException({ message: 'The CA certificate is already registered in another account', $metadata: { httpStatusCode: 409 } }));
  await assert.rejects(registerCa({ ...base }), (e: KeyprovError) => {
    assert.equal(e.code, 'AWS_CA_IN_OTHER_ACCOUNT');
    assert.match(e.hint!, /--mode sni-only/);
    return true;
  });
});
