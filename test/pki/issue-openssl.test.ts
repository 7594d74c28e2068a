// Device certificates checked by openssl: chain, the exact public key, the extensions,
// validity, and the same key identifiers `openssl x509 -req -force_pubkey` writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import { createHash, createPublicKey } from 'node:crypto';
import { runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { assertKeyNotIn, mustOpenssl, openssl, opensslDeviceKey, pemToDer } from './openssl.js';

/** The `X509v3 <name>:` block of `openssl x509 -text`: its header line and the line after. */
function extension(text: string, name: string): { critical: boolean; value: string } | undefined {
  const m = new RegExp(`X509v3 ${name}:( critical)?\\s*\\n\\s*(.+)`).exec(text);
  return m ? { critical: !!m[1], value: m[2]!.trim() } : undefined;
}

for (const alg of ['ec-p256', 'ec-p384', 'rsa-2048'] as const) {
  test(`${alg} CA: openssl verifies the device certificate, which carries the input key and the required extensions`, async (t) => {
    const dir = tmpDir(t);
    const created = await runCli(['ca', 'create', '--algorithm', alg, '--subject', '/O=Test Lab/CN=Lab CA ' + alg, '--json'], { cwd: dir });
    assert.equal(created.code, 0, created.stderr);
    const caPem = path.join(dir, '.keyprov/ca.pem');
    const caKey = path.join(dir, '.keyprov/ca.key');
    assert.equal(statSync(caKey).mode & 0o777, 0o600);
    const keyPem = readFileSync(caKey, 'utf8');
    assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----/); // PKCS #8
    assertKeyNotIn(created.stdout + created.stderr, keyPem);

    // The CA itself.
    const caText = mustOpenssl(['x509', '-in', caPem, '-noout', '-text']);
    assert.deepEqual(extension(caText, 'Basic Constraints'), { critical: true, value: 'CA:TRUE' });
    assert.deepEqual(extension(caText, 'Key Usage'), { critical: true, value: 'Certificate Sign, CRL Sign' });
    const caSki = extension(caText, 'Subject Key Identifier')!.value;
    assert.match(caSki, /^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    assert.equal(extension(caText, 'Authority Key Identifier')!.value.replace(/^keyid:/, ''), caSki);
    assert.match(mustOpenssl(['x509', '-in', caPem, '-noout', '-subject']), /subject=O = Test Lab, CN = Lab CA/);
    assert.match(mustOpenssl(['pkey', '-in', caKey, '-noout', '-text']), alg === 'rsa-2048' ? /Private-Key: \(2048 bit/ : alg === 'ec-p256' ? /NIST CURVE: P-256/ : /NIST CURVE: P-384/);

    const dev = opensslDeviceKey('ec-p256');
    writeFileSync(path.join(dir, 'dev.pem'), dev.pem);
    const issued = await runCli(['issue', '--public-key', 'dev.pem', '--cn', `thing-${alg}`, '--out', 'device.pem', '--json'], { cwd: dir });
    assert.equal(issued.code, 0, issued.stderr);
    assertKeyNotIn(issued.stdout + issued.stderr, keyPem);
    const result = JSON.parse(issued.stdout);

    assert.equal(mustOpenssl(['verify', '-x509_strict', '-CAfile', caPem, path.join(dir, 'device.pem')]).trim(), `${path.join(dir, 'device.pem')}: OK`);
    // The certificate carries exactly the input key.
    const pub = mustOpenssl(['x509', '-in', path.join(dir, 'device.pem'), '-noout', '-pubkey']);
    assert.ok(pemToDer(pub, 'PUBLIC KEY').equals(dev.der));

    const text = mustOpenssl(['x509', '-in', path.join(dir, 'device.pem'), '-noout', '-text']);
    assert.match(text, /Version: 3 \(0x2\)/);
    assert.match(text, /Subject: CN = thing-/);
    assert.match(text, alg === 'rsa-2048' ? /Signature Algorithm: sha256WithRSAEncryption/ : /Signature Algorithm: ecdsa-with-SHA256/);
    assert.deepEqual(extension(text, 'Basic Constraints'), { critical: true, value: 'CA:FALSE' });
    assert.deepEqual(extension(text, 'Key Usage'), { critical: true, value: 'Digital Signature' });
    assert.deepEqual(extension(text, 'Extended Key Usage'), { critical: false, value: 'TLS Web Client Authentication' });
    assert.equal(extension(text, 'Authority Key Identifier')!.value.replace(/^keyid:/, ''), caSki);
    // SKI: SHA-1 of the subjectPublicKey bits (RFC 5280 method 1), computed here from the input.
    const bits = dev.der.subarray(dev.der.length - 65);
    const ski = createHash('sha1').update(bits).digest('hex').toUpperCase().match(/../g)!.join(':');
    assert.equal(extension(text, 'Subject Key Identifier')!.value, ski);

    // Serial: positive, as --json reports it, and validity 500 days.
    const serial = mustOpenssl(['x509', '-in', path.join(dir, 'device.pem'), '-noout', '-serial']).trim().replace('serial=', '');
    assert.equal(serial, result.serial);
    assert.ok(parseInt(serial[0]!, 16) < 8, 'serial is positive without a leading zero byte');
    const start = Date.parse(mustOpenssl(['x509', '-in', path.join(dir, 'device.pem'), '-noout', '-startdate']).trim().replace('notBefore=', ''));
    const end = Date.parse(mustOpenssl(['x509', '-in', path.join(dir, 'device.pem'), '-noout', '-enddate']).trim().replace('notAfter=', ''));
    assert.equal((end - start) / 86_400_000, 500);
    assert.ok(Math.abs(start - Date.now()) < 120_000);

    // The chain: device then CA, and openssl accepts it as untrusted input too.
    const chain = readFileSync(path.join(dir, 'device-chain.pem'), 'utf8');
    assert.equal(chain, readFileSync(path.join(dir, 'device.pem'), 'utf8') + readFileSync(caPem, 'utf8'));

    // Same key identifiers as the certificate openssl itself issues with -force_pubkey.
    if (alg === 'ec-p256') {
      writeFileSync(path.join(dir, 'ext.cnf'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
      mustOpenssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'throwaway.key', '-subj', '/CN=throwaway', '-out', 'throwaway.csr'], { cwd: dir });
      mustOpenssl(['x509', '-req', '-in', 'throwaway.csr', '-CA', caPem, '-CAkey', caKey, '-set_serial', '1', '-force_pubkey', 'dev.pem', '-days', '500', '-sha256', '-extfile', 'ext.cnf', '-out', 'ref.pem'], { cwd: dir });
      const ref = mustOpenssl(['x509', '-in', path.join(dir, 'ref.pem'), '-noout', '-text']);
      for (const e of ['Basic Constraints', 'Key Usage', 'Extended Key Usage', 'Subject Key Identifier', 'Authority Key Identifier']) {
        assert.deepEqual(extension(text, e), extension(ref, e), e);
      }
      assert.equal(/Issuer: (.*)/.exec(text)![1], /Issuer: (.*)/.exec(ref)![1]);
    }
  });
}

test('issue reads DER keys, prints PEM on stdout without --out, and keyprov verify agrees with openssl', async (t) => {
  const dir = tmpDir(t);
  assert.equal((await runCli(['ca', 'create'], { cwd: dir })).code, 0);
  const dev = opensslDeviceKey();
  writeFileSync(path.join(dir, 'dev.der'), dev.der);
  const r = await runCli(['issue', '--public-key', 'dev.der', '--cn', 'der-thing', '--days', '30'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^-----BEGIN CERTIFICATE-----\n/);
  writeFileSync(path.join(dir, 'c.pem'), r.stdout);
  assert.equal(openssl(['verify', '-CAfile', '.keyprov/ca.pem', 'c.pem'], { cwd: dir }).code, 0);
  writeFileSync(path.join(dir, 'dev.pem'), dev.pem);
  const ok = await runCli(['verify', '--certificate', 'c.pem', '--public-key', 'dev.pem', '--json'], { cwd: dir });
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(JSON.parse(ok.stdout).checks.map((c: { ok: boolean }) => c.ok), [true, true, true, true, true]);

  // Another key: exit 5 and the public-key check fails; openssl agrees the keys differ.
  const other = opensslDeviceKey();
  writeFileSync(path.join(dir, 'other.pem'), other.pem);
  const bad = await runCli(['verify', '--certificate', 'c.pem', '--public-key', 'other.pem', '--json'], { cwd: dir });
  assert.equal(bad.code, 5);
  assert.equal(JSON.parse(bad.stdout).checks.find((c: { check: string }) => c.check === 'public-key').ok, false);
  assert.notEqual(mustOpenssl(['x509', '-in', 'c.pem', '-noout', '-pubkey'], { cwd: dir }), other.pem);

  // Another CA: the chain check fails, as openssl verify does.
  const dir2 = tmpDir(t);
  assert.equal((await runCli(['ca', 'create'], { cwd: dir2 })).code, 0);
  const foreign = await runCli(['verify', '--certificate', path.join(dir, 'c.pem'), '--public-key', path.join(dir, 'dev.pem'), '--ca', '.keyprov/ca.pem', '--json'], { cwd: dir2 });
  assert.equal(foreign.code, 5);
  assert.equal(JSON.parse(foreign.stdout).checks.find((c: { check: string }) => c.check === 'chain').ok, false);
  assert.notEqual(openssl(['verify', '-CAfile', path.join(dir2, '.keyprov/ca.pem'), path.join(dir, 'c.pem')]).code, 0);
});
