// Certificates made with openssl at test time (no key material is committed).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export function openssl(dir: string, ...args: string[]): string {
  return execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A self-signed certificate; returns its PEM text. `rsaBits` makes an RSA key, else EC P-256. */
export function makeCert(dir: string, name: string, opts: { rsaBits?: number; cn?: string } = {}): string {
  const key = opts.rsaBits ? ['-newkey', `rsa:${opts.rsaBits}`] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  openssl(dir, 'req', '-x509', ...key, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-subj', `/CN=${opts.cn ?? name}`, '-days', '2');
  return readFileSync(path.join(dir, `${name}.pem`), 'utf8');
}

/** SHA-256 fingerprint as openssl computes it. */
export function fingerprint(dir: string, pemFile: string): string {
  return openssl(dir, 'x509', '-in', pemFile, '-noout', '-fingerprint', '-sha256').trim();
}
