// A CA whose key lives in a PKCS #11 token (SoftHSM2): created in the token, issuing in the
// token, openssl verifying the result, and the key provably not extractable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { mustOpenssl, openssl, opensslDeviceKey } from './openssl.js';

const require = createRequire(import.meta.url);
const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = '246810';

function softhsmToken(dir: string, label: string): NodeJS.ProcessEnv {
  mkdirSync(path.join(dir, 'tokens'));
  const conf = path.join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${path.join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const env = { SOFTHSM2_CONF: conf };
  const r = spawnSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', PIN, '--so-pin', '13579'], { env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.equal(r.status, 0, `softhsm2-util failed (is softhsm2 installed?): ${r.stderr}`);
  return env;
}

test('PKCS #11: ca create puts a non-extractable key in the token; issue and verification-cert sign there; openssl verifies', async (t) => {
  const dir = tmpDir(t);
  const env = { ...softhsmToken(dir, 'keyprov-lab'), TEST_CA_PIN: PIN };
  writeFileSync(
    path.join(dir, 'keyprov.config.yaml'),
    `pki:\n  ca:\n    backend: pkcs11\n    pkcs11:\n      module: ${MODULE}\n      tokenLabel: keyprov-lab\n      keyLabel: lab-ca\n      pin: \${env:TEST_CA_PIN}\n`,
  );
  const created = await runCli(['ca', 'create', '--subject', 'CN=HSM lab CA', '--json'], { cwd: dir, env });
  assert.equal(created.code, 0, created.stderr);
  assert.equal(JSON.parse(created.stdout).backend, 'pkcs11');
  assert.ok(!existsSync(path.join(dir, '.keyprov/ca.key')), 'no key file for a token CA');
  const caPem = path.join(dir, '.keyprov/ca.pem');
  assert.match(mustOpenssl(['x509', '-in', caPem, '-noout', '-text']), /CA:TRUE/);
  // Self-signed by the token key: openssl checks the signature.
  assert.equal(openssl(['verify', '-CAfile', caPem, caPem]).code, 0);

  const dev = opensslDeviceKey();
  writeFileSync(path.join(dir, 'dev.pem'), dev.pem);
  const issued = await runCli(['issue', '--public-key', 'dev.pem', '--cn', 'hsm-thing', '--out', 'device.pem'], { cwd: dir, env });
  assert.equal(issued.code, 0, issued.stderr);
  assert.equal(mustOpenssl(['verify', '-x509_strict', '-CAfile', caPem, path.join(dir, 'device.pem')]).trim(), `${path.join(dir, 'device.pem')}: OK`);
  assert.equal(mustOpenssl(['x509', '-in', path.join(dir, 'device.pem'), '-noout', '-pubkey']), dev.pem);

  const ver = await runCli(['ca', 'verification-cert', '--registration-code', 'a1b2c3d4e5f6', '--out', 'verification.pem'], { cwd: dir, env });
  assert.equal(ver.code, 0, ver.stderr);
  assert.match(mustOpenssl(['x509', '-in', path.join(dir, 'verification.pem'), '-noout', '-subject']), /subject=CN = a1b2c3d4e5f6/);
  assert.equal(openssl(['verify', '-CAfile', caPem, path.join(dir, 'verification.pem')]).code, 0);

  // The key as the token itself describes it (graphene talks PKCS #11 directly).
  process.env.SOFTHSM2_CONF = env.SOFTHSM2_CONF;
  const graphene = require('graphene-pk11');
  const mod = graphene.Module.load(MODULE, 'test');
  mod.initialize();
  try {
    const slots = mod.getSlots(true);
    let slot;
    for (let i = 0; i < slots.length; i++) if (slots.items(i).getToken().label.trim() === 'keyprov-lab') slot = slots.items(i);
    assert.ok(slot, 'token found');
    const session = slot.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
    session.login(PIN);
    const keys = session.find({ class: graphene.ObjectClass.PRIVATE_KEY, label: 'lab-ca' });
    assert.equal(keys.length, 1);
    const key = keys.items(0);
    const attrs = key.getAttribute({ extractable: null, sensitive: null, token: null, neverExtractable: null });
    assert.equal(attrs.extractable, false);
    assert.equal(attrs.sensitive, true);
    assert.equal(attrs.token, true);
    assert.equal(attrs.neverExtractable, true);
    assert.throws(() => key.getAttribute({ value: null }), /SENSITIVE|ATTRIBUTE/, 'the private value cannot be read');
    session.logout();
    session.close();
  } finally {
    mod.finalize();
  }

  // A second CA with the same key label is refused (keyprov never deletes token keys); a wrong PIN is a usage error.
  const again = await runCli(['ca', 'create', '--force', '--json'], { cwd: dir, env });
  assert.equal(again.code, 2);
  assert.equal(JSON.parse(again.stdout).error.code, 'PKCS11_KEY_EXISTS');
  const wrongPin = await runCli(['issue', '--public-key', 'dev.pem', '--cn', 'x', '--json'], { cwd: dir, env: { ...env, TEST_CA_PIN: '000000' } });
  assert.equal(wrongPin.code, 2);
  assert.equal(JSON.parse(wrongPin.stdout).error.code, 'PKCS11_PIN_WRONG');
  assert.ok(!wrongPin.stdout.includes('000000') && !wrongPin.stderr.includes('000000'), 'the PIN is not echoed');
  assert.equal(readFileSync(caPem, 'utf8').length > 0, true);
});

test('PKCS #11 from the command line: P-384 key in a token chosen by slot, no config file; issue signs in the token', async (t) => {
  const dir = tmpDir(t);
  const env = { ...softhsmToken(dir, 'cli-token'), KEYPROV_PKCS11_PIN: PIN };
  const created = await runCli(['ca', 'create', '--backend', 'pkcs11', '--pkcs11-module', MODULE, '--slot', '0', '--algorithm', 'ec-p384'], { cwd: dir, env });
  assert.equal(created.code, 0, created.stderr);
  assert.match(mustOpenssl(['x509', '-in', path.join(dir, '.keyprov/ca.pem'), '-noout', '-text']), /NIST CURVE: P-384/);
  assert.equal(openssl(['verify', '-CAfile', path.join(dir, '.keyprov/ca.pem'), path.join(dir, '.keyprov/ca.pem')]).code, 0);
  writeFileSync(path.join(dir, 'dev.pem'), opensslDeviceKey().pem);
  const issued = await runCli(['issue', '--backend', 'pkcs11', '--pkcs11-module', MODULE, '--slot', '0', '--public-key', 'dev.pem', '--cn', 'p384-signed', '--out', 'c.pem'], { cwd: dir, env });
  assert.equal(issued.code, 0, issued.stderr);
  assert.equal(openssl(['verify', '-x509_strict', '-CAfile', path.join(dir, '.keyprov/ca.pem'), path.join(dir, 'c.pem')]).code, 0);
});
