// The verification certificate AWS IoT asks for when a CA is registered: a certificate
// signed by the CA whose CN is the account's registration code. Its key pair is thrown
// away; AWS only checks that the CA signed it.
import { generateKeyPairSync } from 'node:crypto';
import type { KeyprovConfig } from '../config/schema.js';
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { ext, KEY_USAGE, randomSerial, signCertificate } from './certificate-builder.js';
import { derCommonNameName, toPem } from './der.js';
import { keyIdentifierOfSpki } from './public-key.js';
import { loadCa } from './ca-load.js';
import type { LoadedCa } from './ca.js';

export const VERIFICATION_CERT_DAYS = 30;

/** Loads the CA as configured (file or PKCS #11) and issues the verification certificate. */
export async function createVerificationCertificate(opts: {
  projectRoot: string;
  config?: KeyprovConfig;
  registrationCode: string;
  log?: Logger;
  /** Defaults to process.env (passphrase, PIN). */
  env?: NodeJS.ProcessEnv;
}): Promise<{ certificatePem: string; caCertificatePem: string }> {
  const code = opts.registrationCode?.trim();
  if (!code || code.length > 64 || !/^[\x21-\x7e]+$/.test(code)) {
    throw new UsageError('REGISTRATION_CODE_INVALID', 'the registration code must be 1 to 64 printable characters without spaces', {
      hint: 'get it with `aws iot get-registration-code`',
    });
  }
  const ca = await loadCa({ projectRoot: opts.projectRoot, config: opts.config, env: opts.env, log: opts.log });
  try {
    return { certificatePem: await verificationCertificateFrom(ca, code), caCertificatePem: ca.certificate.pem };
  } finally {
    ca.close();
  }
}

export async function verificationCertificateFrom(ca: LoadedCa, registrationCode: string, now = new Date()): Promise<string> {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  let notAfter = new Date(notBefore.getTime() + VERIFICATION_CERT_DAYS * 86_400_000);
  if (notAfter > ca.certificate.notAfter) notAfter = ca.certificate.notAfter;
  const der = await signCertificate(ca.signer, {
    serial: randomSerial(),
    issuer: ca.certificate.subjectDer,
    subject: derCommonNameName(registrationCode),
    notBefore,
    notAfter,
    spki,
    extensions: [ext.basicConstraints(false), ext.keyUsage(KEY_USAGE.device), ext.subjectKeyIdentifier(keyIdentifierOfSpki(spki)), ext.authorityKeyIdentifier(ca.certificate.keyIdentifier)],
  });
  return toPem('CERTIFICATE', der);
}
