import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { CommandContext, CommandResult } from '../context.js';
import { writeFileAtomic } from '../../util/fs-atomic.js';

export async function run(ctx: CommandContext, argv: Record<string, any>): Promise<CommandResult> {
  const { createVerificationCertificate } = await import('../../pki/verification.js');
  const loaded = await ctx.loadConfig();
  const { certificatePem } = await createVerificationCertificate({
    projectRoot: await ctx.projectRoot(),
    config: loaded?.config,
    registrationCode: String(argv.registrationCode),
    log: ctx.log,
    env: ctx.env,
  });
  if (argv.out) {
    const out = path.resolve(ctx.cwd, argv.out);
    await mkdir(path.dirname(out), { recursive: true });
    await writeFileAtomic(out, certificatePem);
    ctx.log.ok(`wrote the verification certificate to ${out}`);
    return { data: { file: out, certificatePem } };
  }
  return { data: { certificatePem }, text: certificatePem };
}
