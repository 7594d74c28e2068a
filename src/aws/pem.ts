// Reading the certificates keyprov registers, and the ID AWS IoT gives them
// (the SHA-256 of the DER, in lowercase hex), which lets us look one up before registering.
import { promises as fs } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { UsageError } from '../errors.js';

export interface LoadedCertificate {
  file?: string;
  pem: string;
  /** AWS IoT certificate ID. */
  id: string;
  subject: string;
}

export function parseCertificate(pem: string, file?: string, what = 'certificate'): LoadedCertificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (e) {
    throw new UsageError('AWS_CERT_INVALID', `${file ?? what} is not a PEM certificate: ${(e as Error).message}`, {
      hint: `point to the ${what} in PEM form (-----BEGIN CERTIFICATE-----)`,
    });
  }
  // AWS rejects CRLF and extra text around the block: send just the one PEM block with LF.
  const block = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem.replace(/\r\n?/g, '\n'))![0] + '\n';
  return { file, pem: block, id: cert.fingerprint256.replace(/:/g, '').toLowerCase(), subject: cert.subject };
}

export async function readCertificate(file: string, what: string, hint: string): Promise<LoadedCertificate> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError('AWS_CERT_MISSING', `cannot read the ${what} ${file}: ${code === 'ENOENT' ? 'it does not exist' : (e as Error).message}`, { hint });
  }
  return parseCertificate(text, file, what);
}

/** The CN of a subject such as "CN=lab-1\nO=Lab". */
export function commonName(subject: string): string | undefined {
  return /(?:^|\n)CN=([^\n]+)/.exec(subject)?.[1];
}
