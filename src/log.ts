// Human output. Everything a person reads goes to stderr so that stdout carries only
// the result (`--json` prints exactly one JSON object there).

export interface LoggerOptions {
  verbose?: boolean;
  quiet?: boolean;
  color?: boolean;
  /** Defaults to process.stderr. Tests pass a collector. */
  stream?: LogStream;
}

export interface LogStream {
  write(s: string): unknown;
  isTTY?: boolean;
  /** Terminal width, to count the rows a long line wraps to. */
  columns?: number;
}

const ANSI = /\x1b\[[0-9;?]*[ -\/]*[@-~]/g;

const codes = { red: 31, yellow: 33, green: 32, dim: 2, bold: 1, cyan: 36 } as const;
export type Color = keyof typeof codes;

export class Logger {
  readonly verbose: boolean;
  readonly quiet: boolean;
  readonly color: boolean;
  private readonly stream: LogStream;
  // The live area at the bottom of a terminal: a pinned block (the step list) and one
  // transient status line (a countdown, a tool's latest output). Lines logged while it is
  // shown are written above it: erase the area, write the line, draw the area again.
  private pinned?: () => string[];
  private statusText?: string;
  /** Terminal rows the area takes on screen; the cursor sits on its last row (the status) or below it. */
  private drawnRows = 0;
  private areaShown = false;
  /** Raw text written while the area is shown, held until its newline. */
  private pending = '';

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
    if (!this.quiet) this.emit(msg + '\n');
  }

  /** Success lines; hidden by --quiet. */
  ok(msg: string): void {
    if (!this.quiet) this.emit(this.paint('green', msg) + '\n');
  }

  /** Always shown, even with --quiet. */
  warn(msg: string): void {
    this.emit(this.paint('yellow', `keyprov: warning: ${msg}`) + '\n');
  }

  /** Always shown. Used by the CLI entry point for the final error. */
  error(msg: string): void {
    this.emit(this.paint('red', `keyprov: error: ${msg}`) + '\n');
  }

  /** Only with --verbose. */
  debug(msg: string): void {
    if (this.verbose) this.emit(this.paint('dim', msg) + '\n');
  }

  /** Raw write (a tool's output with --verbose). While a live area is shown, whole lines go above it. */
  write(s: string): void {
    if (!this.areaShown) {
      this.stream.write(s);
      return;
    }
    this.pending += s;
    const nl = this.pending.lastIndexOf('\n');
    if (nl < 0) return;
    const lines = this.pending.slice(0, nl + 1);
    this.pending = this.pending.slice(nl + 1);
    this.emit(lines);
  }

  /**
   * On a terminal, keep the lines `render` returns at the bottom of the screen until `unpin()`;
   * `repaint()` redraws them in place. Nothing happens on other streams or with --quiet.
   */
  pin(render: () => string[]): void {
    if (!this.isTTY || this.quiet) return;
    this.erase();
    this.pinned = render;
    this.paintArea();
  }

  repaint(): void {
    if (!this.areaShown) return;
    this.erase();
    this.paintArea();
  }

  /** Leave the last drawing of the pinned block on screen and stop redrawing it. */
  unpin(): void {
    if (!this.pinned) return;
    this.statusText = undefined;
    this.repaint();
    this.pinned = undefined;
    this.drawnRows = 0;
    this.areaShown = false;
    if (this.pending) this.stream.write(this.pending);
    this.pending = '';
  }

  /** A transient line under the pinned block (or alone) on a terminal, replaced by the next call; `undefined` erases it. */
  status(text: string | undefined): void {
    if (!this.isTTY) return;
    this.statusText = text;
    if (this.areaShown || text !== undefined) {
      this.erase();
      this.paintArea();
    }
  }

  private emit(s: string): void {
    if (!this.areaShown) {
      this.stream.write(s);
      return;
    }
    this.erase();
    this.stream.write(s);
    this.paintArea();
  }

  private rows(line: string): number {
    const cols = this.stream.columns;
    const width = line.replace(ANSI, '').length;
    return cols && cols > 0 ? Math.max(1, Math.ceil(width / cols)) : 1;
  }

  /** Cursor back to the first row of the area, and clear from there to the end of the screen. */
  private erase(): void {
    if (!this.areaShown) return;
    this.stream.write(`\r${this.drawnRows ? `\x1b[${this.drawnRows}A` : ''}\x1b[0J`);
    this.drawnRows = 0;
    this.areaShown = false;
  }

  private paintArea(): void {
    const lines = this.pinned?.() ?? [];
    let out = '';
    let rows = 0;
    for (const l of lines) {
      out += `${l}\n`;
      rows += this.rows(l);
    }
    const cols = this.stream.columns;
    // The status line stays one row (no newline after it: the next erase starts on it).
    if (this.statusText !== undefined) out += cols && cols > 1 ? this.statusText.slice(0, cols - 1) : this.statusText;
    this.stream.write(out);
    this.drawnRows = rows;
    this.areaShown = !!this.pinned || this.statusText !== undefined;
  }
}

/** A logger that keeps everything, for tests. */
export function memoryLogger(opts: Omit<LoggerOptions, 'stream'> = {}): Logger & { text(): string } {
  const chunks: string[] = [];
  const l = new Logger({ ...opts, color: false, stream: { write: (s: string) => chunks.push(s), isTTY: false } });
  return Object.assign(l, { text: () => chunks.join('') });
}
