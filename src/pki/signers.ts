// Signers: whatever holds the CA private key signs a TBSCertificate with SHA-256.
import { sign as nodeSign, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { ECDSASigValue } from '@peculiar/asn1-ecc';
import { SIG_ALG } from './der.js';
import { keyAlgorithmOf, type KeyAlgorithm } from './public-key.js';

/** Whatever holds the CA private key: it signs a TBSCertificate with SHA-256. */
export interface CaSigner {
  /** DER AlgorithmIdentifier written into the certificate (signature and tbs.signature). */
  readonly signatureAlgorithm: Buffer;
  readonly keyAlgorithm: KeyAlgorithm;
  /** Present when the key is in memory: issuing then needs no promise per certificate. */
  readonly signSync?: (data: Buffer) => Buffer;
  sign(data: Buffer): Promise<Buffer>;
}

/** A CA key held by this process (file backend). ECDSA signatures come out DER-encoded. */
export function keyObjectSigner(key: KeyObject): CaSigner {
  const keyAlgorithm = keyAlgorithmOf(key);
  const signatureAlgorithm = key.asymmetricKeyType === 'ec' ? SIG_ALG.ecdsaSha256 : key.asymmetricKeyType === 'rsa' ? SIG_ALG.rsaSha256 : undefined;
  if (!signatureAlgorithm) throw new Error(`unsupported CA key type ${key.asymmetricKeyType}`);
  const signSync = (data: Buffer) => nodeSign('sha256', data, key);
  return { signatureAlgorithm, keyAlgorithm, signSync, sign: async (d) => signSync(d) };
}

/** A CA key behind a WebCrypto API (a PKCS #11 token): ECDSA comes back as r||s, which X.509 wants as DER. */
export function webCryptoSigner(subtle: SubtleCrypto, privateKey: CryptoKey, keyAlgorithm: KeyAlgorithm): CaSigner {
  const isEc = privateKey.algorithm.name === 'ECDSA';
  const alg = isEc ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' };
  return {
    signatureAlgorithm: isEc ? SIG_ALG.ecdsaSha256 : SIG_ALG.rsaSha256,
    keyAlgorithm,
    async sign(data) {
      const raw = Buffer.from(await subtle.sign(alg, privateKey, new Uint8Array(data)));
      return isEc ? p1363ToDer(raw) : raw;
    },
  };
}

export function p1363ToDer(raw: Buffer): Buffer {
  const half = raw.length / 2;
  const v = new ECDSASigValue();
  v.r = trimInt(raw.subarray(0, half));
  v.s = trimInt(raw.subarray(half));
  return Buffer.from(AsnConvert.serialize(v));
}

function trimInt(b: Buffer): ArrayBuffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const out = b[i]! & 0x80 ? Buffer.concat([Buffer.from([0]), b.subarray(i)]) : b.subarray(i);
  return new Uint8Array(out).buffer;
}
