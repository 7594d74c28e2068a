// keyprov capture: thin CLI over src/serial/capture.ts.
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { resolveBoard, DEFAULT_BOARD_ID } from '../../config/boards.js';
import { captureFromLog, captureFromPort, captureFilesForBoard, captureFilesIn, type CaptureResult, type CaptureFiles } from '../../serial/capture.js';
import type { ResetMethod } from '../../serial/reset.js';
import type { CommandContext, CommandResult } from '../context.js';

interface CaptureArgv {
  port?: string;
  fromLog?: string;
  baud?: number;
  reset?: ResetMethod;
  timeout?: number;
  out?: string;
  board?: string;
}

export async function run(ctx: CommandContext, argv: CaptureArgv): Promise<CommandResult> {
  const loaded = await ctx.loadConfig();
  const board = loaded || argv.board ? resolveBoard(loaded?.config, argv.board) : undefined;
  const serial = board?.serial ?? {};
  const boardId = board?.id ?? DEFAULT_BOARD_ID;

  if (argv.baud !== undefined && (!Number.isInteger(argv.baud) || argv.baud <= 0)) {
    throw new UsageError('BAUD_INVALID', `--baud must be a positive integer, got ${argv.baud}`, { hint: 'e.g. --baud 115200' });
  }
  if (argv.timeout !== undefined && (!Number.isFinite(argv.timeout) || argv.timeout <= 0)) {
    throw new UsageError('TIMEOUT_INVALID', `--timeout must be a positive number of seconds, got ${argv.timeout}`, { hint: 'e.g. --timeout 120' });
  }
  const timeoutMs = (argv.timeout ?? serial.timeout ?? 60) * 1000;
  const files: CaptureFiles = argv.out ? captureFilesIn(path.resolve(ctx.cwd, argv.out)) : captureFilesForBoard(await ctx.projectRoot(), boardId);
  if (ctx.dryRun) {
    ctx.log.info(`would capture from ${argv.fromLog ?? argv.port ?? serial.port ?? '(no port)'} and write ${files.publicKeyDer}, ${files.publicKeyPem}, ${files.consoleLog}`);
    return { data: { written: false, files } };
  }

  let result: CaptureResult;
  if (argv.fromLog !== undefined) {
    result = await captureFromLog({ file: argv.fromLog === '-' ? '-' : path.resolve(ctx.cwd, argv.fromLog), timeoutMs, files, log: ctx.log });
  } else {
    const port = argv.port ?? serial.port;
    if (!port) {
      throw new UsageError('PORT_REQUIRED', 'no console port: pass --port PATH (or --port auto), or --from-log FILE', { hint: 'or set serial.port (or serial.serialNumber, to find the USB adapter) in keyprov.config.yaml' });
    }
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once('SIGINT', onSignal);
    try {
      result = await captureFromPort({
        port: port === 'auto' ? port : path.resolve(ctx.cwd, port),
        baud: argv.baud ?? serial.baud ?? 115200,
        reset: argv.reset ?? serial.reset ?? 'none',
        resetCommand: serial.resetCommand,
        vendorId: serial.vendorId,
        productId: serial.productId,
        serialNumber: serial.serialNumber,
        timeoutMs,
        files,
        log: ctx.log,
        signal: controller.signal,
      });
    } finally {
      process.off('SIGINT', onSignal);
    }
  }

  ctx.log.ok(`public key captured from ${result.source}: ${result.curve}, sha256 ${result.sha256Fingerprint}`);
  if (result.recommendedSubjectCn) ctx.log.info(`recommended certificate subject: CN=${result.recommendedSubjectCn}`);
  ctx.log.info(`wrote ${files.publicKeyPem}, ${path.basename(files.publicKeyDer)}, ${path.basename(files.consoleLog)}, ${path.basename(files.captureJson)}`);
  return {
    data: {
      publicKeyPem: result.pem,
      publicKeyDerHex: result.derHex,
      sha256Fingerprint: result.sha256Fingerprint,
      curve: result.curve,
      recommendedSubjectCn: result.recommendedSubjectCn ?? null,
      blocksSeen: result.blocksSeen,
      keyChanged: result.keyChanged,
      source: result.source,
      files,
    },
    text: result.pem,
  };
}
