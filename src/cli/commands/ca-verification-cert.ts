import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { CommandContext, CommandResult } from '../context.js';
import { writeFileAtomic } from '../../util/fs-atomic.js';

export async function run(ctx: CommandContext, argv: Record<string, any>): Promise<CommandResult> {
  const { createVerificationCertificate } = await import('../../pki/verification.js');
  const loaded = await ctx.loadConfig();
  // Also under --dry-run: loading the CA and signing in memory checks everything and changes nothing.
  const { certificatePem } = await createVerificationCertificate({
    projectRoot: await ctx.projectRoot(),
    config: loaded?.config,
    registrationCode: String(argv.registrationCode),
    log: ctx.log,
    env: ctx.env,
  });
  if (argv.out) {
    const out = path.resolve(ctx.cwd, argv.out);
    if (ctx.dryRun) {
      const { X509Certificate } = await import('node:crypto');
      const c = new X509Certificate(certificatePem);
      const notAfter = new Date(c.validTo).toISOString();
      ctx.log.info(`dry run: would write the verification certificate (CN=${String(argv.registrationCode).trim()}, issued by ${c.issuer.replace(/\n/g, ', ')}, valid until ${notAfter}) to ${out}`);
      return { data: { dryRun: true, file: out, subject: c.subject.replace(/\n/g, ', '), issuer: c.issuer.replace(/\n/g, ', '), notAfter } };
    }
    await mkdir(path.dirname(out), { recursive: true });
    await writeFileAtomic(out, certificatePem);
    ctx.log.ok(`wrote the verification certificate to ${out}`);
    return { data: { file: out, certificatePem } };
  }
  return { data: { certificatePem }, text: certificatePem };
}
