// CAs made with openssl as the AWS IoT documentation shows, in every key form openssl
// writes; and the refusals, each with a clear message and never a byte of the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { assertKeyNotIn, mustOpenssl, openssl, opensslDeviceKey } from './openssl.js';

/** rootCA.key in one of the forms openssl writes, and rootCA.pem made from it (AWS docs recipe). */
function opensslCa(dir: string, form: 'genrsa-pkcs1' | 'genrsa' | 'ecparam' | 'ecparam-noparams' | 'pkcs8-encrypted', passphrase = 'correct horse'): { cert: string; key: string; keyPem: string } {
  const key = path.join(dir, `rootCA-${form}.key`);
  const cert = path.join(dir, `rootCA-${form}.pem`);
  if (form === 'genrsa-pkcs1') mustOpenssl(['genrsa', '-traditional', '-out', key, '2048']);
  if (form === 'genrsa') mustOpenssl(['genrsa', '-out', key, '2048']);
  if (form === 'ecparam') mustOpenssl(['ecparam', '-name', 'prime256v1', '-genkey', '-out', key]);
  if (form === 'ecparam-noparams') mustOpenssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  if (form === 'pkcs8-encrypted') {
    const plain = mustOpenssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    writeFileSync(key, mustOpenssl(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-passout', `pass:${passphrase}`], { input: plain }));
  }
  const pass = form === 'pkcs8-encrypted' ? ['-passin', `pass:${passphrase}`] : [];
  mustOpenssl(['req', '-x509', '-new', '-nodes', '-key', key, ...pass, '-sha256', '-days', '1024', '-subj', '/CN=rootCA', '-out', cert]);
  return { cert, key, keyPem: readFileSync(key, 'utf8') };
}

const FORMS = [
  ['genrsa-pkcs1', /BEGIN RSA PRIVATE KEY/],
  ['genrsa', /BEGIN PRIVATE KEY/],
  ['ecparam', /BEGIN EC PARAMETERS[\s\S]*BEGIN EC PRIVATE KEY/],
  ['ecparam-noparams', /^-----BEGIN EC PRIVATE KEY/],
  ['pkcs8-encrypted', /BEGIN ENCRYPTED PRIVATE KEY/],
] as const;

for (const [form, looksLike] of FORMS) {
  test(`ca import: a CA whose key came from openssl (${form}) issues certificates openssl verifies`, async (t) => {
    const dir = tmpDir(t);
    const ca = opensslCa(dir, form);
    assert.match(ca.keyPem, looksLike);
    const env = form === 'pkcs8-encrypted' ? { KEYPROV_CA_PASSPHRASE: 'correct horse' } : {};
    const r = await runCli(['ca', 'import', '--cert', ca.cert, '--key', ca.key, '--json'], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    assertKeyNotIn(r.stdout + r.stderr, ca.keyPem, env.KEYPROV_CA_PASSPHRASE);
    const stored = path.join(dir, '.keyprov/ca.key');
    assert.equal(statSync(stored).mode & 0o777, 0o600);
    const storedPem = readFileSync(stored, 'utf8');
    assert.match(storedPem, form === 'pkcs8-encrypted' ? /^-----BEGIN ENCRYPTED PRIVATE KEY-----/ : /^-----BEGIN PRIVATE KEY-----/);
    // Same key, as openssl sees it.
    const pass = form === 'pkcs8-encrypted' ? ['-passin', 'pass:correct horse'] : [];
    assert.equal(mustOpenssl(['pkey', '-in', stored, ...pass, '-pubout']), mustOpenssl(['pkey', '-in', ca.key, ...pass, '-pubout']));

    const dev = opensslDeviceKey();
    writeFileSync(path.join(dir, 'dev.pem'), dev.pem);
    const issued = await runCli(['issue', '--public-key', 'dev.pem', '--cn', 'imported', '--out', 'device.pem'], { cwd: dir, env });
    assert.equal(issued.code, 0, issued.stderr);
    assertKeyNotIn(issued.stdout + issued.stderr, ca.keyPem, env.KEYPROV_CA_PASSPHRASE);
    assert.equal(openssl(['verify', '-CAfile', ca.cert, path.join(dir, 'device.pem')]).code, 0);
  });
}

test('refusals: wrong or missing passphrase, key of another CA, non-CA certificate, expired CA, unreadable key; the key never shows', async (t) => {
  const dir = tmpDir(t);
  const enc = opensslCa(dir, 'pkcs8-encrypted', 's3cret-pass');
  const other = opensslCa(dir, 'ecparam');
  const secrets = [enc.keyPem, other.keyPem];
  const run = async (args: string[], env: Record<string, string> = {}) => {
    const r = await runCli([...args, '--json'], { cwd: dir, env });
    for (const k of secrets) assertKeyNotIn(r.stdout + r.stderr, k, k === enc.keyPem ? 's3cret-pass' : undefined);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    return { ...r, error: r.stdout ? JSON.parse(r.stdout).error : undefined };
  };

  const wrong = await run(['ca', 'import', '--cert', enc.cert, '--key', enc.key], { KEYPROV_CA_PASSPHRASE: 'not it' });
  assert.equal(wrong.code, 2);
  assert.equal(wrong.error.code, 'CA_KEY_PASSPHRASE_WRONG');
  assert.match(wrong.stderr, /wrong passphrase for .*rootCA-pkcs8-encrypted\.key/);

  const missing = await run(['ca', 'import', '--cert', enc.cert, '--key', enc.key]);
  assert.equal(missing.error.code, 'CA_KEY_PASSPHRASE_REQUIRED');
  assert.match(missing.stderr, /hint: put the passphrase in the environment variable KEYPROV_CA_PASSPHRASE/);

  const mismatch = await run(['ca', 'import', '--cert', enc.cert, '--key', other.key]);
  assert.equal(mismatch.code, 2);
  assert.equal(mismatch.error.code, 'CA_KEY_MISMATCH');

  // A device certificate offered as the CA.
  const dev = opensslDeviceKey();
  writeFileSync(path.join(dir, 'dev.pem'), dev.pem);
  mustOpenssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-subj', '/CN=leaf', '-out', 'leaf.csr'], { cwd: dir });
  mustOpenssl(['x509', '-req', '-in', 'leaf.csr', '-signkey', 'leaf.key', '-days', '30', '-out', 'leaf.pem'], { cwd: dir });
  assert.doesNotMatch(mustOpenssl(['x509', '-in', 'leaf.pem', '-noout', '-text'], { cwd: dir }), /CA:TRUE/);
  const notCa = await run(['ca', 'import', '--cert', 'leaf.pem', '--key', 'leaf.key']);
  assert.equal(notCa.error.code, 'CA_NOT_A_CA');
  const notCaIssue = await run(['issue', '--public-key', 'dev.pem', '--cn', 'x', '--ca-cert', 'leaf.pem', '--ca-key', 'leaf.key']);
  assert.equal(notCaIssue.error.code, 'CA_NOT_A_CA');

  // An expired CA: openssl itself says it has expired; keyprov refuses to issue from it.
  mustOpenssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'old.key'], { cwd: dir });
  writeFileSync(path.join(dir, 'ca.cnf'), '[req]\ndistinguished_name=dn\n[dn]\n[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n');
  mustOpenssl(['req', '-new', '-key', 'old.key', '-subj', '/CN=old CA', '-out', 'old.csr'], { cwd: dir });
  mkdirSync(path.join(dir, 'oldca'));
  writeFileSync(path.join(dir, 'oldca/index.txt'), '');
  writeFileSync(
    path.join(dir, 'oldca.cnf'),
    `[ca]\ndefault_ca=x\n[x]\ndir=${path.join(dir, 'oldca')}\ndatabase=$dir/index.txt\nnew_certs_dir=$dir\nserial=$dir/serial\ndefault_md=sha256\npolicy=p\nx509_extensions=v3\n[p]\ncommonName=supplied\n[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n`,
  );
  writeFileSync(path.join(dir, 'oldca/serial'), '01\n');
  mustOpenssl(['ca', '-batch', '-config', 'oldca.cnf', '-selfsign', '-keyfile', 'old.key', '-in', 'old.csr', '-startdate', '20200101000000Z', '-enddate', '20210101000000Z', '-out', 'old.pem'], { cwd: dir });
  assert.equal(openssl(['x509', '-in', 'old.pem', '-noout', '-checkend', '0'], { cwd: dir }).code, 1, 'openssl: expired');
  const expired = await run(['issue', '--public-key', 'dev.pem', '--cn', 'x', '--ca-cert', 'old.pem', '--ca-key', 'old.key']);
  assert.equal(expired.code, 5);
  assert.equal(expired.error.code, 'CA_EXPIRED');
  assert.match(expired.stderr, /expired on 2021-01-01/);

  // Unreadable key: missing, and a directory.
  const gone = await run(['issue', '--public-key', 'dev.pem', '--cn', 'x', '--ca-cert', other.cert, '--ca-key', 'nope.key']);
  assert.equal(gone.error.code, 'CA_KEY_UNREADABLE');
  assert.match(gone.stderr, /nope\.key: it does not exist/);
  mkdirSync(path.join(dir, 'adir'));
  const isDir = await run(['issue', '--public-key', 'dev.pem', '--cn', 'x', '--ca-cert', other.cert, '--ca-key', 'adir']);
  assert.equal(isDir.error.code, 'CA_KEY_UNREADABLE');
  // Not a key at all.
  const garbage = await run(['issue', '--public-key', 'dev.pem', '--cn', 'x', '--ca-cert', other.cert, '--ca-key', 'dev.pem']);
  assert.equal(garbage.error.code, 'CA_KEY_FORMAT');

  // Nothing was half-written into the state folder by any of the refusals.
  assert.throws(() => statSync(path.join(dir, '.keyprov/ca.key')));
  assert.ok(createPrivateKey({ key: enc.keyPem, passphrase: 's3cret-pass' })); // the fixture itself is sound
});

test('device key types: RSA and P-384 keys are refused when the profile expects P-256, accepted when configured', async (t) => {
  const dir = tmpDir(t);
  assert.equal((await runCli(['ca', 'create'], { cwd: dir })).code, 0);
  for (const kind of ['rsa-2048', 'ec-p384'] as const) {
    writeFileSync(path.join(dir, `${kind}.pem`), opensslDeviceKey(kind).pem);
    const r = await runCli(['issue', '--public-key', `${kind}.pem`, '--cn', 'x', '--json'], { cwd: dir });
    assert.equal(r.code, 2);
    assert.equal(JSON.parse(r.stdout).error.code, 'DEVICE_KEY_ALGORITHM');
    assert.match(r.stderr, new RegExp(`is ${kind}; this profile accepts ec-p256`));
  }
  writeFileSync(path.join(dir, 'keyprov.config.yaml'), 'pki:\n  deviceKeyAlgorithms: [ec-p256, ec-p384]\n');
  const ok = await runCli(['issue', '--public-key', 'ec-p384.pem', '--cn', 'x', '--out', 'c.pem'], { cwd: dir });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(openssl(['verify', '-CAfile', '.keyprov/ca.pem', 'c.pem'], { cwd: dir }).code, 0);

  // A corrupted byte in the point: off the curve, exit 5 (openssl refuses the same bytes).
  const der = opensslDeviceKey().der;
  der[der.length - 5] ^= 0x01;
  writeFileSync(path.join(dir, 'bad.der'), der);
  assert.notEqual(openssl(['pkey', '-pubin', '-inform', 'DER', '-in', 'bad.der', '-noout'], { cwd: dir }).code, 0);
  const bad = await runCli(['issue', '--public-key', 'bad.der', '--cn', 'x', '--json'], { cwd: dir });
  assert.equal(bad.code, 5);
  assert.equal(JSON.parse(bad.stdout).error.code, 'PUBLIC_KEY_INVALID');
});
