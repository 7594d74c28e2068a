// Where the CA lives for a project: files (default) or a PKCS #11 token, from the config
// (`pki.ca`) with command-line overrides. No key material here, only names and paths.
import path from 'node:path';
import type { KeyprovConfig } from '../config/schema.js';
import { caFiles } from '../project.js';
import { UsageError } from '../errors.js';

export const DEFAULT_PASSPHRASE_ENV = 'KEYPROV_CA_PASSPHRASE';
export const DEFAULT_PIN_ENV = 'KEYPROV_PKCS11_PIN';
export const DEFAULT_KEY_LABEL = 'keyprov-ca';

export interface Pkcs11Settings {
  module: string;
  tokenLabel?: string;
  slot?: number;
  /** Resolved PIN (from the config's `${env:...}` or KEYPROV_PKCS11_PIN). */
  pin?: string;
  keyLabel: string;
}

export interface CaSettings {
  backend: 'file' | 'pkcs11';
  certPath: string;
  /** File backend only. */
  keyPath: string;
  passphraseEnv: string;
  pkcs11?: Pkcs11Settings;
}

export interface CaOverrides {
  backend?: 'file' | 'pkcs11';
  certPath?: string;
  keyPath?: string;
  passphraseEnv?: string;
  pkcs11?: Partial<Pkcs11Settings>;
}

export function caSettings(projectRoot: string, config: KeyprovConfig | undefined, env: NodeJS.ProcessEnv, o: CaOverrides = {}): CaSettings {
  const c = config?.pki?.ca;
  const files = caFiles(projectRoot);
  const backend = o.backend ?? c?.backend ?? (o.pkcs11?.module ? 'pkcs11' : 'file');
  const s: CaSettings = {
    backend,
    certPath: path.resolve(o.certPath ?? c?.cert ?? files.cert),
    keyPath: path.resolve(o.keyPath ?? c?.key ?? files.key),
    passphraseEnv: o.passphraseEnv ?? c?.passphraseEnv ?? DEFAULT_PASSPHRASE_ENV,
  };
  if (backend === 'pkcs11') {
    const p = { ...c?.pkcs11, ...stripUndefined(o.pkcs11 ?? {}) };
    if (!p.module) {
      throw new UsageError('PKCS11_MODULE_MISSING', 'the PKCS #11 backend needs a module path', {
        hint: 'set pki.ca.pkcs11.module (e.g. /usr/lib/softhsm/libsofthsm2.so) or pass --pkcs11-module',
      });
    }
    s.pkcs11 = { module: p.module, tokenLabel: p.tokenLabel, slot: p.slot, pin: p.pin || env[DEFAULT_PIN_ENV] || undefined, keyLabel: p.keyLabel ?? DEFAULT_KEY_LABEL };
  }
  return s;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function passphraseFrom(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v ? v : undefined;
}
