// `keyprov ca import`: adopt a CA made with openssl (as the AWS IoT documentation shows)
// as the project's CA. The key is rewritten as PKCS #8 PEM, mode 0600.
import { createPublicKey } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { KeyprovConfig } from '../config/schema.js';
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { exists, writeFileAtomic } from '../util/fs-atomic.js';
import type { CaCertificateInfo } from './ca.js';
import { checkCaUsable, keyMismatch, readCaCertificate } from './ca-load.js';
import { parsePrivateKey, readKeyFile } from './private-key.js';
import { caSettings, passphraseFrom, type CaOverrides } from './settings.js';

export interface ImportCaOptions {
  projectRoot: string;
  config?: KeyprovConfig;
  env?: NodeJS.ProcessEnv;
  overrides?: CaOverrides;
  certFile: string;
  keyFile: string;
  force?: boolean;
  log?: Logger;
  now?: Date;
}

export interface ImportedCa {
  certificate: CaCertificateInfo;
  certPath: string;
  keyPath: string;
  encrypted: boolean;
}

export async function importCa(opts: ImportCaOptions): Promise<ImportedCa> {
  const env = opts.env ?? process.env;
  const s = caSettings(opts.projectRoot, opts.config, env, opts.overrides);
  if (s.backend !== 'file') {
    throw new UsageError('CA_IMPORT_PKCS11', 'the project CA is configured with pki.ca.backend: pkcs11; `ca import` adopts key files only', {
      hint: 'import the key into the token with its own tools (e.g. pkcs11-tool --write-object), or set pki.ca.backend: file',
    });
  }
  const certificate = await readCaCertificate(path.resolve(opts.certFile));
  checkCaUsable(certificate, opts.certFile, opts.now);
  const passphrase = passphraseFrom(env, s.passphraseEnv);
  const key = parsePrivateKey(await readKeyFile(path.resolve(opts.keyFile)), opts.keyFile, passphrase, s.passphraseEnv);
  if (!createPublicKey(key).equals(certificate.x509.publicKey)) throw keyMismatch(opts.certFile, opts.keyFile);

  const sameFiles = path.resolve(opts.certFile) === s.certPath && path.resolve(opts.keyFile) === s.keyPath;
  if (!sameFiles && !opts.force) {
    for (const f of [s.certPath, s.keyPath]) {
      if (await exists(f)) {
        throw new UsageError('CA_EXISTS', `a CA already exists (${f}); not replacing it`, { hint: 'pass --force to replace it' });
      }
    }
  }
  const keyPem = key.export(passphrase ? { format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase } : { format: 'pem', type: 'pkcs8' });
  await fs.mkdir(path.dirname(s.keyPath), { recursive: true });
  await fs.mkdir(path.dirname(s.certPath), { recursive: true });
  await writeFileAtomic(s.keyPath, keyPem, { mode: 0o600, forceMode: true });
  await writeFileAtomic(s.certPath, certificate.pem, { mode: 0o644, forceMode: true });
  opts.log?.ok(`imported CA ${opts.certFile} as ${s.certPath}; key stored as PKCS #8 in ${s.keyPath} (mode 0600${passphrase ? ', encrypted' : ''})`);
  return { certificate, certPath: s.certPath, keyPath: s.keyPath, encrypted: !!passphrase };
}
