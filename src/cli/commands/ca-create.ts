import type { CommandContext, CommandResult } from '../context.js';
import { caOverrides, caSummary } from './ca-options.js';

export async function run(ctx: CommandContext, argv: Record<string, any>): Promise<CommandResult> {
  const { createCa, planCa } = await import('../../pki/ca-create.js');
  const loaded = await ctx.loadConfig();
  const opts = {
    projectRoot: await ctx.projectRoot(),
    config: loaded?.config,
    env: ctx.env,
    overrides: caOverrides(ctx.cwd, argv),
    algorithm: argv.algorithm,
    subject: argv.subject,
    days: argv.days,
    force: argv.force,
    log: ctx.log,
  };
  if (ctx.dryRun) {
    // Every check of a real run; no key generated, no file written.
    const p = await planCa(opts);
    const key = p.backend === 'pkcs11' ? `generate the ${p.algorithm} key "${p.keyLocation.slice('pkcs11:'.length)}" in the token` : `write the ${p.algorithm} key to ${p.keyLocation} (PKCS #8, mode 0600${p.encrypted ? `, encrypted with the passphrase from ${p.passphraseEnv}` : ''})`;
    ctx.log.info(`dry run: would ${key} and the CA certificate to ${p.certPath}`);
    ctx.log.info(`dry run: subject ${p.subject}, valid ${p.days} days (${p.notBefore.toISOString()} to ${p.notAfter.toISOString()})`);
    if (p.replaces.length) ctx.log.warn(`dry run: would replace the existing CA (${p.replaces.join(', ')})`);
    return {
      data: {
        dryRun: true,
        backend: p.backend,
        algorithm: p.algorithm,
        subject: p.subject,
        days: p.days,
        notBefore: p.notBefore.toISOString(),
        notAfter: p.notAfter.toISOString(),
        certificate: p.certPath,
        key: p.keyLocation,
        encrypted: p.encrypted,
        replaces: p.replaces,
      },
    };
  }
  const created = await createCa(opts);
  return {
    data: { backend: created.backend, certificate: created.certPath, key: created.keyLocation, encrypted: created.encrypted, ca: caSummary(created.certificate) },
  };
}
