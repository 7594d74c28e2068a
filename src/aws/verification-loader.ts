// Where register-ca gets its verification certificate: src/pki/verification.ts, written
// on the PKI branch (issue 5). The specifier is computed in a variable so that tsc does
// not try to resolve a module this branch does not have yet; at run time a missing
// module becomes a clear error instead of a crash.
import { ToolError } from '../errors.js';
import type { CreateVerificationCertificate } from './register-ca.js';

const PKI_VERIFICATION_MODULE = '../pki/verification.js';

export async function loadCreateVerificationCertificate(): Promise<CreateVerificationCertificate> {
  const specifier: string = PKI_VERIFICATION_MODULE;
  let mod: { createVerificationCertificate?: CreateVerificationCertificate };
  try {
    mod = (await import(specifier)) as typeof mod;
  } catch (e) {
    // Only the PKI module itself being absent is expected; a broken dependency of it is not.
    const err = e as NodeJS.ErrnoException;
    if (err.code !== 'ERR_MODULE_NOT_FOUND' || !/pki[\\/]verification\.js/.test(err.message)) throw e;
    mod = {};
  }
  if (typeof mod.createVerificationCertificate !== 'function') {
    throw new ToolError('AWS_VERIFICATION_UNAVAILABLE', 'this keyprov build has no verification-certificate issuer (src/pki/verification.ts)', {
      hint: 'register the CA with --mode sni-only, or use a keyprov build that includes the PKI module',
    });
  }
  return mod.createVerificationCertificate;
}
