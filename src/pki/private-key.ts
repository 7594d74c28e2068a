// Reading a CA private key file in any of the forms openssl writes. Errors name the file
// and the problem, never the key's contents.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { UsageError } from '../errors.js';

const KEY_BLOCK = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]*?-----END \1-----/;

export async function readKeyFile(file: string, what = 'CA key'): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : String(code);
    throw new UsageError('CA_KEY_UNREADABLE', `cannot read the ${what} ${file}: ${why}`, {
      hint: code === 'EACCES' ? `make ${file} readable by this user (chmod 600, owned by you)` : 'check the path (pki.ca.key, --key or --ca-key), or create a CA with `keyprov ca create`',
    });
  }
}

/**
 * PKCS #1 (`RSA PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`, possibly after an `EC PARAMETERS`
 * block), PKCS #8 and encrypted PKCS #8 (PEM), or PKCS #8 / SEC1 / PKCS #1 DER.
 */
export function parsePrivateKey(data: Buffer, source: string, passphrase: string | undefined, passphraseEnv: string): KeyObject {
  const text = data.toString('latin1');
  const block = KEY_BLOCK.exec(text);
  const encrypted = block ? block[1] === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(block[0]) : false;
  if (encrypted && !passphrase) {
    throw new UsageError('CA_KEY_PASSPHRASE_REQUIRED', `${source} is encrypted and no passphrase was given`, {
      hint: `put the passphrase in the environment variable ${passphraseEnv}`,
    });
  }
  try {
    if (block) return createPrivateKey({ key: block[0], format: 'pem', passphrase: encrypted ? passphrase : undefined });
    if (text.includes('-----BEGIN')) throw new Error('no private key block');
    for (const type of ['pkcs8', 'sec1', 'pkcs1'] as const) {
      try {
        return createPrivateKey({ key: data, format: 'der', type });
      } catch {
        /* next form */
      }
    }
    throw new Error('unrecognised DER');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (encrypted && (code === 'ERR_OSSL_BAD_DECRYPT' || /bad decrypt/i.test((e as Error).message))) {
      throw new UsageError('CA_KEY_PASSPHRASE_WRONG', `wrong passphrase for ${source}`, { hint: `check the passphrase in ${passphraseEnv}` });
    }
    throw new UsageError('CA_KEY_FORMAT', `${source} is not a private key keyprov can read`, {
      hint: 'give a PEM private key: PKCS #8 (BEGIN PRIVATE KEY / ENCRYPTED PRIVATE KEY), PKCS #1 (BEGIN RSA PRIVATE KEY) or SEC1 (BEGIN EC PRIVATE KEY)',
    });
  }
}
