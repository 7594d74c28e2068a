// Loading the project's CA for issuing: the certificate from its file, the key from a file
// or a PKCS #11 token. Checks that the two belong together and that the CA can still issue.
import { promises as fs } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import type { KeyprovConfig } from '../config/schema.js';
import { UsageError, VerificationError } from '../errors.js';
import type { Logger } from '../log.js';
import { checkCaKeyType, keyObjectSigner } from './signers.js';
import { parseCaCertificate, type CaCertificateInfo, type LoadedCa } from './ca.js';
import { parsePrivateKey, readKeyFile } from './private-key.js';
import { caSettings, passphraseFrom, type CaOverrides } from './settings.js';
import { keyAlgorithmOf } from './public-key.js';

export interface LoadCaOptions {
  projectRoot: string;
  config?: KeyprovConfig;
  env?: NodeJS.ProcessEnv;
  /** Command-line overrides (`--ca-cert`, `--ca-key`, ...). */
  overrides?: CaOverrides;
  /** Default true: refuse a CA that is expired or not yet valid. */
  requireValid?: boolean;
  log?: Logger;
  now?: Date;
}

export async function readCaCertificate(file: string): Promise<CaCertificateInfo> {
  let data: Buffer;
  try {
    data = await fs.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError('CA_CERT_UNREADABLE', `cannot read the CA certificate ${file}: ${code === 'ENOENT' ? 'it does not exist' : code}`, {
      hint: code === 'ENOENT' ? 'create a CA with `keyprov ca create`, import one with `keyprov ca import`, or pass --ca-cert' : 'make the file readable by this user',
    });
  }
  try {
    return parseCaCertificate(data);
  } catch (e) {
    throw new UsageError('CA_CERT_INVALID', `${file} is not an X.509 certificate (${(e as Error).message})`, { hint: 'give the CA certificate in PEM or DER' });
  }
}

/** Refuses a certificate that cannot act as a CA, or one outside its validity. */
export function checkCaUsable(c: CaCertificateInfo, source: string, now = new Date(), requireValid = true): void {
  if (!c.isCa) {
    throw new UsageError('CA_NOT_A_CA', `${source} is not a CA certificate (basicConstraints CA:TRUE is missing)`, {
      hint: 'use the CA certificate that AWS IoT knows (rootCA.pem), not a device certificate',
    });
  }
  if (!c.canSignCertificates) {
    throw new UsageError('CA_NO_KEYCERTSIGN', `${source} has a keyUsage without keyCertSign: it may not sign certificates`, {
      hint: 'create a new CA with `keyprov ca create`',
    });
  }
  if (requireValid && now > c.notAfter) {
    throw new VerificationError('CA_EXPIRED', `the CA certificate ${source} expired on ${c.notAfter.toISOString()}`, {
      hint: 'create a new CA (`keyprov ca create --force`) and register it with AWS IoT',
    });
  }
  if (requireValid && now < c.notBefore) {
    throw new VerificationError('CA_NOT_YET_VALID', `the CA certificate ${source} is valid only from ${c.notBefore.toISOString()}`, {
      hint: 'check the system clock',
    });
  }
}

export function keyMismatch(source: string, keySource: string): UsageError {
  return new UsageError('CA_KEY_MISMATCH', `the CA key ${keySource} does not belong to the certificate ${source}`, {
    hint: 'give the key the certificate was made from (compare `openssl x509 -noout -pubkey` with `openssl pkey -pubout`)',
  });
}

export async function loadCa(opts: LoadCaOptions): Promise<LoadedCa> {
  const env = opts.env ?? process.env;
  const s = caSettings(opts.projectRoot, opts.config, env, opts.overrides);
  const certificate = await readCaCertificate(s.certPath);
  checkCaUsable(certificate, s.certPath, opts.now, opts.requireValid ?? true);
  // Before asking for a passphrase or a PIN: a CA keyprov cannot sign with is refused up front.
  checkCaKeyType(certificate.x509.publicKey, s.certPath);

  if (s.backend === 'pkcs11') {
    const { openToken, findTokenKey } = await import('./pkcs11.js');
    const token = openToken(s.pkcs11!);
    try {
      const keyAlg = keyAlgorithmOf(certificate.x509.publicKey);
      const k = await findTokenKey(token, s.pkcs11!.keyLabel, keyAlg);
      if (k.spkiDer && !k.spkiDer.equals(certificate.spkiDer)) throw keyMismatch(s.certPath, `"${s.pkcs11!.keyLabel}" in the ${token.description}`);
      opts.log?.debug(`CA key: "${s.pkcs11!.keyLabel}" in the ${token.description}`);
      return { backend: 'pkcs11', certificate, signer: k.signer, source: `${s.certPath} + ${token.description}`, close: token.close };
    } catch (e) {
      token.close();
      throw e;
    }
  }

  const key = parsePrivateKey(await readKeyFile(s.keyPath), s.keyPath, passphraseFrom(env, s.passphraseEnv), s.passphraseEnv);
  if (!createPublicKey(key).equals(certificate.x509.publicKey)) throw keyMismatch(s.certPath, s.keyPath);
  return { backend: 'file', certificate, signer: keyObjectSigner(key, s.keyPath), source: `${s.certPath} + ${s.keyPath}`, close: () => {} };
}
