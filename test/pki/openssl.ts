// openssl as the independent judge of what keyprov writes, and a check that a private key
// never shows up in any output.
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import assert from 'node:assert/strict';

export function openssl(args: string[], opts: { cwd?: string; input?: string } = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('openssl', args, { cwd: opts.cwd, input: opts.input, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function mustOpenssl(args: string[], opts: { cwd?: string; input?: string } = {}): string {
  const r = openssl(args, opts);
  assert.equal(r.code, 0, `openssl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** A fresh device public key (PEM) from openssl, and its DER. */
export function opensslDeviceKey(kind: 'ec-p256' | 'ec-p384' | 'rsa-2048' = 'ec-p256'): { pem: string; der: Buffer } {
  const priv =
    kind === 'rsa-2048'
      ? mustOpenssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'])
      : mustOpenssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${kind === 'ec-p256' ? 'P-256' : 'P-384'}`]);
  const pem = mustOpenssl(['pkey', '-pubout'], { input: priv });
  return { pem, der: createPublicKey(pem).export({ format: 'der', type: 'spki' }) };
}

/** Asserts that no fragment of this private key (PEM body lines, raw private scalar/exponent) is in `text`. */
export function assertKeyNotIn(text: string, keyPem: string, passphrase?: string): void {
  const body = keyPem.split('\n').filter((l) => l && !l.startsWith('-----') && !l.includes(':'));
  for (const line of body) assert.ok(!text.includes(line.slice(0, 32)), 'a line of the CA key PEM appears in the output');
  const jwk = createPrivateKey({ key: keyPem, passphrase }).export({ format: 'jwk' });
  const d = String(jwk.d);
  assert.ok(!text.includes(d.slice(0, 24)), 'the CA private scalar (base64url) appears in the output');
  assert.ok(!text.toLowerCase().includes(Buffer.from(d, 'base64url').toString('hex').slice(0, 32)), 'the CA private scalar (hex) appears in the output');
  if (passphrase) assert.ok(!text.includes(passphrase), 'the passphrase appears in the output');
}

export function pemToDer(pem: string, label = 'CERTIFICATE'): Buffer {
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(pem);
  assert.ok(m, `no ${label} block`);
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}
