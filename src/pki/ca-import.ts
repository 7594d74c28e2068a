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
import { keyAlgorithmOf } from './public-key.js';
import { checkCaKeyType } from './signers.js';
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

/** What `importCa` would write: every check done, nothing written (`ca import --dry-run`). */
export interface CaImportPlan extends ImportedCa {
  /** ec-p256, rsa-2048, ... */
  keyAlgorithm: string;
  /** Project CA files that exist and would be replaced (with --force). */
  replaces: string[];
}

/** Every check `importCa` makes (CA usable, key type, key matches, no CA to replace without force); writes nothing. */
export async function planCaImport(opts: ImportCaOptions): Promise<CaImportPlan> {
  return (await prepareImport(opts)).plan;
}

async function prepareImport(opts: ImportCaOptions) {
  const env = opts.env ?? process.env;
  const s = caSettings(opts.projectRoot, opts.config, env, opts.overrides);
  if (s.backend !== 'file') {
    throw new UsageError('CA_IMPORT_PKCS11', 'the project CA is configured with pki.ca.backend: pkcs11; `ca import` adopts key files only', {
      hint: 'import the key into the token with its own tools (e.g. pkcs11-tool --write-object), or set pki.ca.backend: file',
    });
  }
  const certificate = await readCaCertificate(path.resolve(opts.certFile));
  checkCaUsable(certificate, opts.certFile, opts.now);
  checkCaKeyType(certificate.x509.publicKey, opts.certFile);
  const passphrase = passphraseFrom(env, s.passphraseEnv);
  const key = parsePrivateKey(await readKeyFile(path.resolve(opts.keyFile)), opts.keyFile, passphrase, s.passphraseEnv);
  if (!createPublicKey(key).equals(certificate.x509.publicKey)) throw keyMismatch(opts.certFile, opts.keyFile);

  const sameFiles = path.resolve(opts.certFile) === s.certPath && path.resolve(opts.keyFile) === s.keyPath;
  const replaces: string[] = [];
  for (const f of [s.certPath, s.keyPath]) {
    if (!(await exists(f))) continue;
    if (!sameFiles && !opts.force) {
      throw new UsageError('CA_EXISTS', `a CA already exists (${f}); not replacing it`, { hint: 'pass --force to replace it' });
    }
    replaces.push(f);
  }
  const plan: CaImportPlan = { certificate, certPath: s.certPath, keyPath: s.keyPath, encrypted: !!passphrase, keyAlgorithm: keyAlgorithmOf(key), replaces };
  return { plan, key, passphrase };
}

export async function importCa(opts: ImportCaOptions): Promise<ImportedCa> {
  const { plan, key, passphrase } = await prepareImport(opts);
  const keyPem = key.export(passphrase ? { format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase } : { format: 'pem', type: 'pkcs8' });
  await fs.mkdir(path.dirname(plan.keyPath), { recursive: true });
  await fs.mkdir(path.dirname(plan.certPath), { recursive: true });
  await writeFileAtomic(plan.keyPath, keyPem, { mode: 0o600, forceMode: true });
  await writeFileAtomic(plan.certPath, plan.certificate.pem, { mode: 0o644, forceMode: true });
  opts.log?.ok(`imported CA ${opts.certFile} as ${plan.certPath}; key stored as PKCS #8 in ${plan.keyPath} (mode 0600${passphrase ? ', encrypted' : ''})`);
  return { certificate: plan.certificate, certPath: plan.certPath, keyPath: plan.keyPath, encrypted: plan.encrypted };
}
