// The library API other areas call (pipeline, AWS registration), checked with openssl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { memoryLogger } from '../../src/log.js';
import { boardFiles } from '../../src/project.js';
import { createCa } from '../../src/pki/ca-create.js';
import { loadCa } from '../../src/pki/ca-load.js';
import { issueDeviceCertificate } from '../../src/pki/device-cert.js';
import { createVerificationCertificate } from '../../src/pki/verification.js';
import { tmpDir } from '../helpers/tmp.js';
import { mustOpenssl, openssl, opensslDeviceKey, assertKeyNotIn } from './openssl.js';

test('createVerificationCertificate: CN = registration code, signed by the project CA', async (t) => {
  const dir = tmpDir(t);
  await createCa({ projectRoot: dir, env: {}, subject: 'CN=Verif CA' });
  const log = memoryLogger({ verbose: true });
  const { certificatePem, caCertificatePem } = await createVerificationCertificate({ projectRoot: dir, registrationCode: '0f3b7c9d2e1a', log, env: {} });
  assert.equal(caCertificatePem, readFileSync(path.join(dir, '.keyprov/ca.pem'), 'utf8'));
  assert.match(mustOpenssl(['x509', '-noout', '-subject', '-issuer'], { input: certificatePem }), /subject=CN = 0f3b7c9d2e1a\nissuer=CN = Verif CA/);
  const caFile = path.join(dir, '.keyprov/ca.pem');
  const v = openssl(['verify', '-CAfile', caFile], { input: certificatePem });
  assert.equal(v.code, 0, v.stderr);
  assertKeyNotIn(log.text(), readFileSync(path.join(dir, '.keyprov/ca.key'), 'utf8'));
  await assert.rejects(createVerificationCertificate({ projectRoot: dir, registrationCode: 'has space', env: {} }), (e: any) => e.code === 'REGISTRATION_CODE_INVALID');
});

test('issueDeviceCertificate writes certificate and chain to the board folder; validity past the CA is clamped with a warning', async (t) => {
  const dir = tmpDir(t);
  await createCa({ projectRoot: dir, env: {}, days: 10 });
  const ca = await loadCa({ projectRoot: dir, env: {} });
  const files = boardFiles(dir, 'b1');
  const dev = opensslDeviceKey();
  const log = memoryLogger();
  const cert = await issueDeviceCertificate({ ca, publicKey: dev.pem, cn: 'thing-b1', days: 500, out: { certificate: files.certificate, chain: files.chain }, log });
  assert.equal(cert.clamped, true);
  assert.match(log.text(), /warning: 500 days would outlast the CA/);
  const caEnd = mustOpenssl(['x509', '-in', path.join(dir, '.keyprov/ca.pem'), '-noout', '-enddate']);
  assert.equal(mustOpenssl(['x509', '-in', files.certificate, '-noout', '-enddate']), caEnd);
  assert.equal(openssl(['verify', '-CAfile', path.join(dir, '.keyprov/ca.pem'), files.certificate]).code, 0);
  assert.equal(readFileSync(files.chain, 'utf8'), cert.chainPem);
  assert.equal(cert.files?.certificate, files.certificate);
  // DER input gives the same key in the certificate.
  const again = await issueDeviceCertificate({ ca, publicKey: dev.der, cn: 'thing-b1', days: 1 });
  assert.equal(again.clamped, false);
  assert.equal(mustOpenssl(['x509', '-noout', '-pubkey'], { input: again.certificatePem }), dev.pem);
  assert.notEqual(again.serial, cert.serial);
});

test('ca create: refuses to replace a CA without --force; with a passphrase variable the key is encrypted PKCS #8', async (t) => {
  const { runCli } = await import('../helpers/cli.js');
  const dir = tmpDir(t);
  const env = { KEYPROV_CA_PASSPHRASE: 'lab passphrase 1' };
  const first = await runCli(['ca', 'create', '--algorithm', 'ec-p384'], { cwd: dir, env });
  assert.equal(first.code, 0, first.stderr);
  const keyPem = readFileSync(path.join(dir, '.keyprov/ca.key'), 'utf8');
  assert.match(keyPem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
  assert.match(mustOpenssl(['pkey', '-in', path.join(dir, '.keyprov/ca.key'), '-passin', 'pass:lab passphrase 1', '-noout', '-text']), /NIST CURVE: P-384/);
  assert.notEqual(openssl(['pkey', '-in', path.join(dir, '.keyprov/ca.key'), '-passin', 'pass:wrong', '-noout']).code, 0);
  const before = readFileSync(path.join(dir, '.keyprov/ca.pem'), 'utf8');
  const second = await runCli(['ca', 'create'], { cwd: dir, env });
  assert.equal(second.code, 2);
  assert.match(second.stderr, /a CA already exists \(.*ca\.pem\); not replacing it\nhint: pass --force/);
  assert.equal(readFileSync(path.join(dir, '.keyprov/ca.pem'), 'utf8'), before);
  assertKeyNotIn(first.stdout + first.stderr + second.stdout + second.stderr, keyPem, env.KEYPROV_CA_PASSPHRASE);
  const forced = await runCli(['ca', 'create', '--force'], { cwd: dir, env: {} });
  assert.equal(forced.code, 0, forced.stderr);
  assert.notEqual(readFileSync(path.join(dir, '.keyprov/ca.pem'), 'utf8'), before);
  assert.match(readFileSync(path.join(dir, '.keyprov/ca.key'), 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
});

test('dates from 2050 on are GeneralizedTime, before as UTCTime; openssl reads both', async (t) => {
  const dir = tmpDir(t);
  await createCa({ projectRoot: dir, env: {}, days: 9000 }); // ends in 2051
  const ca = await loadCa({ projectRoot: dir, env: {} });
  const caFile = path.join(dir, '.keyprov/ca.pem');
  const end = mustOpenssl(['x509', '-in', caFile, '-noout', '-enddate']).trim().replace('notAfter=', '');
  assert.equal(new Date(end).getTime(), ca.certificate.notAfter.getTime());
  assert.ok(new Date(end).getUTCFullYear() >= 2050);
  const asn1 = mustOpenssl(['asn1parse', '-in', caFile]);
  assert.match(asn1, /UTCTIME/);
  assert.match(asn1, /GENERALIZEDTIME\s*:20\d\d/);
  const dev = opensslDeviceKey();
  const cert = await issueDeviceCertificate({ ca, publicKey: dev.der, cn: 'far', days: 9001 });
  assert.equal(cert.clamped, true); // a day longer than the CA
  const v = openssl(['verify', '-CAfile', caFile], { input: cert.certificatePem });
  assert.equal(v.code, 0, v.stderr);
});
