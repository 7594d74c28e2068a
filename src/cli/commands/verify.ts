import path from 'node:path';
import { promises as fs } from 'node:fs';
import type { CommandContext, CommandResult } from '../context.js';
import { ExitCode, UsageError } from '../../errors.js';
import { exists } from '../../util/fs-atomic.js';

async function read(file: string, what: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (e) {
    throw new UsageError('FILE_UNREADABLE', `cannot read the ${what} ${file}: ${(e as NodeJS.ErrnoException).code}`, { hint: `check the ${what} path` });
  }
}

export async function run(ctx: CommandContext, argv: Record<string, any>): Promise<CommandResult> {
  const { verifyDeviceCertificate, parseCertificate } = await import('../../pki/verify.js');
  const { parseDevicePublicKey } = await import('../../pki/public-key.js');
  const { caSettings } = await import('../../pki/settings.js');
  const certFile = path.resolve(ctx.cwd, argv.certificate);
  const keyFile = path.resolve(ctx.cwd, argv.publicKey);
  let caFile: string | undefined = argv.ca ? path.resolve(ctx.cwd, argv.ca) : undefined;
  if (!caFile) {
    const loaded = await ctx.loadConfig();
    const fallback = caSettings(await ctx.projectRoot(), loaded?.config, ctx.env).certPath;
    if (await exists(fallback)) caFile = fallback;
    else ctx.log.warn(`no --ca and no ${fallback}: the chain is not checked`);
  }
  let certificate;
  try {
    certificate = parseCertificate(await read(certFile, 'certificate'));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError('CERT_INVALID', `${certFile} is not an X.509 certificate (${(e as Error).message})`, { hint: 'give the device certificate in PEM or DER' });
  }
  const publicKey = parseDevicePublicKey(await read(keyFile, 'public key'), keyFile);
  const { readCaCertificate } = await import('../../pki/ca-load.js');
  const ca = caFile ? await readCaCertificate(caFile) : undefined;
  const result = verifyDeviceCertificate({ certificate, publicKey, ca });
  for (const c of result.checks) {
    if (c.ok) ctx.log.ok(`ok   ${c.check}: ${c.detail}`);
    else ctx.log.write(ctx.log.paint('red', `FAIL ${c.check}: ${c.detail}`) + '\n');
  }
  return { data: { certificate: certFile, publicKey: keyFile, ca: caFile, ...result }, exitCode: result.ok ? ExitCode.OK : ExitCode.VERIFY_FAILED };
}
