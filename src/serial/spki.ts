// The device public key as DER: a SubjectPublicKeyInfo for id-ecPublicKey on prime256v1
// with an uncompressed point. Checked byte by byte (so a flipped byte is named) and then
// on the curve, so that a corrupt capture can never become a certificate.
import { createHash, createPublicKey } from 'node:crypto';
import { VerificationError } from '../errors.js';

export const CURVE_NAME = 'prime256v1';

// 3059 3013 0607 2a8648ce3d0201 0608 2a8648ce3d030107 0342 00 04 <X:32> <Y:32>
const PARTS: { name: string; bytes: number[] }[] = [
  { name: 'SubjectPublicKeyInfo SEQUENCE header (30 59)', bytes: [0x30, 0x59] },
  { name: 'AlgorithmIdentifier SEQUENCE header (30 13)', bytes: [0x30, 0x13] },
  { name: 'algorithm OID header (06 07)', bytes: [0x06, 0x07] },
  { name: 'algorithm OID id-ecPublicKey (1.2.840.10045.2.1)', bytes: [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01] },
  { name: 'curve OID header (06 08)', bytes: [0x06, 0x08] },
  { name: 'curve OID prime256v1 (1.2.840.10045.3.1.7)', bytes: [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07] },
  { name: 'BIT STRING header (03 42 00)', bytes: [0x03, 0x42, 0x00] },
  { name: 'uncompressed point marker (04)', bytes: [0x04] },
];
const PREFIX_LENGTH = PARTS.reduce((n, p) => n + p.bytes.length, 0); // 27
export const P256_SPKI_LENGTH = PREFIX_LENGTH + 64; // 91

// NIST P-256 (SEC 2): y^2 = x^3 - 3x + b over GF(p).
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

export interface P256PublicKey {
  der: Buffer;
  x: bigint;
  y: bigint;
  curve: typeof CURVE_NAME;
}

function invalid(message: string, der: Buffer): never {
  throw new VerificationError('INVALID_PUBLIC_KEY', `the captured public key is invalid: ${message}`, {
    hint: 'the console output was corrupted (noise, wrong baud, a reset while printing) or the firmware printed something else; capture again, and do not issue a certificate for it',
    details: { derHex: der.toString('hex') },
  });
}

function bigintOf(b: Buffer): bigint {
  return BigInt('0x' + b.toString('hex'));
}

export function isOnP256(x: bigint, y: bigint): boolean {
  if (x < 0n || y < 0n || x >= P || y >= P) return false;
  const lhs = (y * y) % P;
  const rhs = (((x * x) % P) * x - 3n * x + B) % P;
  return lhs === ((rhs % P) + P) % P;
}

/** Validate a P-256 SubjectPublicKeyInfo; throws VerificationError INVALID_PUBLIC_KEY naming what is wrong. */
export function parseP256Spki(input: Uint8Array, expectedLength?: number): P256PublicKey {
  const der = Buffer.from(input);
  if (expectedLength !== undefined && der.length !== expectedLength) {
    invalid(`${der.length} bytes, but the header announced ${expectedLength}`, der);
  }
  if (der.length !== P256_SPKI_LENGTH) {
    invalid(`${der.length} bytes; a P-256 SubjectPublicKeyInfo is ${P256_SPKI_LENGTH} bytes (is the key on another curve, or cut short?)`, der);
  }
  let off = 0;
  for (const part of PARTS) {
    for (let i = 0; i < part.bytes.length; i++, off++) {
      if (der[off] !== part.bytes[i]) {
        invalid(`byte ${off} is 0x${der[off]!.toString(16).padStart(2, '0')}, expected 0x${part.bytes[i]!.toString(16).padStart(2, '0')} in the ${part.name}`, der);
      }
    }
  }
  const x = bigintOf(der.subarray(off, off + 32));
  const y = bigintOf(der.subarray(off + 32, off + 64));
  if (!isOnP256(x, y)) invalid('the point (X, Y) is not on the P-256 curve (a corrupted coordinate byte)', der);
  try {
    // Independent check by OpenSSL through Node: it must import as the same curve.
    const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== CURVE_NAME) {
      invalid(`node:crypto reads it as ${key.asymmetricKeyType} ${key.asymmetricKeyDetails?.namedCurve ?? ''}`.trim(), der);
    }
  } catch (e) {
    if (e instanceof VerificationError) throw e;
    invalid(`node:crypto rejects it (${(e as Error).message})`, der);
  }
  return { der, x, y, curve: CURVE_NAME };
}

/** PEM exactly as `openssl ec -pubin -pubout` writes it: 64-column base64, LF line ends. */
export function spkiDerToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`;
}

/** PEM `PUBLIC KEY` -> DER bytes (used to compare an expected key with the console). */
export function spkiPemToDer(pem: string): Buffer {
  const m = /-----BEGIN PUBLIC KEY-----([\s\S]*?)-----END PUBLIC KEY-----/.exec(pem);
  if (!m) throw new VerificationError('INVALID_PUBLIC_KEY', 'expected a PEM "PUBLIC KEY" block', { hint: 'pass the device-public-key.pem written by `keyprov capture`' });
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}

/** SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex (same as `openssl pkey -pubin -outform DER | sha256sum`). */
export function spkiFingerprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}
