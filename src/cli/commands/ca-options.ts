// Turns the CA options shared by `ca create`, `ca import` and `issue` into library overrides.
import path from 'node:path';
import type { CaOverrides } from '../../pki/settings.js';

export function caOverrides(cwd: string, argv: Record<string, any>): CaOverrides {
  const abs = (p?: string) => (p ? path.resolve(cwd, p) : undefined);
  const pkcs11 = {
    module: abs(argv.pkcs11Module),
    tokenLabel: argv.tokenLabel as string | undefined,
    slot: argv.slot as number | undefined,
    keyLabel: argv.keyLabel as string | undefined,
  };
  return {
    backend: argv.backend,
    certPath: abs(argv.caCert),
    keyPath: abs(argv.caKey),
    passphraseEnv: argv.passphraseEnv,
    pkcs11: Object.values(pkcs11).some((v) => v !== undefined) ? pkcs11 : undefined,
  };
}

export function caSummary(c: { fingerprint: string; notAfter: Date; x509: { subject: string }; isCa: boolean }) {
  return { subject: c.x509.subject.replace(/\n/g, ', '), notAfter: c.notAfter.toISOString(), fingerprintSha256: c.fingerprint };
}
