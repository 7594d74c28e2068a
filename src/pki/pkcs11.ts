// A CA key inside a PKCS #11 token (SoftHSM2 in tests, an HSM or smart card in a lab),
// reached through node-webcrypto-p11. The private key is generated in the token as
// sensitive and non-extractable; signing happens in the token.
import './crypto.js'; // reflect-metadata before node-webcrypto-p11 pulls in @peculiar/x509
import { createRequire } from 'node:module';
import { KeyprovError, ToolError, UsageError } from '../errors.js';
import type { Pkcs11Settings } from './settings.js';
import { webCryptoSigner, type CaSigner } from './signers.js';
import type { P11Crypto, P11Key } from './pkcs11-types.js';

const require = createRequire(import.meta.url);

export interface TokenSession {
  crypto: P11Crypto;
  /** Where it is, for messages: "token lab (slot 0) in /usr/lib/...". */
  description: string;
  close(): void;
}

/** Finds the slot (by token label or index), opens a read-write session and logs in. */
export function openToken(s: Pkcs11Settings): TokenSession {
  const { Crypto } = require('node-webcrypto-p11') as typeof import('node-webcrypto-p11');
  const slot = s.tokenLabel !== undefined ? slotOfToken(s.module, s.tokenLabel) : (s.slot ?? 0);
  if (!s.pin) {
    throw new UsageError('PKCS11_PIN_MISSING', 'no PIN for the PKCS #11 token', {
      hint: 'set pki.ca.pkcs11.pin to ${env:NAME}, or the environment variable KEYPROV_PKCS11_PIN',
    });
  }
  let crypto: P11Crypto;
  try {
    crypto = new Crypto({ library: s.module, slot, readWrite: true, name: 'keyprov' }) as unknown as P11Crypto;
  } catch (e) {
    throw new ToolError('PKCS11_OPEN', `cannot open slot ${slot} of the PKCS #11 module ${s.module}: ${(e as Error).message}`, {
      hint: 'check pki.ca.pkcs11.module and the slot or token label (softhsm2-util --show-slots)',
    });
  }
  try {
    crypto.login(s.pin);
  } catch (e) {
    crypto.close();
    const pinWrong = /PIN_INCORRECT|PIN_INVALID|PIN_LEN/.test((e as Error).message);
    throw new UsageError(pinWrong ? 'PKCS11_PIN_WRONG' : 'PKCS11_LOGIN', `cannot log in to the PKCS #11 token: ${pinWrong ? 'wrong PIN' : (e as Error).message}`, {
      hint: 'check the PIN in pki.ca.pkcs11.pin / KEYPROV_PKCS11_PIN',
    });
  }
  return {
    crypto,
    description: `${s.tokenLabel !== undefined ? `token "${s.tokenLabel}"` : 'token'} (slot ${slot}) of ${s.module}`,
    close: () => {
      try {
        crypto.close();
      } catch {
        /* already closed */
      }
    },
  };
}

function slotOfToken(module: string, label: string): number {
  const graphene = require('graphene-pk11') as typeof import('graphene-pk11');
  let mod;
  try {
    mod = graphene.Module.load(module, 'keyprov');
    mod.initialize();
  } catch (e) {
    throw new ToolError('PKCS11_MODULE', `cannot load the PKCS #11 module ${module}: ${(e as Error).message}`, {
      hint: 'check pki.ca.pkcs11.module (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so)',
    });
  }
  try {
    const slots = mod.getSlots(true);
    const labels: string[] = [];
    for (let i = 0; i < slots.length; i++) {
      const l = slots.items(i).getToken().label.trim();
      if (l === label) return i;
      labels.push(l || '(no label)');
    }
    throw new UsageError('PKCS11_TOKEN_NOT_FOUND', `no token labelled "${label}" in ${module}`, { hint: `tokens present: ${labels.join(', ') || 'none'}` });
  } finally {
    mod.finalize();
  }
}

async function keysLabelled(t: TokenSession, label: string): Promise<{ privateKey?: P11Key; publicKey?: P11Key }> {
  const found: { privateKey?: P11Key; publicKey?: P11Key } = {};
  for (const index of await t.crypto.keyStorage.keys()) {
    const key = await t.crypto.keyStorage.getItem(index);
    if (key.algorithm.label !== label) continue;
    if (key.type === 'private') found.privateKey = key;
    if (key.type === 'public') found.publicKey = key;
  }
  return found;
}

export type TokenKeyAlgorithm = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-3072';

/** Refuses a label that a private key in the token already has (keyprov never deletes token keys). */
export async function assertKeyLabelFree(t: TokenSession, label: string): Promise<void> {
  const existing = await keysLabelled(t, label);
  if (existing.privateKey) {
    throw new UsageError('PKCS11_KEY_EXISTS', `the ${t.description} already holds a key labelled "${label}"`, {
      hint: 'choose another label (pki.ca.pkcs11.keyLabel / --key-label), or delete the old key with the token tools; keyprov never deletes token keys',
    });
  }
}

/** Generates a sensitive, non-extractable key pair stored in the token under `label`. */
export async function generateTokenKey(t: TokenSession, algorithm: TokenKeyAlgorithm, label: string): Promise<{ signer: CaSigner; spkiDer: Buffer }> {
  await assertKeyLabelFree(t, label);
  const params =
    algorithm === 'ec-p256' || algorithm === 'ec-p384'
      ? { name: 'ECDSA', namedCurve: algorithm === 'ec-p256' ? 'P-256' : 'P-384' }
      : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: algorithm === 'rsa-2048' ? 2048 : 3072 };
  const pair = (await t.crypto.subtle.generateKey({ ...params, token: true, sensitive: true, label } as unknown as Algorithm, false, ['sign', 'verify'])) as CryptoKeyPair;
  const spkiDer = Buffer.from(await t.crypto.subtle.exportKey('spki', pair.publicKey));
  return { signer: webCryptoSigner(t.crypto.subtle as unknown as SubtleCrypto, pair.privateKey, algorithm), spkiDer };
}

/** The signer for the key labelled `label`, and its public key. */
export async function findTokenKey(t: TokenSession, label: string, keyAlgorithm: string): Promise<{ signer: CaSigner; spkiDer?: Buffer; extractable: boolean }> {
  const k = await keysLabelled(t, label);
  if (!k.privateKey) {
    throw new KeyprovError('PKCS11_KEY_NOT_FOUND', `no private key labelled "${label}" in the ${t.description}`, {
      hint: 'check pki.ca.pkcs11.keyLabel, or create the CA in the token with `keyprov ca create --backend pkcs11`',
    });
  }
  const spkiDer = k.publicKey ? Buffer.from(await t.crypto.subtle.exportKey('spki', k.publicKey)) : undefined;
  return { signer: webCryptoSigner(t.crypto.subtle as unknown as SubtleCrypto, k.privateKey as unknown as CryptoKey, keyAlgorithm), spkiDer, extractable: k.privateKey.extractable };
}
