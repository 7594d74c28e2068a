// Device certificates for a public key captured from a board: what
// `openssl x509 -req -CA ca.pem -CAkey ca.key -force_pubkey device.pem -days 500 -sha256`
// gives, without a CSR or a throwaway key.
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CertificateLedger } from '../store/certificates.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import type { LoadedCa } from './ca.js';
import { IssuanceTemplate, randomSerial } from './certificate-builder.js';
import { toPem } from './der.js';
import { parseDevicePublicKey, type DevicePublicKey } from './public-key.js';

export const DEFAULT_DEVICE_DAYS = 500;
export const DEFAULT_DEVICE_KEY_ALGORITHMS = ['ec-p256'];

export interface IssueParams {
  /** DER or PEM SubjectPublicKeyInfo, or one already parsed. */
  publicKey: Uint8Array | string | DevicePublicKey;
  /** Names the key in errors (a file path). */
  publicKeySource?: string;
  cn: string;
  /** Default 500. Clamped (with a warning) to the CA's own notAfter. */
  days?: number;
  /** Device key types the profile accepts. Default: ec-p256 only. */
  allowedKeyAlgorithms?: readonly string[];
  /** Records the certificate; refuses another CN for a recorded key unless `reissue`. */
  store?: CertificateLedger;
  reissue?: boolean;
  boardId?: string;
  now?: Date;
  log?: Logger;
}

export interface IssuedCertificate {
  certificatePem: string;
  /** Device certificate followed by the CA certificate (for JITP). */
  chainPem: string;
  certificateDer: Buffer;
  /** Uppercase hex, as `openssl x509 -serial` prints it. */
  serial: string;
  subjectCn: string;
  notBefore: Date;
  notAfter: Date;
  /** The requested validity went past the CA's and was cut to it. */
  clamped: boolean;
  keyAlgorithm: string;
  /** SHA-256, lowercase hex. */
  fingerprints: { certificate: string; publicKey: string; ca: string };
  files?: { certificate?: string; chain?: string };
}

/** Issues device certificates from one CA; the parts that never change are encoded once. */
export class DeviceIssuer {
  private readonly template: IssuanceTemplate;
  readonly caPem: string;

  constructor(readonly ca: LoadedCa) {
    this.template = new IssuanceTemplate(ca.signer, ca.certificate.subjectDer, ca.certificate.keyIdentifier);
    this.caPem = ca.certificate.pem;
  }

  /** Everything up to the signature: validation, store checks, the TBSCertificate. */
  private prepare(p: IssueParams) {
    const key = isParsed(p.publicKey) ? p.publicKey : parseDevicePublicKey(p.publicKey, p.publicKeySource);
    const allowed = p.allowedKeyAlgorithms ?? DEFAULT_DEVICE_KEY_ALGORITHMS;
    if (!allowed.includes(key.algorithm)) {
      throw new UsageError('DEVICE_KEY_ALGORITHM', `${p.publicKeySource ?? 'the device public key'} is ${key.algorithm}; this profile accepts ${allowed.join(', ')}`, {
        hint: 'capture the key the board generated (FreeRTOS dev-mode provisioning makes EC P-256), or add the type to pki.deviceKeyAlgorithms',
      });
    }
    const cn = p.cn;
    if (!cn || cn.length > 64) {
      throw new UsageError('DEVICE_CN_INVALID', `the certificate CN must be 1 to 64 characters (got ${cn ? cn.length : 0})`, { hint: 'pass --cn NAME or set the thing name' });
    }
    const caFp = this.ca.certificate.fingerprint;
    if (p.store) {
      const earlier = p.store.forPublicKey(caFp, key.fingerprint).filter((r) => r.subjectCn !== cn);
      if (earlier.length > 0 && !p.reissue) {
        throw new UsageError('CERT_REISSUE_REQUIRED', `this public key already has a certificate from this CA under CN "${earlier[0]!.subjectCn}" (serial ${earlier[0]!.serial}); refusing to issue one for CN "${cn}"`, {
          hint: 'pass --reissue if the board really changed its name, otherwise use the same CN',
          details: { earlierSerial: earlier[0]!.serial, earlierCn: earlier[0]!.subjectCn },
        });
      }
    }
    const now = p.now ?? new Date();
    const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const days = p.days ?? DEFAULT_DEVICE_DAYS;
    if (!Number.isInteger(days) || days <= 0) {
      throw new UsageError('DEVICE_DAYS', `--days must be a positive whole number (got ${days})`, {
        hint: `pass the validity in whole days, e.g. --days ${DEFAULT_DEVICE_DAYS} (the default), or fix pki.days in keyprov.config.yaml`,
      });
    }
    let notAfter = new Date(notBefore.getTime() + days * 86_400_000);
    const caEnd = this.ca.certificate.notAfter;
    const clamped = notAfter > caEnd;
    if (clamped) {
      notAfter = caEnd;
      p.log?.warn(`${days} days would outlast the CA (valid until ${caEnd.toISOString()}); the certificate ends with the CA`);
    }
    let serial = randomSerial();
    while (p.store?.serialTaken(caFp, serialHex(serial))) serial = randomSerial();
    const tbs = this.template.tbs({ serial, notBefore, notAfter, cn, spki: key.spkiDer, keyIdentifier: key.keyIdentifier });
    return { key, cn, notBefore, notAfter, clamped, serial, tbs };
  }

  private finish(p: IssueParams, prep: ReturnType<DeviceIssuer['prepare']>, der: Buffer): IssuedCertificate {
    const certificatePem = toPem('CERTIFICATE', der);
    return {
      certificatePem,
      chainPem: certificatePem + this.caPem,
      certificateDer: der,
      serial: serialHex(prep.serial),
      subjectCn: prep.cn,
      notBefore: prep.notBefore,
      notAfter: prep.notAfter,
      clamped: prep.clamped,
      keyAlgorithm: prep.key.algorithm,
      fingerprints: { certificate: createHash('sha256').update(der).digest('hex'), publicKey: prep.key.fingerprint, ca: this.ca.certificate.fingerprint },
    };
  }

  /**
   * Every check `issue` makes (key type, CN, days, the store's reissue rule) and the validity
   * the certificate would get; signs nothing, writes nothing, records nothing (`issue --dry-run`).
   */
  check(p: IssueParams): { subjectCn: string; keyAlgorithm: string; notBefore: Date; notAfter: Date; clamped: boolean } {
    const prep = this.prepare(p);
    return { subjectCn: prep.cn, keyAlgorithm: prep.key.algorithm, notBefore: prep.notBefore, notAfter: prep.notAfter, clamped: prep.clamped };
  }

  /** Synchronous issue for a CA key held in memory (the fast path; no files written). */
  issueSync(p: IssueParams): IssuedCertificate {
    const prep = this.prepare(p);
    const der = this.template.certificate(prep.tbs);
    if (der instanceof Promise) throw new Error('issueSync needs a CA key in memory; use issue()');
    const cert = this.finish(p, prep, der);
    if (p.store) record(p.store, cert, p.boardId);
    return cert;
  }

  /** Issues, optionally writes the certificate and the chain, then records it in the store. */
  async issue(p: IssueParams & { out?: { certificate?: string; chain?: string } }): Promise<IssuedCertificate> {
    const prep = this.prepare(p);
    const cert = this.finish(p, prep, await this.template.certificate(prep.tbs));
    if (p.out?.certificate || p.out?.chain) {
      cert.files = {};
      for (const [kind, file, data] of [['certificate', p.out.certificate, cert.certificatePem], ['chain', p.out.chain, cert.chainPem]] as const) {
        if (!file) continue;
        await mkdir(path.dirname(file), { recursive: true });
        await writeFileAtomic(file, data, { mode: 0o644 });
        cert.files[kind] = file;
      }
    }
    if (p.store) record(p.store, cert, p.boardId);
    return cert;
  }
}

function record(store: CertificateLedger, c: IssuedCertificate, boardId?: string): void {
  store.record({
    caFingerprint: c.fingerprints.ca,
    serial: c.serial,
    subjectCn: c.subjectCn,
    publicKeyFingerprint: c.fingerprints.publicKey,
    certificateFingerprint: c.fingerprints.certificate,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    file: c.files?.certificate,
    boardId,
    issuedAt: new Date().toISOString(),
  });
}

function isParsed(k: IssueParams['publicKey']): k is DevicePublicKey {
  return typeof k === 'object' && 'spkiDer' in k;
}

export function serialHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex').toUpperCase();
}

const issuers = new WeakMap<LoadedCa, DeviceIssuer>();

/** One device certificate. Pass `out` to write the certificate and the chain (e.g. boardFiles(root, id)). */
export async function issueDeviceCertificate(
  opts: IssueParams & { ca: LoadedCa; out?: { certificate?: string; chain?: string } },
): Promise<IssuedCertificate> {
  let issuer = issuers.get(opts.ca);
  if (!issuer) issuers.set(opts.ca, (issuer = new DeviceIssuer(opts.ca)));
  return issuer.issue(opts);
}
