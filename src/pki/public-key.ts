// Device public keys: read PEM or DER SubjectPublicKeyInfo, check the key is valid (an EC
// point must be on its curve), name its algorithm, and compute the identifiers the store
// and the certificate use.
import { createHash, createPublicKey, ECDH, type KeyObject } from 'node:crypto';
import { UsageError, VerificationError } from '../errors.js';
import { fromPem, readTlv } from './der.js';

export type KeyAlgorithm = 'ec-p256' | 'ec-p384' | 'ec-p521' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096' | string;

export interface DevicePublicKey {
  /** The SubjectPublicKeyInfo DER, as it goes into the certificate. */
  spkiDer: Buffer;
  /** Built on first use (OpenSSL's decoder costs ~100 us; issuing does not need it). */
  readonly key: KeyObject;
  algorithm: KeyAlgorithm;
  /** SHA-256 of the SPKI DER, lowercase hex (the store's key for "this device key"). */
  fingerprint: string;
  /** RFC 5280 method 1 key identifier: SHA-1 of the subjectPublicKey bits (what openssl writes). */
  keyIdentifier: Buffer;
}

export function keyAlgorithmOf(key: KeyObject): KeyAlgorithm {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    const curve = { prime256v1: 'p256', secp384r1: 'p384', secp521r1: 'p521' }[d.namedCurve ?? ''] ?? d.namedCurve;
    return `ec-${curve}`;
  }
  if (key.asymmetricKeyType === 'rsa') return `rsa-${d.modulusLength}`;
  return String(key.asymmetricKeyType);
}

/** SHA-1 over the BIT STRING contents (after the unused-bits byte) of an SPKI. */
export function keyIdentifierOfSpki(spki: Uint8Array): Buffer {
  const outer = readTlv(spki, 0);
  const alg = readTlv(spki, outer.start);
  const bits = readTlv(spki, alg.next);
  return createHash('sha1').update(spki.subarray(bits.start + 1, bits.end)).digest();
}

/** Parses a device public key (PEM `PUBLIC KEY` or DER SPKI). `source` names it in errors. */
export function parseDevicePublicKey(input: Uint8Array | string, source = 'the public key'): DevicePublicKey {
  let der: Buffer | undefined;
  const text = typeof input === 'string' ? input : looksLikePem(input) ? Buffer.from(input).toString('latin1') : undefined;
  if (text !== undefined) {
    der = fromPem(text, 'PUBLIC KEY');
    if (!der) {
      const hint = /BEGIN (EC |RSA |ENCRYPTED )?PRIVATE KEY/.test(text)
        ? 'this is a PRIVATE key: give the device PUBLIC key (openssl pkey -pubout), and keep private keys off the command line'
        : 'give a PEM "PUBLIC KEY" block or the DER SubjectPublicKeyInfo the board printed';
      throw new UsageError('PUBLIC_KEY_FORMAT', `${source} holds no "-----BEGIN PUBLIC KEY-----" block`, { hint });
    }
  } else der = Buffer.from(input as Uint8Array);
  return fastNamedCurveKey(der) ?? decodedKey(der, source);
}

/** SPKI headers of uncompressed points on the curves boards use; the key is then header + point. */
const NAMED_CURVE_SPKI = [
  { algorithm: 'ec-p256', curve: 'prime256v1', header: Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'), pointLength: 65 },
  { algorithm: 'ec-p384', curve: 'secp384r1', header: Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex'), pointLength: 97 },
];

/**
 * The common case without OpenSSL's generic decoder: a P-256/P-384 SPKI in its one DER form.
 * The point is still checked by OpenSSL (ECDH.convertKey rejects a point off the curve).
 */
function fastNamedCurveKey(der: Buffer): DevicePublicKey | undefined {
  const c = NAMED_CURVE_SPKI.find((c) => der.length === c.header.length + c.pointLength && der.subarray(0, c.header.length).equals(c.header));
  if (!c || der[c.header.length] !== 0x04) return undefined;
  try {
    ECDH.convertKey(der.subarray(c.header.length), c.curve);
  } catch {
    return undefined; // let the full decoder produce the error
  }
  return describe(der, c.algorithm);
}

function decodedKey(der: Buffer, source: string): DevicePublicKey {
  let key: KeyObject;
  try {
    // OpenSSL checks that an EC point lies on the curve while decoding.
    key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch (e) {
    throw new VerificationError('PUBLIC_KEY_INVALID', `${source} is not a valid SubjectPublicKeyInfo (${(e as Error).message.replace(/^error:\S+:/, '')})`, {
      hint: 'capture the key again: a corrupted byte makes the EC point fall off the curve',
    });
  }
  return describe(key.export({ format: 'der', type: 'spki' }), keyAlgorithmOf(key), key);
}

function describe(spkiDer: Buffer, algorithm: KeyAlgorithm, known?: KeyObject): DevicePublicKey {
  let key = known;
  return {
    spkiDer,
    get key() {
      return (key ??= createPublicKey({ key: spkiDer, format: 'der', type: 'spki' }));
    },
    algorithm,
    fingerprint: createHash('sha256').update(spkiDer).digest('hex'),
    keyIdentifier: keyIdentifierOfSpki(spkiDer),
  };
}

function looksLikePem(b: Uint8Array): boolean {
  return Buffer.from(b.subarray(0, 64)).toString('latin1').includes('-----BEGIN');
}

export function colonHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:');
}
