// A broker CA and a server certificate for localhost, for the demo broker. The board
// trusts the broker CA (vboard serve --root-ca DIR/broker-ca.pem); the device CA is a
// different one (the keyprov lab CA) that the broker uses to verify the boards.
import 'reflect-metadata';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

function pemKey(pkcs8) {
  const b64 = Buffer.from(pkcs8).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`;
}

/**
 * Files in `dir`: broker-ca.pem, server.pem, server.key (reused when present).
 * @returns {{ caFile: string, certFile: string, keyFile: string }}
 */
export async function ensureServerCertificate(dir, { hostnames = ['localhost'], ips = ['127.0.0.1', '::1'] } = {}) {
  const files = { caFile: path.join(dir, 'broker-ca.pem'), certFile: path.join(dir, 'server.pem'), keyFile: path.join(dir, 'server.key') };
  if (Object.values(files).every((f) => existsSync(f))) return files;
  mkdirSync(dir, { recursive: true });
  const now = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 365 * 86400_000);
  const caKeys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=vboard demo broker CA',
    notBefore: now,
    notAfter,
    keys: caKeys,
    signingAlgorithm: alg,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  const serverKeys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: `CN=${hostnames[0]}`,
    issuer: ca.subject,
    notBefore: now,
    notAfter,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([...hostnames.map((value) => ({ type: 'dns', value })), ...ips.map((value) => ({ type: 'ip', value }))]),
    ],
  });
  writeFileSync(files.caFile, ca.toString('pem') + '\n');
  writeFileSync(files.certFile, server.toString('pem') + '\n');
  writeFileSync(files.keyFile, pemKey(await webcrypto.subtle.exportKey('pkcs8', serverKeys.privateKey)), { mode: 0o600 });
  return files;
}

export function readPem(file) {
  return readFileSync(file);
}
