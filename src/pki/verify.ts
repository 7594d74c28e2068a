// `keyprov verify`: does this certificate carry exactly this public key, chain to the CA,
// hold clientAuth and lie within its dates? Each check is reported, not just the first failure.
import { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, ExtendedKeyUsage, id_ce_extKeyUsage, id_kp_clientAuth } from '@peculiar/asn1-x509';
import { fromPem } from './der.js';
import { parseDevicePublicKey, type DevicePublicKey } from './public-key.js';
import { parseCaCertificate, type CaCertificateInfo } from './ca.js';

export interface VerifyCheck {
  check: 'public-key' | 'dates' | 'client-auth' | 'chain' | 'ca-dates';
  ok: boolean;
  detail: string;
}

export interface VerifyResult {
  ok: boolean;
  checks: VerifyCheck[];
  subject: string;
  serial: string;
  notBefore: string;
  notAfter: string;
}

export function parseCertificate(input: string | Buffer): X509Certificate {
  const text = typeof input === 'string' ? input : input.toString('latin1');
  const der = text.includes('-----BEGIN') ? fromPem(text, 'CERTIFICATE') : Buffer.from(input as Buffer);
  if (!der) throw new Error('no "-----BEGIN CERTIFICATE-----" block');
  return new X509Certificate(der);
}

export function verifyDeviceCertificate(opts: {
  certificate: X509Certificate;
  publicKey: DevicePublicKey | Uint8Array | string;
  ca?: CaCertificateInfo | string | Buffer;
  now?: Date;
}): VerifyResult {
  const cert = opts.certificate;
  const now = opts.now ?? new Date();
  const key = typeof opts.publicKey === 'object' && 'spkiDer' in opts.publicKey ? opts.publicKey : parseDevicePublicKey(opts.publicKey);
  const checks: VerifyCheck[] = [];

  const same = cert.publicKey.equals(key.key);
  checks.push({ check: 'public-key', ok: same, detail: same ? `the certificate carries this ${key.algorithm} key` : 'the certificate carries a DIFFERENT public key than the one given' });

  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  const inDates = now >= from && now <= to;
  checks.push({ check: 'dates', ok: inDates, detail: inDates ? `valid until ${to.toISOString()}` : now < from ? `not valid before ${from.toISOString()}` : `expired on ${to.toISOString()}` });

  const parsed = AsnConvert.parse(cert.raw, Certificate);
  const ekuRaw = parsed.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_extKeyUsage)?.extnValue.buffer;
  const ekus = ekuRaw ? [...AsnConvert.parse(ekuRaw, ExtendedKeyUsage)] : [];
  const clientAuth = ekus.includes(id_kp_clientAuth);
  checks.push({ check: 'client-auth', ok: clientAuth, detail: clientAuth ? 'extendedKeyUsage has clientAuth' : ekuRaw ? 'extendedKeyUsage lacks clientAuth' : 'no extendedKeyUsage extension' });

  if (opts.ca !== undefined) {
    const ca = typeof opts.ca === 'object' && 'fingerprint' in opts.ca ? opts.ca : parseCaCertificate(opts.ca);
    const issued = cert.checkIssued(ca.x509);
    const signed = issued && cert.verify(ca.x509.publicKey);
    checks.push({
      check: 'chain',
      ok: signed,
      detail: signed ? `signed by ${ca.x509.subject.replace(/\n/g, ', ')}` : issued ? 'the issuer name matches the CA but the signature does not verify with its key' : 'not issued by this CA (issuer name or key identifier differ)',
    });
    const caOk = ca.isCa && now >= ca.notBefore && now <= ca.notAfter;
    checks.push({ check: 'ca-dates', ok: caOk, detail: !ca.isCa ? 'the CA certificate is not a CA' : caOk ? `CA valid until ${ca.notAfter.toISOString()}` : `CA outside its validity (${ca.notBefore.toISOString()} .. ${ca.notAfter.toISOString()})` });
  }
  return { ok: checks.every((c) => c.ok), checks, subject: cert.subject.replace(/\n/g, ', '), serial: cert.serialNumber, notBefore: from.toISOString(), notAfter: to.toISOString() };
}
