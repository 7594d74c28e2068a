// Builds X.509 v3 certificates from DER parts. The constant parts of a device certificate
// (version, algorithm, issuer, fixed extensions) are encoded once per CA in an
// IssuanceTemplate; a certificate is then a few concatenations, one SHA-1 and one signature.
import { randomBytes } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, Extension, KeyIdentifier, KeyUsage, KeyUsageFlags, SubjectKeyIdentifier,
  id_ce_authorityKeyIdentifier, id_ce_basicConstraints, id_ce_extKeyUsage, id_ce_keyUsage, id_ce_subjectKeyIdentifier, id_kp_clientAuth,
} from '@peculiar/asn1-x509';
import { derCommonNameName, derTime, derUnsignedInteger, seq, tlv } from './der.js';
import type { CaSigner } from './signers.js';

const VERSION_3 = Buffer.from('a003020102', 'hex'); // [0] EXPLICIT INTEGER 2
const OID_SKI = Buffer.from('0603551d0e', 'hex'); // 2.5.29.14, not critical

function extension(extnID: string, critical: boolean, value: object): Buffer {
  return Buffer.from(AsnConvert.serialize(new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) })));
}

export const ext = {
  basicConstraints: (ca: boolean) => extension(id_ce_basicConstraints, true, new BasicConstraints(ca ? { cA: true } : {})),
  keyUsage: (flags: number) => extension(id_ce_keyUsage, true, new KeyUsage(flags)),
  clientAuth: () => extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage([id_kp_clientAuth])),
  subjectKeyIdentifier: (id: Uint8Array) => extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(new Uint8Array(id))),
  authorityKeyIdentifier: (id: Uint8Array) =>
    extension(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(new Uint8Array(id)) })),
};
export const KEY_USAGE = {
  ca: KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
  device: KeyUsageFlags.digitalSignature,
};

/** 16 random bytes, positive and with no leading zero byte (so always 16 bytes in DER). */
let pool: Buffer = Buffer.alloc(0);
let poolAt = 0;
export function randomSerial(): Buffer {
  // One getrandom call per 256 serials instead of one each.
  if (poolAt + 16 > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  const b = Buffer.from(pool.subarray(poolAt, (poolAt += 16)));
  b[0] = b[0]! & 0x7f || 0x01;
  return b;
}

export interface TbsParts {
  serial: Uint8Array;
  signatureAlgorithm: Buffer;
  issuer: Buffer;
  notBefore: Date;
  notAfter: Date;
  subject: Buffer;
  spki: Buffer;
  /** Each a DER Extension. */
  extensions: Buffer[];
}

export function encodeTbs(p: TbsParts): Buffer {
  return seq(
    VERSION_3,
    derUnsignedInteger(p.serial),
    p.signatureAlgorithm,
    p.issuer,
    seq(derTime(p.notBefore), derTime(p.notAfter)),
    p.subject,
    p.spki,
    tlv(0xa3, seq(...p.extensions)),
  );
}

export function assembleCertificate(tbs: Buffer, signatureAlgorithm: Buffer, signature: Buffer): Buffer {
  return seq(tbs, signatureAlgorithm, tlv(0x03, Buffer.from([0]), signature));
}

export async function signCertificate(signer: CaSigner, parts: Omit<TbsParts, 'signatureAlgorithm'>): Promise<Buffer> {
  const tbs = encodeTbs({ ...parts, signatureAlgorithm: signer.signatureAlgorithm });
  return assembleCertificate(tbs, signer.signatureAlgorithm, await signer.sign(tbs));
}

/** What stays the same for every device certificate a CA issues. */
export class IssuanceTemplate {
  private readonly head: Buffer; // version + (serial goes between) ...
  private readonly afterSerial: Buffer; // signature algorithm + issuer
  private readonly fixedExtensions: Buffer; // basicConstraints, keyUsage, EKU, AKI

  constructor(readonly signer: CaSigner, issuer: Buffer, caKeyIdentifier: Buffer) {
    this.head = VERSION_3;
    this.afterSerial = Buffer.concat([signer.signatureAlgorithm, issuer]);
    this.fixedExtensions = Buffer.concat([
      ext.basicConstraints(false),
      ext.keyUsage(KEY_USAGE.device),
      ext.clientAuth(),
      ext.authorityKeyIdentifier(caKeyIdentifier),
    ]);
  }

  private validityKey = '';
  private validity: Buffer = Buffer.alloc(0);

  tbs(p: { serial: Uint8Array; notBefore: Date; notAfter: Date; cn: string; spki: Buffer; keyIdentifier: Buffer }): Buffer {
    // A batch issued in the same second shares its validity encoding.
    const vk = `${p.notBefore.getTime()}/${p.notAfter.getTime()}`;
    if (vk !== this.validityKey) {
      this.validity = seq(derTime(p.notBefore), derTime(p.notAfter));
      this.validityKey = vk;
    }
    const extensions = tlv(0xa3, seq(this.fixedExtensions, seq(OID_SKI, tlv(0x04, tlv(0x04, p.keyIdentifier)))));
    return seq(this.head, derUnsignedInteger(p.serial), this.afterSerial, this.validity, derCommonNameName(p.cn), p.spki, extensions);
  }

  /** Synchronous when the CA key is in memory; otherwise waits for the token. */
  certificate(tbs: Buffer): Buffer | Promise<Buffer> {
    const alg = this.signer.signatureAlgorithm;
    if (this.signer.signSync) return assembleCertificate(tbs, alg, this.signer.signSync(tbs));
    return this.signer.sign(tbs).then((sig) => assembleCertificate(tbs, alg, sig));
  }
}
