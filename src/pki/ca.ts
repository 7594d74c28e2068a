// A CA ready to issue: its certificate, the parts of it a device certificate copies, and a
// signer for its key (in memory or in a PKCS #11 token).
import { createHash, X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, SubjectKeyIdentifier, id_ce_subjectKeyIdentifier, BasicConstraints, id_ce_basicConstraints, KeyUsage, id_ce_keyUsage, KeyUsageFlags } from '@peculiar/asn1-x509';
import { readTlv, fromPem, toPem } from './der.js';
import { keyIdentifierOfSpki } from './public-key.js';
import type { CaSigner } from './signers.js';

export interface CaCertificateInfo {
  pem: string;
  der: Buffer;
  x509: X509Certificate;
  /** The subject Name exactly as encoded in the CA certificate (copied as device issuer). */
  subjectDer: Buffer;
  spkiDer: Buffer;
  /** The CA's SKI (from the extension, else computed like openssl does). */
  keyIdentifier: Buffer;
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
  /** keyUsage absent, or with keyCertSign. */
  canSignCertificates: boolean;
  /** SHA-256 of the DER, lowercase hex. */
  fingerprint: string;
}

export interface LoadedCa {
  backend: 'file' | 'pkcs11';
  certificate: CaCertificateInfo;
  signer: CaSigner;
  /** Files or token it came from, for messages (never key material). */
  source: string;
  /** Releases the token session (no-op for files). */
  close(): void;
}

/** Parses a CA certificate (PEM or DER). Throws a plain Error on garbage; callers name the file. */
export function parseCaCertificate(input: string | Buffer): CaCertificateInfo {
  const text = typeof input === 'string' ? input : input.toString('latin1');
  const der = text.includes('-----BEGIN') ? fromPem(text, 'CERTIFICATE') : Buffer.from(input as Buffer);
  if (!der) throw new Error('no "-----BEGIN CERTIFICATE-----" block');
  const x509 = new X509Certificate(der);
  // Certificate -> TBSCertificate -> [0] version, serial, signature, issuer, validity, subject, spki
  const tbs = readTlv(der, readTlv(der, 0).start);
  let p = tbs.start;
  const fields: { start: number; next: number }[] = [];
  while (p < tbs.end && fields.length < 7) {
    const t = readTlv(der, p);
    fields.push({ start: p, next: t.next });
    p = t.next;
  }
  const off = der[tbs.start] === 0xa0 ? 1 : 0;
  const subjectDer = der.subarray(fields[4 + off]!.start, fields[4 + off]!.next);
  const spkiDer = der.subarray(fields[5 + off]!.start, fields[5 + off]!.next);
  const cert = AsnConvert.parse(der, Certificate);
  const exts = cert.tbsCertificate.extensions ?? [];
  const find = (oid: string) => exts.find((e) => e.extnID === oid)?.extnValue.buffer;
  const skiRaw = find(id_ce_subjectKeyIdentifier);
  const bcRaw = find(id_ce_basicConstraints);
  const kuRaw = find(id_ce_keyUsage);
  const isCa = bcRaw ? AsnConvert.parse(bcRaw, BasicConstraints).cA : false;
  const canSignCertificates = kuRaw ? (AsnConvert.parse(kuRaw, KeyUsage).toNumber() & KeyUsageFlags.keyCertSign) !== 0 : true;
  return {
    pem: toPem('CERTIFICATE', der),
    der: Buffer.from(der),
    x509,
    subjectDer: Buffer.from(subjectDer),
    spkiDer: Buffer.from(spkiDer),
    keyIdentifier: skiRaw ? Buffer.from(AsnConvert.parse(skiRaw, SubjectKeyIdentifier).buffer) : keyIdentifierOfSpki(spkiDer),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    isCa,
    canSignCertificates,
    fingerprint: createHash('sha256').update(der).digest('hex'),
  };
}
