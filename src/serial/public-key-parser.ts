// Finds the device public key in a FreeRTOS console stream. A Transform with no I/O of
// its own: bytes in, events out (object mode). Formats are described in DESIGN.md:
//
//   7 910 [IP-task] Device public key, 91 bytes:\r\n
//   3059 3013 0607 2a86 48ce 3d02 0106 082a \r\n      <- rows without log prefix
//   ...
//   dcb2 4e8d 75b3 2586 e2cc 0c\r\n
//
// CR, LF and CRLF all end a line (blank lines are ignored, so a CRLF split across two
// chunks is harmless); NUL bytes, ANSI colour codes and control characters are dropped;
// lines from other tasks may land between rows; the header's byte count decides when a
// block is complete. Every decision depends only on the byte sequence, never on how it
// was chunked.
import { Transform, type TransformCallback } from 'node:stream';

export type ConsoleEvent =
  /** A complete block: exactly `byteCount` bytes (not yet validated as a key). */
  | { type: 'key'; der: Buffer; byteCount: number; index: number }
  /** Two complete blocks in one stream differ (emitted just before the second 'key'). */
  | { type: 'key-changed'; previous: Buffer; current: Buffer }
  /** A block that never completed: a new header came first, a row overflowed the count, or the stream ended. */
  | { type: 'truncated'; expected: number; received: number; reason: 'new-header' | 'overflow' | 'end' }
  /** `Recommended certificate subject name: CN=<id>` (boards with a secure element). */
  | { type: 'recommended-cn'; cn: string }
  /** `Waiting for N seconds before generating key-pair`. */
  | { type: 'wait'; seconds: number }
  /** Every non-blank cleaned line, only with `emitLines`. */
  | { type: 'line'; text: string };

export interface PublicKeyParserOptions {
  /** Longest line examined, in characters; a longer line keeps its last `maxLineLength` characters. Default 4096. */
  maxLineLength?: number;
  /** Largest byte count believed in a header; larger counts are treated as noise. Default 1024. */
  maxKeyBytes?: number;
  /** Also emit each cleaned, non-blank line as a `line` event (for the console watcher). Default false. */
  emitLines?: boolean;
}

export interface ParserStats {
  bytes: number;
  /** Bytes that are neither printable ASCII nor whitespace/ESC: many of them suggests a baud mismatch. */
  unreadableBytes: number;
  headers: number;
  completeBlocks: number;
  truncatedBlocks: number;
}

const HEADER = /Device public key, (\d+) bytes:?(.*)$/;
const HEX_ROW = /^(?:[0-9a-fA-F]{2}){1,2}(?:[ \t]+(?:[0-9a-fA-F]{2}){1,2})*$/;
const RECOMMENDED_CN = /Recommended certificate subject name:\s*CN\s*=\s*(.*?)\s*$/;
const WAITING = /Waiting for (\d+) seconds? before generating/;
const ANSI = /\x1b(?:\[[0-9;?]*[ -\/]*[@-~]|[@-Z\\-_])/g;
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;
const HAS_CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;

function positiveInt(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new TypeError(`PublicKeyParser: option "${name}" must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

export class PublicKeyParser extends Transform {
  readonly maxLineLength: number;
  readonly maxKeyBytes: number;
  readonly emitLines: boolean;
  readonly stats: ParserStats = { bytes: 0, unreadableBytes: 0, headers: 0, completeBlocks: 0, truncatedBlocks: 0 };
  private pending = '';
  private block: { expected: number; parts: Buffer[]; received: number } | undefined;
  private lastKey: Buffer | undefined;
  private out: ConsoleEvent[] = [];

  constructor(opts: PublicKeyParserOptions = {}) {
    super({ readableObjectMode: true });
    if (opts === null || typeof opts !== 'object') throw new TypeError('PublicKeyParser: options must be an object');
    this.maxLineLength = positiveInt('maxLineLength', opts.maxLineLength ?? 4096, 80);
    this.maxKeyBytes = positiveInt('maxKeyBytes', opts.maxKeyBytes ?? 1024, 1);
    if (opts.emitLines !== undefined && typeof opts.emitLines !== 'boolean') {
      throw new TypeError(`PublicKeyParser: option "emitLines" must be a boolean, got ${JSON.stringify(opts.emitLines)}`);
    }
    this.emitLines = opts.emitLines ?? false;
  }

  /** The block being collected, if any (for "truncated" diagnostics when a capture times out). */
  get partialBlock(): { expected: number; received: number } | undefined {
    return this.block && { expected: this.block.expected, received: this.block.received };
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, done: TransformCallback): void {
    for (const e of this.parseChunk(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk)) this.push(e);
    done();
  }

  override _flush(done: TransformCallback): void {
    for (const e of this.finish()) this.push(e);
    done();
  }

  /** The synchronous core: feed bytes, get the events they complete. */
  parseChunk(buf: Uint8Array): ConsoleEvent[] {
    const out: ConsoleEvent[] = (this.out = []);
    if (!Buffer.isBuffer(buf)) buf = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.count(buf);
    // latin1 maps every byte to one character, so nothing is lost and hex/keywords stay ASCII.
    let s = (buf as Buffer).toString('latin1');
    if (s.indexOf('\0') !== -1) s = s.replace(/\0/g, '');
    const lines = (this.pending + s).split(/[\r\n]/);
    let rest = lines.pop()!;
    // Keep only the tail of an endless line: its last maxLineLength characters are what a
    // finished line would keep anyway, so the result does not depend on chunking.
    if (rest.length > 2 * this.maxLineLength) rest = rest.slice(-this.maxLineLength);
    this.pending = rest;
    for (const line of lines) if (line.length !== 0) this.line(line);
    return out;
  }

  /** End of input: the last unterminated line, then an unfinished block is reported as truncated. */
  finish(): ConsoleEvent[] {
    const out: ConsoleEvent[] = (this.out = []);
    if (this.pending.length) this.line(this.pending);
    this.pending = '';
    if (this.block) this.dropBlock('end');
    return out;
  }

  private emit1(e: ConsoleEvent): void {
    this.out.push(e);
  }

  private count(buf: Uint8Array): void {
    let bad = 0;
    for (let i = 0; i < buf.length; i++) {
      const b = buf[i]!;
      if ((b < 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09 && b !== 0x1b) || b > 0x7e) bad++;
    }
    this.stats.bytes += buf.length;
    this.stats.unreadableBytes += bad;
  }

  private line(raw: string): void {
    let s = raw.length > this.maxLineLength ? raw.slice(-this.maxLineLength) : raw;
    // Outside a block only three kinds of line matter; skip the cleaning for the rest.
    if (!this.block && !this.emitLines && s.indexOf('Device public key') === -1 && s.indexOf('subject name') === -1 && s.indexOf('Waiting for') === -1) return;
    if (HAS_CONTROL.test(s)) s = s.replace(ANSI, '').replace(CONTROL, '');
    const t = s.trim();
    if (t.length === 0) return;
    if (this.emitLines) this.emit1({ type: 'line', text: t } satisfies ConsoleEvent);

    if (this.block && HEX_ROW.test(t)) {
      this.row(t);
      return;
    }
    const h = HEADER.exec(t);
    if (h) {
      const n = Number(h[1]);
      if (n < 1 || n > this.maxKeyBytes) return;
      if (this.block) this.dropBlock('new-header');
      this.stats.headers++;
      this.block = { expected: n, parts: [], received: 0 };
      const tail = h[2]!.trim(); // a flattened copy may carry the rows on the header line
      if (tail && HEX_ROW.test(tail)) this.row(tail);
      return;
    }
    const cn = RECOMMENDED_CN.exec(t);
    if (cn && cn[1]) {
      this.emit1({ type: 'recommended-cn', cn: Buffer.from(cn[1], 'latin1').toString('utf8') } satisfies ConsoleEvent);
      return;
    }
    const w = WAITING.exec(t);
    if (w) this.emit1({ type: 'wait', seconds: Number(w[1]) } satisfies ConsoleEvent);
    // Anything else inside a block is another task's line: keep collecting.
  }

  private row(hexRow: string): void {
    const block = this.block!;
    const bytes = Buffer.from(hexRow.replace(/[ \t]+/g, ''), 'hex');
    if (block.received + bytes.length > block.expected) {
      this.dropBlock('overflow');
      return;
    }
    block.parts.push(bytes);
    block.received += bytes.length;
    if (block.received === block.expected) {
      const der = Buffer.concat(block.parts);
      this.block = undefined;
      this.stats.completeBlocks++;
      if (this.lastKey && !this.lastKey.equals(der)) this.emit1({ type: 'key-changed', previous: this.lastKey, current: der } satisfies ConsoleEvent);
      this.lastKey = der;
      this.emit1({ type: 'key', der, byteCount: der.length, index: this.stats.completeBlocks - 1 } satisfies ConsoleEvent);
    }
  }

  private dropBlock(reason: 'new-header' | 'overflow' | 'end'): void {
    const b = this.block!;
    this.block = undefined;
    this.stats.truncatedBlocks++;
    this.emit1({ type: 'truncated', expected: b.expected, received: b.received, reason } satisfies ConsoleEvent);
  }
}

/** Parse a whole buffer at once (tests, small logs). */
export function parseConsoleLog(data: Uint8Array | string, opts: PublicKeyParserOptions = {}): { events: ConsoleEvent[]; stats: ParserStats } {
  const p = new PublicKeyParser(opts);
  const events = [...p.parseChunk(typeof data === 'string' ? Buffer.from(data, 'latin1') : data), ...p.finish()];
  return { events, stats: p.stats };
}
