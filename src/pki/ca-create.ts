// `keyprov ca create`: a lab CA in the state folder (or its key in a PKCS #11 token).
import { generateKeyPairSync, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { KeyprovConfig } from '../config/schema.js';
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { exists, writeFileAtomic } from '../util/fs-atomic.js';
import { keyObjectSigner, type CaSigner } from './signers.js';
import { ext, KEY_USAGE, randomSerial, signCertificate } from './certificate-builder.js';
import { derCommonNameName, toPem } from './der.js';
import { keyIdentifierOfSpki } from './public-key.js';
import { caSettings, passphraseFrom, type CaOverrides } from './settings.js';
import { parseCaCertificate, type CaCertificateInfo } from './ca.js';

export const CA_ALGORITHMS = ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072'] as const;
export type CaAlgorithm = (typeof CA_ALGORITHMS)[number];
export const DEFAULT_CA_SUBJECT = 'CN=keyprov lab CA';
export const DEFAULT_CA_DAYS = 3650;

export interface CreateCaOptions {
  projectRoot: string;
  config?: KeyprovConfig;
  env?: NodeJS.ProcessEnv;
  overrides?: CaOverrides;
  /** Default ec-p256. */
  algorithm?: CaAlgorithm;
  /** RFC 4514 (`CN=Lab CA,O=Acme`) or openssl (`/O=Acme/CN=Lab CA`) form. Default `CN=keyprov lab CA`. */
  subject?: string;
  /** Default 3650. */
  days?: number;
  /** Replace an existing CA certificate (and key file). */
  force?: boolean;
  log?: Logger;
  now?: Date;
}

export interface CreatedCa {
  certificate: CaCertificateInfo;
  certPath: string;
  /** The key file (file backend) or where the key lives in the token. */
  keyLocation: string;
  backend: 'file' | 'pkcs11';
  encrypted: boolean;
}

/** Parses a distinguished name into its DER encoding; order as written. */
export async function encodeSubject(subject: string): Promise<Buffer> {
  // A lone CN needs no DN parser (and keeps @peculiar/x509 out of the common path).
  const lone = /^\s*\/?CN=([^,+=\\/]+?)\s*$/.exec(subject);
  if (lone) return derCommonNameName(lone[1]!);
  const { x509 } = await import('./crypto.js');
  const rfc = subject.trim().startsWith('/')
    ? subject.trim().slice(1).split(/(?<!\\)\//).filter(Boolean).map((p) => p.replace(/\\\//g, '/').replace(/,/g, '\\,')).join(', ')
    : subject;
  try {
    const der = Buffer.from(new x509.Name(rfc).toArrayBuffer());
    if (der.length <= 2) throw new Error('empty');
    return der;
  } catch (e) {
    throw new UsageError('CA_SUBJECT_INVALID', `cannot parse the subject "${subject}": ${(e as Error).message}`, {
      hint: 'write it as "CN=Lab CA, O=Acme" or "/O=Acme/CN=Lab CA"',
    });
  }
}

function generateFileKey(algorithm: CaAlgorithm): KeyObject {
  const { privateKey } =
    algorithm === 'ec-p256' || algorithm === 'ec-p384'
      ? generateKeyPairSync('ec', { namedCurve: algorithm === 'ec-p256' ? 'prime256v1' : 'secp384r1' })
      : generateKeyPairSync('rsa', { modulusLength: algorithm === 'rsa-2048' ? 2048 : 3072 });
  return privateKey;
}

export async function buildCaCertificate(signer: CaSigner, spkiDer: Buffer, subject: Buffer, days: number, now = new Date()): Promise<Buffer> {
  const ski = keyIdentifierOfSpki(spkiDer);
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  return signCertificate(signer, {
    serial: randomSerial(),
    issuer: subject,
    subject,
    notBefore,
    notAfter: new Date(notBefore.getTime() + days * 86_400_000),
    spki: spkiDer,
    extensions: [ext.basicConstraints(true), ext.keyUsage(KEY_USAGE.ca), ext.subjectKeyIdentifier(ski), ext.authorityKeyIdentifier(ski)],
  });
}

/** What `createCa` would write: every check done, nothing written or generated (`ca create --dry-run`). */
export interface CaPlan {
  backend: 'file' | 'pkcs11';
  algorithm: CaAlgorithm;
  /** As given (or the default). */
  subject: string;
  days: number;
  notBefore: Date;
  notAfter: Date;
  certPath: string;
  /** The key file (file backend) or `pkcs11:<label>`. */
  keyLocation: string;
  /** File backend: the key would be encrypted with the passphrase from `passphraseEnv`. */
  encrypted: boolean;
  passphraseEnv: string;
  /** Existing CA files that would be replaced (only with force). */
  replaces: string[];
}

async function prepareCa(opts: CreateCaOptions) {
  const env = opts.env ?? process.env;
  const s = caSettings(opts.projectRoot, opts.config, env, opts.overrides);
  const algorithm = opts.algorithm ?? 'ec-p256';
  if (!CA_ALGORITHMS.includes(algorithm)) {
    throw new UsageError('CA_ALGORITHM', `unknown CA algorithm "${algorithm}"`, { hint: `choose one of ${CA_ALGORITHMS.join(', ')}` });
  }
  const days = opts.days ?? DEFAULT_CA_DAYS;
  if (!Number.isInteger(days) || days <= 0) {
    throw new UsageError('CA_DAYS', `--days must be a positive whole number (got ${days})`, { hint: `pass the CA validity in whole days, e.g. --days ${DEFAULT_CA_DAYS} (the default, about 10 years)` });
  }
  const subjectText = opts.subject ?? DEFAULT_CA_SUBJECT;
  const subject = await encodeSubject(subjectText);
  const existing = [s.certPath, ...(s.backend === 'file' ? [s.keyPath] : [])];
  const replaces: string[] = [];
  for (const f of existing) {
    if (!(await exists(f))) continue;
    if (!opts.force) {
      throw new UsageError('CA_EXISTS', `a CA already exists (${f}); not replacing it`, {
        hint: 'pass --force to replace it (devices issued by the old CA will no longer verify against the new one)',
      });
    }
    replaces.push(f);
  }
  const notBefore = new Date(Math.floor((opts.now ?? new Date()).getTime() / 1000) * 1000);
  const plan: CaPlan = {
    backend: s.backend,
    algorithm,
    subject: subjectText,
    days,
    notBefore,
    notAfter: new Date(notBefore.getTime() + days * 86_400_000),
    certPath: s.certPath,
    keyLocation: s.backend === 'pkcs11' ? `pkcs11:${s.pkcs11!.keyLabel}` : s.keyPath,
    encrypted: s.backend === 'file' && !!passphraseFrom(env, s.passphraseEnv),
    passphraseEnv: s.passphraseEnv,
    replaces,
  };
  return { s, env, algorithm, days, subject, plan };
}

/**
 * Every check `createCa` makes, writing nothing: inputs, an existing CA without force, and
 * for a token that it opens with the PIN and that the key label is free (no key is generated).
 */
export async function planCa(opts: CreateCaOptions): Promise<CaPlan> {
  const { s, plan } = await prepareCa(opts);
  if (s.backend === 'pkcs11') {
    const { openToken, assertKeyLabelFree } = await import('./pkcs11.js');
    const token = openToken(s.pkcs11!);
    try {
      await assertKeyLabelFree(token, s.pkcs11!.keyLabel);
    } finally {
      token.close();
    }
  }
  return plan;
}

export async function createCa(opts: CreateCaOptions): Promise<CreatedCa> {
  const { s, env, algorithm, days, subject } = await prepareCa(opts);
  await mkdir(path.dirname(s.certPath), { recursive: true });

  if (s.backend === 'pkcs11') {
    const { openToken, generateTokenKey } = await import('./pkcs11.js');
    const token = openToken(s.pkcs11!);
    try {
      const { signer, spkiDer } = await generateTokenKey(token, algorithm, s.pkcs11!.keyLabel);
      const der = await buildCaCertificate(signer, spkiDer, subject, days, opts.now);
      await writeFileAtomic(s.certPath, toPem('CERTIFICATE', der), { mode: 0o644, forceMode: true });
      opts.log?.ok(`created CA ${s.certPath}; its key "${s.pkcs11!.keyLabel}" stays in the ${token.description}`);
      return { certificate: parseCaCertificate(der), certPath: s.certPath, keyLocation: `pkcs11:${s.pkcs11!.keyLabel}`, backend: 'pkcs11', encrypted: false };
    } finally {
      token.close();
    }
  }

  const key = generateFileKey(algorithm);
  const spkiDer = createPublicKey(key).export({ format: 'der', type: 'spki' });
  const der = await buildCaCertificate(keyObjectSigner(key), spkiDer, subject, days, opts.now);
  const passphrase = passphraseFrom(env, s.passphraseEnv);
  const keyPem = key.export(passphrase ? { format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase } : { format: 'pem', type: 'pkcs8' });
  await mkdir(path.dirname(s.keyPath), { recursive: true });
  // Key first: a CA certificate without its key would look usable but is not.
  await writeFileAtomic(s.keyPath, keyPem, { mode: 0o600, forceMode: true });
  await writeFileAtomic(s.certPath, toPem('CERTIFICATE', der), { mode: 0o644, forceMode: true });
  opts.log?.ok(`created CA ${s.certPath} and its key ${s.keyPath} (mode 0600${passphrase ? `, encrypted with the passphrase from ${s.passphraseEnv}` : ''})`);
  return { certificate: parseCaCertificate(der), certPath: s.certPath, keyLocation: s.keyPath, backend: 'file', encrypted: !!passphrase };
}
