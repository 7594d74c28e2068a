import path from 'node:path';
import { promises as fs } from 'node:fs';
import type { CommandContext, CommandResult } from '../context.js';
import { UsageError } from '../../errors.js';
import { boardFiles } from '../../project.js';
import { exists } from '../../util/fs-atomic.js';
import { caOverrides } from './ca-options.js';

/** The CN a board asked for (secure-element boards print "Recommended certificate subject name: CN=..."). */
async function recommendedCn(publicKeyFile: string): Promise<string | undefined> {
  try {
    const j = JSON.parse(await fs.readFile(path.join(path.dirname(publicKeyFile), 'capture.json'), 'utf8'));
    const v = j?.recommendedSubjectCn ?? j?.recommendedCn ?? j?.recommendedCN ?? j?.recommendedSubjectName;
    return typeof v === 'string' && v ? v.replace(/^CN=/, '') : undefined;
  } catch {
    return undefined;
  }
}

export async function run(ctx: CommandContext, argv: Record<string, any>): Promise<CommandResult> {
  const loaded = await ctx.loadConfig();
  const config = loaded?.config;
  const root = await ctx.projectRoot();
  const board = argv.board ? boardFiles(root, argv.board) : undefined;

  let publicKeyFile: string | undefined = argv.publicKey ? path.resolve(ctx.cwd, argv.publicKey) : undefined;
  if (!publicKeyFile && board) publicKeyFile = (await exists(board.publicKeyPem)) ? board.publicKeyPem : board.publicKeyDer;
  if (!publicKeyFile) throw new UsageError('PUBLIC_KEY_REQUIRED', 'no public key given', { hint: 'pass --public-key FILE (PEM or DER), or --board ID after a capture' });
  let keyData: Buffer;
  try {
    keyData = await fs.readFile(publicKeyFile);
  } catch (e) {
    throw new UsageError('PUBLIC_KEY_UNREADABLE', `cannot read the public key ${publicKeyFile}: ${(e as NodeJS.ErrnoException).code}`, {
      hint: board && !argv.publicKey ? `capture the key of board ${argv.board} first` : 'check the --public-key path',
    });
  }

  let cn: string | undefined = argv.cn ?? (await recommendedCn(publicKeyFile));
  if (!cn && config) {
    const { resolveBoard } = await import('../../config/boards.js');
    cn = resolveBoard(config, argv.board).thingName;
  }
  if (!cn) {
    throw new UsageError('DEVICE_CN_REQUIRED', 'no CN for the certificate: no --cn, no recommended CN in capture.json and no thing name in the config', {
      hint: 'pass --cn THING_NAME, or set credentials.thingName (or boards[].thingName) in keyprov.config.yaml',
    });
  }

  const out = argv.out ? path.resolve(ctx.cwd, argv.out) : board?.certificate;
  const chain = argv.chain ? path.resolve(ctx.cwd, argv.chain) : argv.out ? out!.replace(/(\.pem|\.crt)?$/, '-chain.pem') : board?.chain;
  if (!argv.force) {
    for (const f of [argv.out ? out : undefined, argv.chain || argv.out ? chain : undefined]) {
      if (f && (await exists(f))) throw new UsageError('OUTPUT_EXISTS', `${f} already exists; not overwriting it`, { hint: 'pass --force to replace it, or choose another --out/--chain' });
    }
  }

  const { loadCa } = await import('../../pki/ca-load.js');
  const { issueDeviceCertificate } = await import('../../pki/device-cert.js');
  const { parseDevicePublicKey } = await import('../../pki/public-key.js');
  const publicKey = parseDevicePublicKey(keyData, publicKeyFile);
  const ca = await loadCa({ projectRoot: root, config, env: ctx.env, overrides: caOverrides(ctx.cwd, argv), log: ctx.log });
  try {
    const { openStore, openStoreReadonly, storePath } = await import('../../store/db.js');
    const { CertificateLedger } = await import('../../store/certificates.js');
    if (ctx.dryRun) {
      // The checks of a real issue (key type, CN, days, reissue rule against a read-only store);
      // nothing signed, written or recorded, and no store created.
      const { DeviceIssuer } = await import('../../pki/device-cert.js');
      const ro = openStoreReadonly(storePath(root));
      try {
        const plan = new DeviceIssuer(ca).check({
          publicKey,
          publicKeySource: publicKeyFile,
          cn,
          days: argv.days ?? config?.pki?.days,
          allowedKeyAlgorithms: config?.pki?.deviceKeyAlgorithms,
          store: ro ? new CertificateLedger(ro) : undefined,
          reissue: argv.reissue,
          log: ctx.log,
        });
        const files = out || chain ? { certificate: out, chain } : {};
        ctx.log.info(
          `dry run: would issue CN=${cn} for the ${publicKey.algorithm} key ${publicKey.fingerprint.slice(0, 16)}... from ${ca.source}, valid ${plan.notBefore.toISOString()} to ${plan.notAfter.toISOString()}` +
            (out ? `, to ${out}${chain ? ` (chain: ${chain})` : ''}` : chain ? `, chain to ${chain}` : ', on stdout'),
        );
        return {
          data: { dryRun: true, cn, keyAlgorithm: plan.keyAlgorithm, publicKeyFingerprint: publicKey.fingerprint, notBefore: plan.notBefore.toISOString(), notAfter: plan.notAfter.toISOString(), clamped: plan.clamped, files },
        };
      } finally {
        ro?.close();
      }
    }
    const db = openStore(storePath(root));
    try {
      const cert = await issueDeviceCertificate({
        ca,
        publicKey,
        publicKeySource: publicKeyFile,
        cn,
        days: argv.days ?? config?.pki?.days,
        allowedKeyAlgorithms: config?.pki?.deviceKeyAlgorithms,
        store: new CertificateLedger(db),
        reissue: argv.reissue,
        boardId: argv.board,
        out: out || chain ? { certificate: out, chain } : undefined,
        log: ctx.log,
      });
      if (out) ctx.log.ok(`issued CN=${cn} serial ${cert.serial}, valid until ${cert.notAfter.toISOString()}: ${out}${chain ? ` (chain: ${chain})` : ''}`);
      const data = {
        serial: cert.serial,
        subjectCn: cert.subjectCn,
        notBefore: cert.notBefore.toISOString(),
        notAfter: cert.notAfter.toISOString(),
        clamped: cert.clamped,
        keyAlgorithm: cert.keyAlgorithm,
        fingerprints: cert.fingerprints,
        files: cert.files ?? {},
        certificatePem: cert.certificatePem,
      };
      return { data, text: out ? undefined : cert.certificatePem };
    } finally {
      db.close();
    }
  } finally {
    ca.close();
  }
}
