// --dry-run on every command that writes PKI material: each check of a real run still
// happens (and fails the same way), the plan is printed, and the folder is byte-identical
// afterwards (every file hashed, modes included, nothing added or removed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { runCli, type CliResult } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { mustOpenssl, opensslDeviceKey } from './openssl.js';

/** Every file and folder under `dir`: relative path -> mode and SHA-256 of the contents. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = statSync(p);
      const rel = path.relative(dir, p);
      if (st.isDirectory()) {
        out[rel + '/'] = `dir ${(st.mode & 0o7777).toString(8)}`;
        walk(p);
      } else out[rel] = `${(st.mode & 0o7777).toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    }
  };
  walk(dir);
  return out;
}

const json = (r: CliResult) => JSON.parse(r.stdout);
const errorOf = (r: CliResult) => json(r).error as { code: string; message: string; hint?: string };

/** A CA made with openssl (AWS IoT documentation recipe). */
function opensslCa(dir: string, name: string, curve = 'prime256v1'): { cert: string; key: string } {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.pem`);
  mustOpenssl(['ecparam', '-name', curve, '-genkey', '-noout', '-out', key]);
  mustOpenssl(['req', '-x509', '-new', '-nodes', '-key', key, '-sha256', '-days', '365', '-subj', `/CN=${name}`, '-out', cert]);
  return { cert, key };
}

test('ca create --dry-run writes nothing, says what it would write, and still checks its inputs', async (t) => {
  const dir = tmpDir(t);
  const before = snapshot(dir);
  const r = await runCli(['ca', 'create', '--dry-run', '--algorithm', 'ec-p384', '--subject', 'CN=Dry Lab CA, O=Acme', '--days', '90', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(snapshot(dir), before, 'no .keyprov folder, no ca.key, no ca.pem');
  assert.ok(!existsSync(path.join(dir, '.keyprov')));
  const plan = json(r);
  assert.equal(plan.dryRun, true);
  assert.equal(plan.algorithm, 'ec-p384');
  assert.equal(plan.subject, 'CN=Dry Lab CA, O=Acme');
  assert.equal(plan.certificate, path.join(dir, '.keyprov', 'ca.pem'));
  assert.equal(plan.key, path.join(dir, '.keyprov', 'ca.key'));
  assert.equal(Date.parse(plan.notAfter) - Date.parse(plan.notBefore), 90 * 86_400_000);
  assert.deepEqual(plan.replaces, []);
  // The human lines name the files, the key type, the subject and the validity.
  assert.match(r.stderr, /would write the ec-p384 key to .*\.keyprov\/ca\.key \(PKCS #8, mode 0600\) and the CA certificate to .*\.keyprov\/ca\.pem/);
  assert.match(r.stderr, /subject CN=Dry Lab CA, O=Acme, valid 90 days/);

  // Bad input fails exactly as without --dry-run.
  const days = await runCli(['ca', 'create', '--dry-run', '--days', '0', '--json'], { cwd: dir });
  assert.equal(days.code, 2);
  assert.equal(errorOf(days).code, 'CA_DAYS');
  assert.ok(errorOf(days).hint, 'CA_DAYS has a hint');
  const subject = await runCli(['ca', 'create', '--dry-run', '--subject', 'XX=nonsense', '--json'], { cwd: dir });
  assert.equal(subject.code, 2);
  assert.equal(errorOf(subject).code, 'CA_SUBJECT_INVALID');
  assert.deepEqual(snapshot(dir), before);
});

test('ca create --dry-run over an existing CA: refused without --force, and with --force the CA is untouched', async (t) => {
  const dir = tmpDir(t);
  const made = await runCli(['ca', 'create'], { cwd: dir });
  assert.equal(made.code, 0, made.stderr);
  const caPem = path.join(dir, '.keyprov', 'ca.pem');
  const keyBefore = mustOpenssl(['pkey', '-in', path.join(dir, '.keyprov', 'ca.key'), '-pubout']);
  const before = snapshot(dir);

  const refused = await runCli(['ca', 'create', '--dry-run', '--json'], { cwd: dir });
  assert.equal(refused.code, 2);
  assert.equal(errorOf(refused).code, 'CA_EXISTS');

  const forced = await runCli(['ca', 'create', '--dry-run', '--force', '--algorithm', 'rsa-2048', '--json'], { cwd: dir });
  assert.equal(forced.code, 0, forced.stderr);
  assert.deepEqual(json(forced).replaces, [caPem, path.join(dir, '.keyprov', 'ca.key')]);
  assert.match(forced.stderr, /would replace the existing CA/);
  assert.deepEqual(snapshot(dir), before, 'ca.pem and ca.key byte-identical, modes too');
  // As openssl sees it: still the EC key, not an RSA one.
  assert.match(mustOpenssl(['x509', '-in', caPem, '-noout', '-text']), /id-ecPublicKey/);
  assert.equal(mustOpenssl(['x509', '-in', caPem, '-noout', '-pubkey']), keyBefore);
});

test('ca import --dry-run stores nothing, and still refuses a mismatched key or an existing CA', async (t) => {
  const dir = tmpDir(t);
  const ca = opensslCa(dir, 'rootCA');
  const other = opensslCa(dir, 'otherCA');
  const before = snapshot(dir);

  const r = await runCli(['ca', 'import', '--dry-run', '--cert', ca.cert, '--key', ca.key, '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(snapshot(dir), before, 'no key stored');
  assert.equal(json(r).dryRun, true);
  assert.equal(json(r).keyAlgorithm, 'ec-p256');
  assert.equal(json(r).key, path.join(dir, '.keyprov', 'ca.key'));
  // The fingerprint shown is the certificate's, as openssl computes it.
  const fp = mustOpenssl(['x509', '-in', ca.cert, '-noout', '-fingerprint', '-sha256']).split('=')[1]!.trim().replace(/:/g, '').toLowerCase();
  assert.equal(json(r).ca.fingerprintSha256, fp);
  assert.match(r.stderr, /would store the ec-p256 key of .*rootCA\.key as PKCS #8 in .*\.keyprov\/ca\.key \(mode 0600\)/);

  const mismatch = await runCli(['ca', 'import', '--dry-run', '--cert', ca.cert, '--key', other.key, '--json'], { cwd: dir });
  assert.equal(mismatch.code, 2);
  assert.equal(errorOf(mismatch).code, 'CA_KEY_MISMATCH');

  // Over an existing project CA.
  const real = await runCli(['ca', 'import', '--cert', other.cert, '--key', other.key], { cwd: dir });
  assert.equal(real.code, 0, real.stderr);
  const withCa = snapshot(dir);
  const exists = await runCli(['ca', 'import', '--dry-run', '--cert', ca.cert, '--key', ca.key, '--json'], { cwd: dir });
  assert.equal(exists.code, 2);
  assert.equal(errorOf(exists).code, 'CA_EXISTS');
  const forced = await runCli(['ca', 'import', '--dry-run', '--force', '--cert', ca.cert, '--key', ca.key, '--json'], { cwd: dir });
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(json(forced).replaces.length, 2);
  assert.deepEqual(snapshot(dir), withCa, 'the existing CA is untouched');
  assert.equal(mustOpenssl(['x509', '-in', path.join(dir, '.keyprov', 'ca.pem'), '-noout', '-subject']).trim(), 'subject=CN = otherCA');
});

test('ca verification-cert --out --dry-run writes no file but still loads the CA and checks the code', async (t) => {
  const dir = tmpDir(t);
  assert.equal((await runCli(['ca', 'create', '--subject', 'CN=Verif CA'], { cwd: dir })).code, 0);
  const before = snapshot(dir);
  const r = await runCli(['ca', 'verification-cert', '--registration-code', 'abc123', '--out', 'v.pem', '--dry-run', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!existsSync(path.join(dir, 'v.pem')));
  assert.deepEqual(snapshot(dir), before);
  assert.equal(json(r).file, path.join(dir, 'v.pem'));
  assert.equal(json(r).subject, 'CN=abc123');
  assert.match(r.stderr, /would write the verification certificate \(CN=abc123, issued by CN=Verif CA, valid until .*\) to .*v\.pem/);

  const bad = await runCli(['ca', 'verification-cert', '--registration-code', 'has space', '--out', 'v.pem', '--dry-run', '--json'], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.equal(errorOf(bad).code, 'REGISTRATION_CODE_INVALID');
  const empty = tmpDir(t);
  const noCa = await runCli(['ca', 'verification-cert', '--registration-code', 'abc123', '--out', 'v.pem', '--dry-run', '--json'], { cwd: empty });
  assert.equal(noCa.code, 2);
  assert.equal(errorOf(noCa).code, 'CA_CERT_UNREADABLE');
  assert.deepEqual(snapshot(empty), {});
});

test('issue --dry-run: no certificate, no store created or changed, and the same refusals as a real issue', async (t) => {
  const dir = tmpDir(t);
  assert.equal((await runCli(['ca', 'create'], { cwd: dir })).code, 0);
  const dev = opensslDeviceKey();
  writeFileSync(path.join(dir, 'dev.pem'), dev.pem);

  // No store yet: a dry run must not create one.
  let before = snapshot(dir);
  const first = await runCli(['issue', '--dry-run', '--public-key', 'dev.pem', '--cn', 'thing-1', '--out', 'device.pem', '--json'], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(snapshot(dir), before, 'no device.pem, no chain, no keyprov.db');
  assert.deepEqual(json(first).files, { certificate: path.join(dir, 'device.pem'), chain: path.join(dir, 'device-chain.pem') });

  const days = await runCli(['issue', '--dry-run', '--public-key', 'dev.pem', '--cn', 'thing-1', '--days', '0', '--json'], { cwd: dir });
  assert.equal(days.code, 2);
  assert.equal(errorOf(days).code, 'DEVICE_DAYS');
  assert.ok(errorOf(days).hint, 'DEVICE_DAYS has a hint');
  const rsa = opensslDeviceKey('rsa-2048');
  writeFileSync(path.join(dir, 'rsa.pem'), rsa.pem);
  const alg = await runCli(['issue', '--dry-run', '--public-key', 'rsa.pem', '--cn', 'thing-1', '--json'], { cwd: dir });
  assert.equal(alg.code, 2);
  assert.equal(errorOf(alg).code, 'DEVICE_KEY_ALGORITHM');

  // A real issue records the key under thing-1; a dry run for another CN is refused like a real one.
  assert.equal((await runCli(['issue', '--public-key', 'dev.pem', '--cn', 'thing-1', '--out', 'device.pem'], { cwd: dir })).code, 0);
  before = snapshot(dir);
  assert.ok(before['.keyprov/keyprov.db']);
  const renamed = await runCli(['issue', '--dry-run', '--public-key', 'dev.pem', '--cn', 'thing-2', '--out', 'other.pem', '--json'], { cwd: dir });
  assert.equal(renamed.code, 2);
  assert.equal(errorOf(renamed).code, 'CERT_REISSUE_REQUIRED');
  const again = await runCli(['issue', '--dry-run', '--public-key', 'dev.pem', '--cn', 'thing-1', '--out', 'other.pem', '--json'], { cwd: dir });
  assert.equal(again.code, 0, again.stderr);
  const exists = await runCli(['issue', '--dry-run', '--public-key', 'dev.pem', '--cn', 'thing-1', '--out', 'device.pem', '--json'], { cwd: dir });
  assert.equal(exists.code, 2);
  assert.equal(errorOf(exists).code, 'OUTPUT_EXISTS');
  assert.deepEqual(snapshot(dir), before, 'store byte-identical, no -wal/-shm left, no other.pem');
});

test('ca create --dry-run with a PKCS #11 token: checks the token and the label, generates no key', async (t) => {
  const dir = tmpDir(t);
  const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
  mkdirSync(path.join(dir, 'tokens'));
  const conf = path.join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${path.join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const env = { SOFTHSM2_CONF: conf, KEYPROV_PKCS11_PIN: '1234' };
  const init = spawnSync('softhsm2-util', ['--init-token', '--free', '--label', 'lab', '--pin', '1234', '--so-pin', '5678'], { env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.equal(init.status, 0, init.stderr);
  const args = ['ca', 'create', '--backend', 'pkcs11', '--pkcs11-module', MODULE, '--token-label', 'lab', '--key-label', 'dry-ca'];
  const before = snapshot(dir);
  const r = await runCli([...args, '--dry-run', '--json'], { cwd: dir, env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(json(r).key, 'pkcs11:dry-ca');
  assert.match(r.stderr, /would generate the ec-p256 key "dry-ca" in the token/);
  // SoftHSM rewrites its token.object (login bookkeeping) on every login; a key would be a
  // new <uuid>.object file beside it.
  const files = (snap: Record<string, string>) => Object.fromEntries(Object.entries(snap).map(([k, v]) => [k, k.endsWith('/token.object') ? 'token' : v]));
  assert.deepEqual(files(snapshot(dir)), files(before), 'no key object in the token, no ca.pem');

  const wrongPin = await runCli([...args, '--dry-run', '--json'], { cwd: dir, env: { ...env, KEYPROV_PKCS11_PIN: '9999' } });
  assert.equal(wrongPin.code, 2);
  assert.equal(errorOf(wrongPin).code, 'PKCS11_PIN_WRONG');

  // A used label is refused in a dry run as in a real one.
  assert.equal((await runCli(args, { cwd: dir, env })).code, 0);
  const used = await runCli([...args, '--force', '--dry-run', '--json'], { cwd: dir, env });
  assert.equal(used.code, 2);
  assert.equal(errorOf(used).code, 'PKCS11_KEY_EXISTS');
});
