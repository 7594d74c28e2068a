// Signers: whatever holds the CA private key signs a TBSCertificate with SHA-256.
import { sign as nodeSign, type KeyObject } from 'node:crypto';
import { UsageError } from '../errors.js';
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

/**
 * CA key types keyprov signs with (ecdsa-with-SHA256 / sha256WithRSAEncryption) and AWS IoT
 * accepts for a CA. Ed25519/Ed448 (no SHA-256 signature), X25519/X448 (cannot sign), DSA,
 * RSA-PSS keys and other curves or sizes are refused when the CA is imported or loaded.
 */
export const SUPPORTED_CA_KEY_ALGORITHMS = ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;

/** Refuses a CA key keyprov cannot sign with, naming its type and what works instead. */
export function checkCaKeyType(key: KeyObject, source: string): void {
  const algorithm = keyAlgorithmOf(key);
  if ((SUPPORTED_CA_KEY_ALGORITHMS as readonly string[]).includes(algorithm)) return;
  throw new UsageError('CA_KEY_TYPE', `${source} holds a key of type ${algorithm}; keyprov signs with EC P-256/P-384 or RSA 2048/3072/4096 CA keys only`, {
    hint: 'make a supported CA with `keyprov ca create` (EC P-256 by default), or with openssl: `openssl ecparam -name prime256v1 -genkey -noout -out rootCA.key` then `openssl req -x509 -new -key rootCA.key -sha256 -days 3650 -subj "/CN=Lab CA" -out rootCA.pem`, and `keyprov ca import` it',
    details: { keyAlgorithm: algorithm, supported: [...SUPPORTED_CA_KEY_ALGORITHMS] },
  });
}

/** A CA key held by this process (file backend). ECDSA signatures come out DER-encoded. */
export function keyObjectSigner(key: KeyObject, source = 'the CA key'): CaSigner {
  checkCaKeyType(key, source);
  const keyAlgorithm = keyAlgorithmOf(key);
  const signatureAlgorithm = key.asymmetricKeyType === 'ec' ? SIG_ALG.ecdsaSha256 : SIG_ALG.rsaSha256;
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
