// Human output. Everything a person reads goes to stderr so that stdout carries only
// the result (`--json` prints exactly one JSON object there).

export interface LoggerOptions {
  verbose?: boolean;
  quiet?: boolean;
  color?: boolean;
  /** Defaults to process.stderr. Tests pass a collector. */
  stream?: { write(s: string): unknown; isTTY?: boolean };
}

const codes = { red: 31, yellow: 33, green: 32, dim: 2, bold: 1, cyan: 36 } as const;
export type Color = keyof typeof codes;

export class Logger {
  readonly verbose: boolean;
  readonly quiet: boolean;
  readonly color: boolean;
  private readonly stream: { write(s: string): unknown; isTTY?: boolean };

  constructor(opts: LoggerOptions = {}) {
    this.stream = opts.stream ?? process.stderr;
    this.verbose = !!opts.verbose;
    this.quiet = !!opts.quiet && !opts.verbose;
    this.color = opts.color ?? (!!this.stream.isTTY && !process.env.NO_COLOR);
  }

  get isTTY(): boolean {
    return !!this.stream.isTTY;
  }

  paint(color: Color, s: string): string {
    return this.color ? `\x1b[${codes[color]}m${s}\x1b[0m` : s;
  }

  /** Progress and results for people; hidden by --quiet. */
  info(msg: string): void {
    if (!this.quiet) this.stream.write(msg + '\n');
  }

  /** Success lines; hidden by --quiet. */
  ok(msg: string): void {
    if (!this.quiet) this.stream.write(this.paint('green', msg) + '\n');
  }

  /** Always shown, even with --quiet. */
  warn(msg: string): void {
    this.stream.write(this.paint('yellow', `keyprov: warning: ${msg}`) + '\n');
  }

  /** Always shown. Used by the CLI entry point for the final error. */
  error(msg: string): void {
    this.stream.write(this.paint('red', `keyprov: error: ${msg}`) + '\n');
  }

  /** Only with --verbose. */
  debug(msg: string): void {
    if (this.verbose) this.stream.write(this.paint('dim', msg) + '\n');
  }

  /** Raw write (for live step lists and countdowns). */
  write(s: string): void {
    this.stream.write(s);
  }
}

/** A logger that keeps everything, for tests. */
export function memoryLogger(opts: Omit<LoggerOptions, 'stream'> = {}): Logger & { text(): string } {
  const chunks: string[] = [];
  const l = new Logger({ ...opts, color: false, stream: { write: (s: string) => chunks.push(s), isTTY: false } });
  return Object.assign(l, { text: () => chunks.join('') });
}
