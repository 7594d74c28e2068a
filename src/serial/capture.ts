// The capture flow: read a console until the device public key has been printed in full,
// validate it, and write device-public-key.der/.pem, the raw console log and capture.json.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DeviceTimeoutError, KeyprovError, UsageError, ExitCode } from '../errors.js';
import type { Logger } from '../log.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { boardFiles } from '../project.js';
import { PublicKeyParser, type ConsoleEvent, type ParserStats } from './public-key-parser.js';
import { parseP256Spki, spkiDerToPem, spkiFingerprint, CURVE_NAME } from './spki.js';
import { openConsole, openLogConsole, type ByteFeed, type ConsoleHandle } from './console.js';
import type { ResetMethod } from './reset.js';
import type { PortMatch } from './ports.js';

export interface CaptureOptions {
  /** Give up after this long without a complete key. Default 60 000 ms. */
  timeoutMs?: number;
  /** After a complete key on a live port, wait this long for another block (the key may be printed twice). Default 1500 ms. */
  settleMs?: number;
  /** Added to N when the board says `Waiting for N seconds before generating key-pair`. Default 30 000 ms. */
  waitMarginMs?: number;
  /** Start reading at this byte of the console (default 0: everything since it was opened). */
  fromOffset?: number;
  log?: Logger;
  /**
   * A console line matching this means the board is past key provisioning (it connected, failed,
   * finished its demo): no key, or no newer key, will come. The capture ends at once with the key
   * seen so far, or the usual no-key error.
   */
  stopAt?: RegExp;
  /** Where the keygen-delay countdown goes on a terminal (the provision step list); default: the logger's status line. */
  progress?: (text: string | undefined) => void;
  signal?: AbortSignal;
}

export interface CaptureResult {
  der: Buffer;
  pem: string;
  derHex: string;
  /** SHA-256 of the DER, lowercase hex. */
  sha256Fingerprint: string;
  curve: typeof CURVE_NAME;
  /** From `Recommended certificate subject name: CN=<id>`, when the board printed it. */
  recommendedSubjectCn?: string;
  /** Complete key blocks seen; the last one is the result. */
  blocksSeen: number;
  /** Two complete blocks differed: the board generated a new key during the capture. */
  keyChanged: boolean;
  truncatedBlocks: number;
  /** Port path, log file, or "stdin". */
  source: string;
}

const DEFAULTS = { timeoutMs: 60_000, settleMs: 1_500, waitMarginMs: 30_000 };

/** Printable tail of the console (ANSI and control characters removed), for error messages. */
export function consoleTail(bytes: Buffer, lines = 6): string[] {
  const text = bytes.subarray(Math.max(0, bytes.length - 4096)).toString('latin1');
  return text
    .replace(/\x1b(?:\[[0-9;?]*[ -\/]*[@-~]|[@-Z\\-_])/g, '')
    .split(/[\r\n]+/)
    .map((l) => l.replace(/[^\x20-\x7e]/g, '.').trim())
    .filter((l) => l.length > 0)
    .slice(-lines)
    .map((l) => (l.length > 120 ? l.slice(0, 117) + '...' : l));
}

function formatTail(tail: string[]): string {
  return tail.length ? `\nlast console lines:\n${tail.map((l) => `  | ${l}`).join('\n')}` : '';
}

function diagnose(feed: ByteFeed, stats: ParserStats, partial: { expected: number; received: number } | undefined, lastTruncated: Extract<ConsoleEvent, { type: 'truncated' }> | undefined, why: string): KeyprovError {
  const tail = consoleTail(feed.bytes());
  const details = { source: feed.source, bytesReceived: stats.bytes, unreadableBytes: stats.unreadableBytes, headersSeen: stats.headers, consoleTail: tail };
  if (stats.bytes === 0) {
    return new DeviceTimeoutError('CAPTURE_NOTHING_RECEIVED', `${why}: nothing at all was received from ${feed.source}`, {
      hint: feed.live ? 'check that the board is powered and on this port, then reset it (--reset rts|dtr|command, or press its reset button)' : 'the log is empty',
      details,
    });
  }
  const cut = partial ?? lastTruncated;
  if (cut) {
    return new DeviceTimeoutError('CAPTURE_TRUNCATED', `${why}: the key block was cut short (${cut.received} of ${cut.expected} bytes received)${formatTail(tail)}`, {
      hint: 'the board reset or bytes were lost while it printed the key; capture again (with --reset so it starts from a clean boot) and check the baud rate',
      details: { ...details, expectedBytes: cut.expected, receivedBytes: cut.received },
    });
  }
  const unreadable = stats.unreadableBytes / stats.bytes;
  if (unreadable > 0.25) {
    return new DeviceTimeoutError('CAPTURE_UNREADABLE', `${why}: ${stats.bytes} bytes received from ${feed.source}, ${Math.round(unreadable * 100)}% of them unreadable${formatTail(tail)}`, {
      hint: 'mostly unreadable bytes usually mean a baud mismatch: pass the console baud rate with --baud (115200 is the default; try 921600, 460800, 74880)',
      details,
    });
  }
  return new DeviceTimeoutError('CAPTURE_NO_HEADER', `${why}: ${stats.bytes} bytes of console output from ${feed.source} but no "Device public key, N bytes:" line${formatTail(tail)}`, {
    hint: 'is the keygen build flashed? It needs keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR set to 1; reset the board after flashing',
    details,
  });
}

/** Read `feed` until the device public key is complete; see CaptureOptions. */
export function captureKey(feed: ByteFeed, opts: CaptureOptions = {}): Promise<CaptureResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULTS.timeoutMs;
  const settleMs = opts.settleMs ?? DEFAULTS.settleMs;
  const waitMarginMs = opts.waitMarginMs ?? DEFAULTS.waitMarginMs;
  const log = opts.log;
  const parser = new PublicKeyParser();
  let last: Buffer | undefined;
  let cn: string | undefined;
  let keyChanged = false;
  let lastTruncated: Extract<ConsoleEvent, { type: 'truncated' }> | undefined;
  let deadline = Date.now() + timeoutMs;

  return new Promise<CaptureResult>((resolve, reject) => {
    let deadlineTimer: NodeJS.Timeout | undefined;
    let settleTimer: NodeJS.Timeout | undefined;
    let countdown: NodeJS.Timeout | undefined;
    let countdownShown = false;
    const progress = opts.progress ?? ((t: string | undefined) => log?.status(t));
    let partialLine = '';
    /** The first complete console line that matches opts.stopAt, if any. */
    const stopLine = (chunk: Buffer): string | undefined => {
      const lines = (partialLine + chunk.toString('latin1')).split(/\r\n|\n|\r/);
      partialLine = (lines.pop() ?? '').slice(-1024);
      return lines.find((l) => opts.stopAt!.test(l));
    };
    let unsubscribe = () => {};
    let done = false;

    const cleanup = () => {
      done = true;
      clearTimeout(deadlineTimer);
      clearTimeout(settleTimer);
      clearInterval(countdown);
      if (countdownShown) progress(undefined);
      unsubscribe();
      opts.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (e: unknown) => {
      if (done) return;
      cleanup();
      reject(e);
    };
    const finish = (why: string) => {
      if (done) return;
      cleanup();
      if (!last) {
        reject(diagnose(feed, parser.stats, parser.partialBlock, lastTruncated, why));
        return;
      }
      try {
        const key = parseP256Spki(last, last.length);
        if (keyChanged) log?.warn(`the key changed during the capture (${parser.stats.completeBlocks} blocks): the board generated a new key pair; using the last one`);
        resolve({
          der: key.der,
          pem: spkiDerToPem(key.der),
          derHex: key.der.toString('hex'),
          sha256Fingerprint: spkiFingerprint(key.der),
          curve: key.curve,
          recommendedSubjectCn: cn,
          blocksSeen: parser.stats.completeBlocks,
          keyChanged,
          truncatedBlocks: parser.stats.truncatedBlocks,
          source: feed.source,
        });
      } catch (e) {
        reject(e);
      }
    };
    const armDeadline = () => {
      clearTimeout(deadlineTimer);
      deadlineTimer = setTimeout(() => finish(`no complete public key within ${Math.round((deadline - startedAt) / 1000)} s`), Math.max(0, deadline - Date.now()));
    };
    const onAbort = () => fail(new KeyprovError('INTERRUPTED', 'capture interrupted', { exitCode: ExitCode.INTERRUPTED }));
    const startedAt = Date.now();

    const handle = (e: ConsoleEvent) => {
      switch (e.type) {
        case 'key':
          last = e.der;
          log?.debug(`key block ${e.index + 1} complete (${e.byteCount} bytes)`);
          if (feed.live) {
            clearTimeout(settleTimer);
            settleTimer = setTimeout(function settle() {
              // A newer block is still arriving: give it until the deadline.
              if (parser.partialBlock) settleTimer = setTimeout(settle, 200);
              else finish('settled');
            }, settleMs);
          }
          break;
        case 'key-changed':
          keyChanged = true;
          break;
        case 'truncated':
          lastTruncated = e;
          log?.warn(`discarded a key block cut short (${e.received} of ${e.expected} bytes${e.reason === 'new-header' ? '; a new one started' : ''})`);
          break;
        case 'recommended-cn':
          cn = e.cn;
          log?.info(`board recommends certificate subject CN=${e.cn}`);
          break;
        case 'wait': {
          const until = Date.now() + e.seconds * 1000 + waitMarginMs;
          if (until > deadline) deadline = until;
          armDeadline();
          log?.info(`the board waits ${e.seconds} s before generating its key pair; waiting up to ${Math.round((deadline - Date.now()) / 1000)} s`);
          clearInterval(countdown);
          const started = Date.now();
          countdown = setInterval(() => {
            const left = Math.max(0, Math.round((started + e.seconds * 1000 - Date.now()) / 1000));
            if (log?.isTTY) {
              countdownShown = true;
              progress(`key generation in ${left} s`);
            } else if (left % 30 === 0) log?.info(`key generation in ${left} s`);
            if (left === 0) clearInterval(countdown);
          }, 1000);
          countdown.unref?.();
          break;
        }
      }
    };

    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort);
    armDeadline();
    const unsub = feed.subscribe(
      (chunk) => {
        if (done) return;
        for (const e of parser.parseChunk(chunk)) handle(e);
        const stop = opts.stopAt && stopLine(chunk);
        if (stop) finish(`the board went on past key provisioning ("${stop.trim().slice(0, 100)}")`);
      },
      (err) => {
        if (done) return;
        for (const e of parser.finish()) handle(e);
        if (err && !last) return fail(new KeyprovError('CONSOLE_READ_FAILED', `reading ${feed.source} failed: ${err.message}`, { hint: feed.live ? 'was the board unplugged? check the cable and capture again' : 'check the log file path', cause: err }));
        finish(feed.live ? `${feed.source} closed before a complete public key` : `no complete public key in ${feed.source}`);
      },
      opts.fromOffset ?? 0,
    );
    if (done) unsub();
    else unsubscribe = unsub;
  });
}

export interface CaptureFiles {
  dir: string;
  publicKeyDer: string;
  publicKeyPem: string;
  consoleLog: string;
  captureJson: string;
}

/** File names inside an explicit `--out DIR`. */
export function captureFilesIn(dir: string): CaptureFiles {
  return {
    dir,
    publicKeyDer: path.join(dir, 'device-public-key.der'),
    publicKeyPem: path.join(dir, 'device-public-key.pem'),
    consoleLog: path.join(dir, 'console.log'),
    captureJson: path.join(dir, 'capture.json'),
  };
}

/** The board's state folder (`.keyprov/boards/<id>/`), with the canonical names of src/project.ts. */
export function captureFilesForBoard(root: string, boardId: string): CaptureFiles {
  const f = boardFiles(root, boardId);
  return { dir: f.dir, publicKeyDer: f.publicKeyDer, publicKeyPem: f.publicKeyPem, consoleLog: f.consoleLog('capture'), captureJson: f.captureJson };
}

/** What capture.json holds. */
export interface CaptureRecord {
  source: string;
  capturedAt: string;
  curve: string;
  sha256Fingerprint: string;
  recommendedSubjectCn: string | null;
  blocksSeen: number;
  keyChanged: boolean;
}

export async function writeCaptureFiles(files: CaptureFiles, result: CaptureResult): Promise<void> {
  await fs.mkdir(files.dir, { recursive: true });
  await writeFileAtomic(files.publicKeyDer, result.der);
  await writeFileAtomic(files.publicKeyPem, result.pem);
  const record: CaptureRecord = {
    source: result.source,
    capturedAt: new Date().toISOString(),
    curve: result.curve,
    sha256Fingerprint: result.sha256Fingerprint,
    recommendedSubjectCn: result.recommendedSubjectCn ?? null,
    blocksSeen: result.blocksSeen,
    keyChanged: result.keyChanged,
  };
  await writeFileAtomic(files.captureJson, JSON.stringify(record, null, 2) + '\n');
}

async function saveConsoleLog(files: CaptureFiles, feed: ByteFeed): Promise<void> {
  await fs.mkdir(files.dir, { recursive: true });
  await writeFileAtomic(files.consoleLog, feed.bytes());
}

/** Run a capture on an open console and write the files; console.log is written on failure too. */
async function captureAndWrite(handle: ConsoleHandle, files: CaptureFiles | undefined, opts: CaptureOptions): Promise<CaptureResult & { files?: CaptureFiles }> {
  let result: CaptureResult;
  try {
    result = await handle.capture(opts);
  } catch (e) {
    if (files) {
      await saveConsoleLog(files, handle).catch(() => {});
      if (e instanceof KeyprovError) (e as { details?: Record<string, unknown> }).details = { ...e.details, consoleLog: files.consoleLog };
    }
    throw e;
  }
  if (files) {
    await saveConsoleLog(files, handle);
    await writeCaptureFiles(files, result);
  }
  return { ...result, files };
}

export interface CaptureFromPortOptions extends PortMatch, Omit<CaptureOptions, 'fromOffset'> {
  /** A device path, a /dev/serial/by-id link, a pty link, or `auto`. */
  port: string;
  /** Default 115200. */
  baud?: number;
  /** Default `none`. */
  reset?: ResetMethod;
  resetCommand?: string | string[];
  /** Where to write the files; omit to write nothing. */
  files?: CaptureFiles;
}

/** Open the port, reset the board, capture, write the files, close. */
export async function captureFromPort(opts: CaptureFromPortOptions): Promise<CaptureResult & { files?: CaptureFiles }> {
  const handle = await openConsole({ port: opts.port, baud: opts.baud, vendorId: opts.vendorId, productId: opts.productId, serialNumber: opts.serialNumber, log: opts.log });
  try {
    if (opts.reset && opts.reset !== 'none') {
      try {
        await handle.reset(opts.reset, { command: opts.resetCommand, log: opts.log, signal: opts.signal });
      } catch (e) {
        if (opts.files) await saveConsoleLog(opts.files, handle).catch(() => {});
        throw e;
      }
    }
    opts.log?.info(`reading ${handle.source} at ${opts.baud ?? 115200} baud (timeout ${Math.round((opts.timeoutMs ?? DEFAULTS.timeoutMs) / 1000)} s)`);
    return await captureAndWrite(handle, opts.files, opts);
  } finally {
    await handle.close();
  }
}

export interface CaptureFromLogOptions extends Omit<CaptureOptions, 'fromOffset'> {
  /** A log file, or `-` for stdin. */
  file: string;
  /** Stream used for `-` (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
  files?: CaptureFiles;
}

/** Capture from a saved console log (read to its end; the last complete block wins). */
export async function captureFromLog(opts: CaptureFromLogOptions): Promise<CaptureResult & { files?: CaptureFiles }> {
  if (opts.file !== '-') {
    let st;
    try {
      st = await fs.stat(opts.file);
    } catch {
      throw new UsageError('LOG_NOT_FOUND', `console log ${opts.file} does not exist`, { hint: 'pass the path of a saved console log, or `-` to read it from stdin' });
    }
    if (st.isDirectory()) throw new UsageError('LOG_IS_DIRECTORY', `console log ${opts.file} is a directory`, { hint: 'pass the log file itself' });
  }
  const handle = openLogConsole(opts.file, { stdin: opts.stdin as never });
  return captureAndWrite(handle, opts.files, opts);
}
