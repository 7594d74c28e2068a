// An open console: a serial port or a saved log, read from the moment it is opened and
// kept in memory, so that a capture or a watch started later (after a flash and a reset)
// still sees every byte, and console.log can hold every raw byte received.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { SerialPort } from 'serialport';
import { KeyprovError } from '../errors.js';
import type { Logger } from '../log.js';
import { openPort, resolveAutoPort, type PortMatch } from './ports.js';
import { resetBoard, type ResetMethod } from './reset.js';
import type { CaptureOptions, CaptureResult } from './capture.js';
import type { WatchOptions, WatchResult } from './console-watcher.js';

/** What the capture and the watcher read: the bytes so far, then live bytes, then the end. */
export interface ByteFeed {
  /** Human name: a port path, a log file, or "stdin". */
  readonly source: string;
  /** A live port (a capture may stop shortly after a complete key) or a log read to its end. */
  readonly live: boolean;
  /** Replays bytes from `fromOffset` synchronously, then calls onData for each new chunk. Returns unsubscribe. */
  subscribe(onData: (chunk: Buffer) => void, onEnd: (err?: Error) => void, fromOffset?: number): () => void;
  /** Bytes received so far. */
  readonly size: number;
  bytes(): Buffer;
}

export class ConsoleHandle implements ByteFeed {
  readonly source: string;
  readonly live: boolean;
  /** The open serial port (undefined for a log). */
  readonly port?: SerialPort;
  private chunks: Buffer[] = [];
  private total = 0;
  private subs = new Set<{ onData: (b: Buffer) => void; onEnd: (err?: Error) => void }>();
  private ended = false;
  private endError?: Error;

  constructor(stream: Readable, opts: { source: string; live: boolean; port?: SerialPort }) {
    this.source = opts.source;
    this.live = opts.live;
    this.port = opts.port;
    stream.on('data', (b: Buffer | string) => this.onData(typeof b === 'string' ? Buffer.from(b, 'latin1') : b));
    stream.once('end', () => this.onEnd());
    stream.once('close', () => this.onEnd());
    stream.once('error', (e: Error) => this.onEnd(e));
  }

  get size(): number {
    return this.total;
  }

  bytes(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  subscribe(onData: (chunk: Buffer) => void, onEnd: (err?: Error) => void, fromOffset = 0): () => void {
    const sub = { onData, onEnd };
    if (fromOffset < this.total) onData(this.bytes().subarray(fromOffset));
    if (this.ended) {
      onEnd(this.endError);
      return () => {};
    }
    this.subs.add(sub);
    return () => this.subs.delete(sub);
  }

  /** Reset the board through this port's control lines or the configured command. */
  async reset(method: ResetMethod, opts: { command?: string | string[]; log?: Logger; signal?: AbortSignal } = {}): Promise<void> {
    if (method !== 'none' && method !== 'command' && !this.port) {
      throw new KeyprovError('RESET_UNAVAILABLE', `cannot reset through ${this.source}: it is not a serial port`, { hint: 'use --reset none or --reset command' });
    }
    await resetBoard(this.port, { method, command: opts.command, log: opts.log, portPath: this.source, signal: opts.signal });
  }

  /** Wait for the device public key (see capture.ts). Sees everything received since the console was opened. */
  async capture(opts: CaptureOptions = {}): Promise<CaptureResult> {
    const { captureKey } = await import('./capture.js');
    return captureKey(this, opts);
  }

  /** Wait for console patterns / an expected public key (see console-watcher.ts). */
  async watch(opts: WatchOptions): Promise<WatchResult> {
    const { watchConsole } = await import('./console-watcher.js');
    return watchConsole(this, opts);
  }

  async close(): Promise<void> {
    const port = this.port;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    this.onEnd();
  }

  private onData(b: Buffer): void {
    if (this.ended || b.length === 0) return;
    this.chunks.push(b);
    this.total += b.length;
    for (const s of [...this.subs]) s.onData(b);
  }

  private onEnd(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.endError = err;
    for (const s of [...this.subs]) s.onEnd(err);
    this.subs.clear();
  }
}

export interface OpenConsoleOptions extends PortMatch {
  /** A device path, a /dev/serial/by-id link, a pty link, or `auto`. */
  port: string;
  /** Default 115200. */
  baud?: number;
  log?: Logger;
}

/** Open the board's console port and start recording at once (before any flash or reset). */
export async function openConsole(opts: OpenConsoleOptions): Promise<ConsoleHandle> {
  const path = opts.port === 'auto' ? await resolveAutoPort(opts) : opts.port;
  if (opts.port === 'auto') opts.log?.info(`--port auto: using ${path}`);
  const baud = opts.baud ?? 115200;
  const port = await openPort({ path, baudRate: baud });
  opts.log?.debug(`opened ${path} at ${baud} baud`);
  return new ConsoleHandle(port, { source: path, live: true, port });
}

/** A saved console log (a file, or `-` for stdin), read to its end. */
export function openLogConsole(file: string, opts: { stdin?: Readable } = {}): ConsoleHandle {
  if (file === '-') return new ConsoleHandle(opts.stdin ?? process.stdin, { source: 'stdin', live: false });
  const stream = createReadStream(file);
  return new ConsoleHandle(stream, { source: file, live: false });
}
