// Waits for the console to show what a step expects: a success line, and/or the public
// key the certificate was issued for (newer firmware prints it on every boot). Fails fast
// on an error line or a different key; on timeout the error carries the console's tail.
import { DeviceTimeoutError, KeyprovError, UsageError, VerificationError, ExitCode } from '../errors.js';
import type { Logger } from '../log.js';
import { PublicKeyParser, type ConsoleEvent } from './public-key-parser.js';
import { spkiFingerprint, spkiPemToDer } from './spki.js';
import { consoleTail } from './capture.js';
import type { ByteFeed } from './console.js';

export interface WatchOptions {
  /** Resolve once a console line (ANSI codes and control characters removed) matches this anywhere. */
  success?: RegExp;
  /** Reject as soon as a line matches this. */
  error?: RegExp;
  /** Also (or only) require that the board prints this public key: DER bytes or a PEM "PUBLIC KEY". A different complete key rejects. */
  expectPublicKey?: Uint8Array | string;
  /** With `expectPublicKey`: false means the key need not be printed (firmware that prints it only when generating), but a different one still rejects. Default true. */
  requirePublicKey?: boolean;
  /** Default 60 000 ms. */
  timeoutMs?: number;
  /** Start reading at this byte of the console (default 0: everything since it was opened). */
  fromOffset?: number;
  log?: Logger;
  signal?: AbortSignal;
}

export interface WatchResult {
  /** The line that matched `success`, if one was required. */
  successLine?: string;
  publicKeySeen: boolean;
  elapsedMs: number;
}

const once = (re: RegExp) => new RegExp(re.source, re.flags.replace(/[gy]/g, ''));

export function watchConsole(feed: ByteFeed, opts: WatchOptions): Promise<WatchResult> {
  if (!opts.success && (!opts.expectPublicKey || opts.requirePublicKey === false)) {
    throw new UsageError('WATCH_NOTHING', 'watchConsole needs `success` or `expectPublicKey`', { hint: 'say what the console must show' });
  }
  const success = opts.success && once(opts.success);
  const error = opts.error && once(opts.error);
  const expected = opts.expectPublicKey === undefined ? undefined : typeof opts.expectPublicKey === 'string' ? spkiPemToDer(opts.expectPublicKey) : Buffer.from(opts.expectPublicKey);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const parser = new PublicKeyParser({ emitLines: true });
  const started = Date.now();
  let successLine: string | undefined;
  let keySeen = false;

  const waitingFor = () =>
    [success && !successLine ? `a line matching ${success}` : '', expected && !keySeen && opts.requirePublicKey !== false ? `the public key ${spkiFingerprint(expected).slice(0, 16)}...` : ''].filter(Boolean).join(' and ');

  return new Promise<WatchResult>((resolve, reject) => {
    let done = false;
    let unsubscribe = () => {};
    const end = (f: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe();
      opts.signal?.removeEventListener('abort', onAbort);
      f();
    };
    const tail = () => consoleTail(feed.bytes(), 8);
    const withTail = (msg: string, t: string[]) => (t.length ? `${msg}\nlast console lines:\n${t.map((l) => `  | ${l}`).join('\n')}` : msg);
    const check = () => {
      if ((!success || successLine) && (!expected || keySeen || opts.requirePublicKey === false)) end(() => resolve({ successLine, publicKeySeen: keySeen, elapsedMs: Date.now() - started }));
    };
    const handle = (e: ConsoleEvent) => {
      if (done) return;
      if (e.type === 'line') {
        if (error?.test(e.text)) {
          const t = tail();
          end(() => reject(new VerificationError('CONSOLE_ERROR_LINE', withTail(`the board printed an error: ${e.text}`, t), { hint: 'read the console log; the flash or the credentials may be wrong', details: { line: e.text, consoleTail: t } })));
        } else if (success && !successLine && success.test(e.text)) {
          successLine = e.text;
          opts.log?.debug(`console: matched ${success}: ${e.text}`);
        }
      } else if (e.type === 'key' && expected) {
        if (e.der.equals(expected)) keySeen = true;
        else {
          end(() =>
            reject(
              new VerificationError('KEY_MISMATCH', `the board prints a different public key (sha256 ${spkiFingerprint(e.der)}) than the certificate was issued for (sha256 ${spkiFingerprint(expected)})`, {
                hint: 'the board generated a new key pair (was keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR left at 1?); capture the key again and issue a new certificate',
                details: { printed: e.der.toString('hex'), expected: expected.toString('hex') },
              }),
            ),
          );
        }
      }
    };
    const timer = setTimeout(() => {
      const t = tail();
      end(() => reject(new DeviceTimeoutError('CONSOLE_TIMEOUT', withTail(`waited ${Math.round(timeoutMs / 1000)} s on ${feed.source} for ${waitingFor()}`, t), { hint: 'check that the right build was flashed and the board was reset; see the console log', details: { source: feed.source, consoleTail: t } })));
    }, timeoutMs);
    const onAbort = () => end(() => reject(new KeyprovError('INTERRUPTED', 'console watch interrupted', { exitCode: ExitCode.INTERRUPTED })));
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort);
    const unsub = feed.subscribe(
      (chunk) => {
        for (const e of parser.parseChunk(chunk)) handle(e);
        check();
      },
      () => {
        for (const e of parser.finish()) handle(e);
        check();
        const t = tail();
        end(() => reject(new DeviceTimeoutError('CONSOLE_ENDED', withTail(`${feed.source} ended before ${waitingFor()}`, t), { hint: 'was the board unplugged or the log incomplete?', details: { source: feed.source, consoleTail: t } })));
      },
      opts.fromOffset ?? 0,
    );
    if (done) unsub();
    else unsubscribe = unsub;
  });
}
