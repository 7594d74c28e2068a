// CA keys keyprov cannot sign with (made by openssl at run time) are refused when the CA is
// imported and when an existing CA is loaded: a usage error naming the type, the supported
// ones and how to make a good CA, never "internal error".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { existsSync, mkdirSync, copyFileSync, writeFileSync } from 'node:fs';
import { runCli, type CliResult } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { mustOpenssl, opensslDeviceKey } from './openssl.js';

const CA_EXT = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n';

/** A self-signed CA (or, for a key that cannot sign, one signed by an Ed25519 key) of this key type. */
function opensslCa(dir: string, kind: string): { cert: string; key: string } {
  const key = path.join(dir, `${kind}.key`);
  const cert = path.join(dir, `${kind}.pem`);
  const ext = path.join(dir, 'ca.ext');
  writeFileSync(ext, CA_EXT);
  const gen: Record<string, string[]> = {
    ed25519: ['-algorithm', 'ed25519'],
    ed448: ['-algorithm', 'ed448'],
    x25519: ['-algorithm', 'x25519'],
    'rsa-1024': ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'],
    'ec-p521': ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521'],
  };
  if (kind === 'dsa') {
    const params = path.join(dir, 'dsa.params');
    mustOpenssl(['genpkey', '-genparam', '-algorithm', 'DSA', '-pkeyopt', 'dsa_paramgen_bits:2048', '-out', params]);
    mustOpenssl(['genpkey', '-paramfile', params, '-out', key]);
  } else mustOpenssl(['genpkey', ...gen[kind]!, '-out', key]);
  if (kind === 'x25519') {
    // X25519 cannot sign: its certificate is signed by another key, as a CA's could be.
    const signer = opensslCa(dir, 'ed25519');
    const pub = path.join(dir, 'x25519.pub');
    mustOpenssl(['pkey', '-in', key, '-pubout', '-out', pub]);
    mustOpenssl(['x509', '-new', '-force_pubkey', pub, '-key', signer.key, '-subj', '/CN=x25519 CA', '-days', '30', '-extfile', ext, '-out', cert]);
  } else {
    const digest = kind.startsWith('ed') ? [] : ['-sha256'];
    mustOpenssl(['req', '-x509', '-new', '-key', key, ...digest, '-days', '30', '-subj', `/CN=${kind} CA`, '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', cert]);
  }
  return { cert, key };
}

function assertRefused(r: CliResult, type: RegExp, source: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.doesNotMatch(r.stderr, /internal error/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  const e = JSON.parse(r.stdout).error;
  assert.equal(e.code, 'CA_KEY_TYPE');
  assert.match(e.message, type);
  assert.match(e.message, source);
  assert.match(e.message, /EC P-256\/P-384 or RSA 2048\/3072\/4096/);
  assert.match(e.hint, /keyprov ca create/);
  assert.match(e.hint, /openssl ecparam -name prime256v1/);
}

const KINDS: [string, RegExp][] = [
  ['ed25519', /type ed25519/],
  ['ed448', /type ed448/],
  ['x25519', /type x25519/],
  ['dsa', /type dsa/],
  ['rsa-1024', /type rsa-1024/],
  ['ec-p521', /type ec-p521/],
];

test('ca import refuses CA keys keyprov cannot sign with, storing nothing', async (t) => {
  const dir = tmpDir(t);
  for (const [kind, type] of KINDS) {
    const ca = opensslCa(dir, kind);
    // openssl itself takes it as a CA certificate with this key type.
    assert.match(mustOpenssl(['x509', '-in', ca.cert, '-noout', '-text']), /CA:TRUE/);
    for (const dry of [[], ['--dry-run']]) {
      const r = await runCli(['ca', 'import', '--cert', ca.cert, '--key', ca.key, ...dry, '--json'], { cwd: dir });
      assertRefused(r, type, new RegExp(`${kind}\\.pem`));
      assert.ok(!existsSync(path.join(dir, '.keyprov')), `${kind}: nothing stored`);
    }
  }
});

test('an existing CA with an Ed25519 key: issue and verification-cert refuse it up front instead of an internal error', async (t) => {
  const dir = tmpDir(t);
  const ca = opensslCa(dir, 'ed25519');
  // As if placed by hand, or imported by a keyprov that did not check.
  mkdirSync(path.join(dir, '.keyprov'));
  copyFileSync(ca.cert, path.join(dir, '.keyprov', 'ca.pem'));
  copyFileSync(ca.key, path.join(dir, '.keyprov', 'ca.key'));
  writeFileSync(path.join(dir, 'dev.pem'), opensslDeviceKey().pem);

  const issued = await runCli(['issue', '--public-key', 'dev.pem', '--cn', 'thing', '--out', 'device.pem', '--json'], { cwd: dir });
  assertRefused(issued, /type ed25519/, /\.keyprov\/ca\.pem/);
  assert.ok(!existsSync(path.join(dir, 'device.pem')));
  const dry = await runCli(['issue', '--dry-run', '--public-key', 'dev.pem', '--cn', 'thing', '--json'], { cwd: dir });
  assertRefused(dry, /type ed25519/, /\.keyprov\/ca\.pem/);
  const verification = await runCli(['ca', 'verification-cert', '--registration-code', 'abc', '--json'], { cwd: dir });
  assertRefused(verification, /type ed25519/, /\.keyprov\/ca\.pem/);
  // Given on the command line instead.
  const byOption = await runCli(['issue', '--public-key', 'dev.pem', '--cn', 'thing', '--ca-cert', ca.cert, '--ca-key', ca.key, '--json'], { cwd: tmpDir(t) });
  assert.equal(byOption.code, 2, byOption.stderr);
});

test('the supported CA key types still import and issue (EC P-384 and RSA-3072 from openssl)', async (t) => {
  const dir = tmpDir(t);
  for (const [kind, gen] of [
    ['ec-p384', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384']],
    ['rsa-3072', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072']],
  ] as const) {
    const key = path.join(dir, `${kind}.key`);
    const cert = path.join(dir, `${kind}.pem`);
    mustOpenssl(['genpkey', ...gen, '-out', key]);
    mustOpenssl(['req', '-x509', '-new', '-key', key, '-sha256', '-days', '30', '-subj', `/CN=${kind}`, '-out', cert]);
    const r = await runCli(['ca', 'import', '--force', '--cert', cert, '--key', key], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
  }
  writeFileSync(path.join(dir, 'dev.pem'), opensslDeviceKey().pem);
  const issued = await runCli(['issue', '--public-key', 'dev.pem', '--cn', 'thing', '--out', 'device.pem'], { cwd: dir });
  assert.equal(issued.code, 0, issued.stderr);
  assert.equal(mustOpenssl(['verify', '-CAfile', path.join(dir, 'rsa-3072.pem'), path.join(dir, 'device.pem')]).trim(), `${path.join(dir, 'device.pem')}: OK`);
});
