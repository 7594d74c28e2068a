import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { parseP256Spki, spkiDerToPem, spkiPemToDer, spkiFingerprint, isOnP256 } from '../../src/serial/spki.js';
import { newP256Spki, opensslPubkeyDer, opensslPem } from './helpers/console-format.js';

test('valid P-256 keys pass; PEM equals `openssl ec -pubin -pubout`; fingerprint equals sha256 of openssl DER', () => {
  for (let i = 0; i < 5; i++) {
    const der = newP256Spki();
    const k = parseP256Spki(der, 91);
    assert.ok(k.der.equals(opensslPubkeyDer(der)));
    assert.equal(spkiDerToPem(der), opensslPem(der));
    assert.ok(spkiPemToDer(opensslPem(der)).equals(der));
    const sha = execFileSync('sha256sum', { input: opensslPubkeyDer(der) }).toString().split(' ')[0];
    assert.equal(spkiFingerprint(der), sha);
  }
});

test('a flipped byte anywhere in the fixed prefix is named', () => {
  const der = newP256Spki();
  const cases: [number, RegExp][] = [
    [0, /SubjectPublicKeyInfo SEQUENCE header/],
    [10, /algorithm OID id-ecPublicKey/],
    [19, /curve OID prime256v1/],
    [24, /BIT STRING header/],
    [26, /uncompressed point marker/],
  ];
  for (const [pos, re] of cases) {
    const bad = Buffer.from(der);
    bad[pos]! ^= 0x01;
    assert.throws(() => parseP256Spki(bad), (e: any) => e.code === 'INVALID_PUBLIC_KEY' && re.test(e.message) && e.message.includes(`byte ${pos}`) && /do not issue a certificate/.test(e.hint), `byte ${pos}`);
    // openssl agrees that the corrupted bytes are not a usable P-256 key (it rejects them or reads another key type).
    let opensslOk = true;
    try {
      const out = execFileSync('openssl', ['ec', '-pubin', '-inform', 'DER', '-noout', '-text'], { input: bad, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
      opensslOk = /prime256v1/.test(out);
    } catch {
      opensslOk = false;
    }
    assert.equal(opensslOk, false, `openssl also rejects a flip at byte ${pos}`);
  }
});

test('a corrupted coordinate: the point is not on the curve (openssl agrees)', () => {
  const der = newP256Spki();
  const bad = Buffer.from(der);
  bad[90]! ^= 0x01; // last byte of Y
  assert.throws(() => parseP256Spki(bad), /not on the P-256 curve/);
  assert.throws(() => opensslPubkeyDer(bad));
  assert.equal(isOnP256(0n, 0n), false);
});

test('wrong length, length differing from the header, another curve', () => {
  const der = newP256Spki();
  assert.throws(() => parseP256Spki(der.subarray(0, 90)), /90 bytes; a P-256 SubjectPublicKeyInfo is 91 bytes/);
  assert.throws(() => parseP256Spki(der, 92), /91 bytes, but the header announced 92/);
  const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ type: 'spki', format: 'der' }) as Buffer;
  assert.throws(() => parseP256Spki(p384), /120 bytes; a P-256/);
});
