import path from 'node:path';
import type { CommandContext, CommandResult } from '../context.js';
import { caOverrides, caSummary } from './ca-options.js';

export async function run(ctx: CommandContext, argv: Record<string, any>): Promise<CommandResult> {
  const { importCa, planCaImport } = await import('../../pki/ca-import.js');
  const loaded = await ctx.loadConfig();
  const opts = {
    projectRoot: await ctx.projectRoot(),
    config: loaded?.config,
    env: ctx.env,
    overrides: caOverrides(ctx.cwd, { passphraseEnv: argv.passphraseEnv }),
    certFile: path.resolve(ctx.cwd, argv.cert),
    keyFile: path.resolve(ctx.cwd, argv.key),
    force: argv.force,
    log: ctx.log,
  };
  if (ctx.dryRun) {
    // Every check of a real run (CA usable, key type, key matches, existing CA); nothing stored.
    const p = await planCaImport(opts);
    const ca = caSummary(p.certificate);
    ctx.log.info(`dry run: would store the ${p.keyAlgorithm} key of ${opts.keyFile} as PKCS #8 in ${p.keyPath} (mode 0600${p.encrypted ? ', encrypted' : ''}) and the certificate in ${p.certPath}`);
    ctx.log.info(`dry run: CA ${ca.subject}, valid until ${ca.notAfter}, SHA-256 ${ca.fingerprintSha256}`);
    if (p.replaces.length) ctx.log.warn(`dry run: would replace the existing CA (${p.replaces.join(', ')})`);
    return { data: { dryRun: true, certificate: p.certPath, key: p.keyPath, keyAlgorithm: p.keyAlgorithm, encrypted: p.encrypted, replaces: p.replaces, ca } };
  }
  const imported = await importCa(opts);
  return { data: { certificate: imported.certPath, key: imported.keyPath, encrypted: imported.encrypted, ca: caSummary(imported.certificate) } };
}
