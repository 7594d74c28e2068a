import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { writeFileSync, readFileSync, statSync } from 'node:fs';
import { cliCommand, formatPlan, kebab, shellQuote } from '../../src/aws/dry-run.js';
import { jsonFileAwsRecords } from '../../src/aws/records.js';
import { runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { makeTestPki } from './fixtures.js';

test('SDK operations and members become AWS CLI commands and options', () => {
  assert.equal(kebab('RegisterCACertificate'), 'register-ca-certificate');
  assert.equal(kebab('RegisterCertificateWithoutCA'), 'register-certificate-without-ca');
  assert.equal(kebab('caCertificatePem'), 'ca-certificate-pem');
  assert.equal(
    cliCommand('RegisterCACertificate', { caCertificate: 'file://ca.pem', verificationCertificate: 'file://v.pem', setAsActive: true, allowAutoRegistration: false }, { region: 'eu-west-1', profile: 'lab' }),
    'aws iot register-ca-certificate --ca-certificate file://ca.pem --verification-cert file://v.pem --set-as-active --no-allow-auto-registration --region eu-west-1 --profile lab',
  );
  // PEM text is never printed in full; JSON and quotes survive the shell.
  assert.equal(cliCommand('RegisterCertificateWithoutCA', { certificatePem: '-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n' }), 'aws iot register-certificate-without-ca --certificate-pem <PEM>');
  assert.equal(shellQuote(`it's`), `'it'\\''s'`);
  assert.equal(cliCommand('CreateThing', { thingName: 'a b', attributePayload: { attributes: { k: 'v' } } }), `aws iot create-thing --thing-name 'a b' --attribute-payload '{"attributes":{"k":"v"}}'`);
  assert.equal(
    formatPlan([{ name: 'DescribeEndpoint', input: { endpointType: 'iot:Data-ATS' }, capture: { variable: 'ENDPOINT', query: 'endpointAddress' }, note: 'why' }, { name: 'AttachPolicy', input: { policyName: 'p', target: '$CERT_ARN' } }]),
    '# why\nENDPOINT=$(aws iot describe-endpoint --endpoint-type iot:Data-ATS --query endpointAddress --output text)\naws iot attach-policy --policy-name p --target "$CERT_ARN"\n',
  );
});

test('records: one JSON file, written atomically, endpoint kept for rendering; a corrupt file is a clear error', async (t) => {
  const dir = tmpDir(t);
  const file = path.join(dir, '.keyprov', 'aws-records.json');
  const r = jsonFileAwsRecords(file);
  assert.equal(await r.getBoard('b1'), undefined);
  const rec = { thingName: 't', thingArn: 'a', certificateArn: 'c', certificateId: 'i', policyName: 'p', endpoint: 'e-ats.iot.eu-west-1.amazonaws.com', updatedAt: 'now' };
  await r.putBoard('b1', rec);
  await r.putCa({ certificateId: 'ca', certificateArn: 'caarn', mode: 'DEFAULT', autoRegistration: false, jitp: false, updatedAt: 'now' });
  assert.deepEqual(await r.getBoard('b1'), rec);
  assert.equal(await r.getEndpoint(), rec.endpoint);
  assert.equal((await r.getCa())?.certificateArn, 'caarn');
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).version, 1);
  assert.equal(statSync(file).mode & 0o777, 0o644);
  await r.deleteBoard('b1');
  assert.equal(await r.getBoard('b1'), undefined);
  assert.equal(await r.getEndpoint(), rec.endpoint, 'the endpoint belongs to the account, not the board');
  // Parallel boards do not lose each other's records.
  await Promise.all(['p1', 'p2', 'p3', 'p4'].map((id) => r.putBoard(id, { ...rec, thingName: id })));
  assert.deepEqual(Object.keys(JSON.parse(readFileSync(file, 'utf8')).boards).sort(), ['p1', 'p2', 'p3', 'p4']);
  writeFileSync(file, '{ half');
  await assert.rejects(r.getBoard('b1'), (e: { code?: string }) => e.code === 'AWS_RECORDS_CORRUPT');
});

test('the AWS SDK is loaded only when AWS is called (help, dry runs and templates run without it)', async (t) => {
  const root = tmpDir(t);
  makeTestPki(root);
  writeFileSync(path.join(root, 'keyprov.config.yaml'), 'credentials:\n  thingName: lab-1\naws:\n  region: eu-west-1\n');
  // A module hook that makes any @aws-sdk import fail.
  const hook = path.join(root, 'block-aws-sdk.mjs');
  writeFileSync(
    hook,
    `import { register } from 'node:module';\nregister('data:text/javascript,' + encodeURIComponent("export async function resolve(s, c, next) { if (s.startsWith('@aws-sdk/')) throw new Error('blocked ' + s); return next(s, c); }"));\n`,
  );
  const env = { NODE_OPTIONS: `--import=${hook}`, AWS_ACCESS_KEY_ID: 'AKIAFAKE', AWS_SECRET_ACCESS_KEY: 'x', AWS_EC2_METADATA_DISABLED: 'true' };
  for (const args of [['--help'], ['aws', 'register', '--dry-run', '--cert', path.join(root, '.keyprov/boards/b1/device-cert.pem')], ['aws', 'jitp-template']]) {
    const r = await runCli(args, { cwd: root, env });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  // The hook works: a real call does try to load the SDK.
  const real = await runCli(['aws', 'register', '--cert', path.join(root, '.keyprov/boards/b1/device-cert.pem')], { cwd: root, env });
  assert.match(real.stderr, /blocked @aws-sdk\/client-iot/);
});
