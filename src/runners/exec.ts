// The one place keyprov starts external programs (build commands, flashers, reset
// commands). Every run is logged as the exact command, honours dry-run, saves its
// output to a log file, has a timeout, and fails as a ToolError that says what ran,
// how it ended and the last lines the tool printed.
import path from 'node:path';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { execa } from 'execa';
import { ToolError } from '../errors.js';
import type { Logger } from '../log.js';
import { which, searchPath } from '../util/which.js';

/** A vendor exit code with a name and, when known, what to do about it. */
export interface ExitCodeMeaning {
  name: string;
  hint?: string;
}

export interface ToolInfo {
  /** Name shown in messages (defaults to the executable's base name). */
  name?: string;
  /** How the tool is usually installed, e.g. "pip install esptool". */
  install?: string;
  /** Named meanings of the tool's exit codes. */
  exitCodes?: Record<number, ExitCodeMeaning>;
  /** Output patterns with a better hint than the exit code gives (first match wins). */
  outputHints?: { pattern: RegExp; hint: string }[];
}

export interface RunToolOptions {
  /** What this run is for, shown in progress lines: "flash (esptool)". */
  label?: string;
  cwd?: string;
  /** Extra environment on top of process.env (or of `baseEnv`). */
  env?: Record<string, string | undefined>;
  /** The environment to start from (default process.env); PATH is looked up in the result. */
  baseEnv?: NodeJS.ProcessEnv;
  /** Milliseconds before the tool is stopped (SIGTERM, then SIGKILL 2 s later). Default: no limit. */
  timeoutMs?: number;
  /** Print the command and run nothing. */
  dryRun?: boolean;
  log?: Logger;
  /** Echo the tool's output live (default: the logger's --verbose). */
  verbose?: boolean;
  /** Append the command and all its output to this file. */
  logFile?: string;
  /** Run `argv[0]` with /bin/sh -c (for build commands written as one string). */
  shell?: boolean;
  tool?: ToolInfo;
  /** Stops the tool (SIGTERM) when aborted, e.g. on SIGINT in the pipeline. */
  signal?: AbortSignal;
  input?: string;
  /** Lines of output kept for the error and the failure summary (default 20). */
  tailLines?: number;
}

export interface RunToolResult {
  argv: string[];
  /** The command as a shell would need it typed. */
  display: string;
  dryRun: boolean;
  exitCode: number;
  durationMs: number;
  stdout: string;
  stderr: string;
}

const MAX_CAPTURE = 8 * 1024 * 1024;

/** Quote one argument for display so that a POSIX shell would read it back unchanged. */
export function shellQuote(arg: string): string {
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function formatCommand(argv: readonly string[], shell = false): string {
  return shell ? `/bin/sh -c ${shellQuote(argv[0] ?? '')}` : argv.map(shellQuote).join(' ');
}

/**
 * Absolute path of `exe`, or a ToolError naming the tool, the PATH searched and how to install it.
 * `exe` may be a path (relative to cwd) or a bare name looked up on PATH.
 */
export function requireTool(exe: string, opts: { env?: NodeJS.ProcessEnv; cwd?: string; tool?: ToolInfo } = {}): string {
  const env = opts.env ?? process.env;
  const found = which(exe, env, opts.cwd ?? process.cwd());
  if (found) return found;
  const name = opts.tool?.name ?? path.basename(exe);
  const what = exe.includes('/')
    ? `${path.resolve(opts.cwd ?? process.cwd(), exe)} does not exist or is not executable`
    : `${exe} not found on PATH (searched: ${searchPath(env).join(path.delimiter) || '(empty PATH)'})`;
  throw new ToolError('TOOL_MISSING', `${name}: ${what}`, {
    hint: opts.tool?.install ? `install it: ${opts.tool.install}` : `install ${name} or put it on PATH`,
    details: { tool: name, executable: exe, path: searchPath(env) },
  });
}

/** Keeps the last N lines of a stream of chunks. */
class Tail {
  private lines: string[] = [];
  private partial = '';
  constructor(private readonly max: number) {}
  push(chunk: string): void {
    const parts = (this.partial + chunk).split(/\r?\n|\r/);
    this.partial = parts.pop() ?? '';
    for (const l of parts) this.lines.push(l);
    if (this.lines.length > this.max * 2) this.lines = this.lines.slice(-this.max);
  }
  get(): string[] {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    return all.filter((l) => l.trim() !== '').slice(-this.max);
  }
}

/** The line most likely to say what went wrong: the last one that looks like an error, else the last one. */
export function errorLine(lines: readonly string[]): string {
  const l = [...lines].reverse().find((x) => /error|fail|fatal|cannot|can't|unable|not found|no such|denied|timed? ?out/i.test(x)) ?? lines.at(-1) ?? '';
  return l.trim().slice(0, 300);
}

/** On a terminal without --verbose: one line showing the tool's latest output, erased when it ends. */
class LiveLine {
  private last = 0;
  private shown = false;
  constructor(private readonly log: Logger, private readonly label: string) {}
  update(line: string | undefined): void {
    const now = Date.now();
    if (!line || now - this.last < 100) return;
    this.last = now;
    // The logger keeps it under a pinned step list and cuts it to the terminal width.
    this.log.status(`${this.label}: ${line.trim()}`);
    this.shown = true;
  }
  clear(): void {
    if (this.shown) this.log.status(undefined);
  }
}

function openLog(file: string | undefined): WriteStream | undefined {
  if (!file) return undefined;
  mkdirSync(path.dirname(file), { recursive: true });
  return createWriteStream(file, { flags: 'a' });
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/**
 * Run one external program. Resolves on exit code 0; otherwise throws a ToolError
 * (`TOOL_FAILED`, `TOOL_TIMEOUT`, `TOOL_KILLED`, `TOOL_MISSING`, `TOOL_CANCELLED`).
 */
export async function runTool(argv: readonly string[], opts: RunToolOptions = {}): Promise<RunToolResult> {
  if (argv.length === 0) throw new ToolError('TOOL_NO_COMMAND', 'empty command', { hint: 'configure the command to run' });
  const log = opts.log;
  const shell = !!opts.shell;
  const display = formatCommand(argv, shell);
  const label = opts.label ?? path.basename(argv[0]!);
  const baseEnv = opts.baseEnv ?? process.env;
  const env = { ...baseEnv, ...opts.env };
  const cwd = opts.cwd ?? process.cwd();
  const toolName = opts.tool?.name ?? (shell ? 'sh' : path.basename(argv[0]!));

  if (opts.dryRun) {
    log?.info(`[dry-run] ${label}: ${display}${opts.cwd ? `  (in ${opts.cwd})` : ''}`);
    // Say now what the real run would trip over.
    if (!shell && !which(argv[0]!, env, cwd)) log?.warn(`${toolName} (${argv[0]}) is not installed here: the real run would fail`);
    return { argv: [...argv], display, dryRun: true, exitCode: 0, durationMs: 0, stdout: '', stderr: '' };
  }

  const file = shell ? '/bin/sh' : requireTool(argv[0]!, { env, cwd, tool: opts.tool });
  const args = shell ? ['-c', argv[0]!] : argv.slice(1);
  const verbose = opts.verbose ?? log?.verbose ?? false;
  const logStream = openLog(opts.logFile);
  logStream?.write(`\n# ${new Date().toISOString()} ${label}\n$ ${display}\n`);
  log?.info(log.paint('dim', `$ ${display}`));

  const tailN = opts.tailLines ?? 20;
  const errTail = new Tail(tailN);
  const allTail = new Tail(tailN);
  let stdout = '';
  let stderr = '';
  const started = performance.now();
  const child = execa(file, args, {
    cwd,
    env,
    extendEnv: false,
    reject: false,
    buffer: false,
    ...(opts.input === undefined ? { stdin: 'ignore' as const } : { input: opts.input }),
    timeout: opts.timeoutMs,
    forceKillAfterDelay: 2000,
    cancelSignal: opts.signal,
    windowsHide: true,
  } as const);
  const live = !verbose && !!log?.isTTY && !log.quiet ? new LiveLine(log, label) : undefined;
  const onData = (which: 'out' | 'err') => (d: Buffer) => {
    const s = d.toString('utf8');
    if (which === 'out') {
      if (stdout.length < MAX_CAPTURE) stdout += s;
    } else {
      if (stderr.length < MAX_CAPTURE) stderr += s;
      errTail.push(s);
    }
    allTail.push(s);
    logStream?.write(d);
    if (verbose) log?.write(s);
    live?.update(allTail.get().at(-1));
  };
  child.stdout?.on('data', onData('out'));
  child.stderr?.on('data', onData('err'));
  const r = await child;
  live?.clear();
  const durationMs = Math.round(performance.now() - started);
  const exitCode = r.exitCode ?? -1;
  logStream?.write(`# exit ${r.exitCode ?? r.signal ?? '?'}${r.timedOut ? ' (timed out)' : ''} after ${seconds(durationMs)}\n`);
  await new Promise<void>((res) => (logStream ? logStream.end(res) : res()));

  if (!r.failed) {
    log?.debug(`${label}: ok in ${seconds(durationMs)}`);
    return { argv: [...argv], display, dryRun: false, exitCode: 0, durationMs, stdout, stderr };
  }

  // A spawn failure that `which` could not foresee (e.g. a bad interpreter line).
  const spawnCode = (r as { code?: string }).code;
  if (r.exitCode === undefined && !r.signal && !r.timedOut && !r.isCanceled) {
    throw new ToolError('TOOL_MISSING', `${toolName}: cannot start ${argv[0]}: ${r.originalMessage ?? spawnCode ?? 'spawn failed'}`, {
      hint: opts.tool?.install ? `install it: ${opts.tool.install}` : `check that ${argv[0]} is an executable program`,
      details: { command: display, tool: toolName },
    });
  }

  const tail = allTail.get();
  const stderrTail = errTail.get();
  if (!verbose && log && tail.length) {
    log.info(log.paint('dim', `--- last lines of ${toolName} output${opts.logFile ? ` (full log: ${opts.logFile})` : ''} ---`));
    for (const l of tail) log.info(`  ${l}`);
  }
  const meaning = r.exitCode !== undefined ? opts.tool?.exitCodes?.[r.exitCode] : undefined;
  const lastLine = errorLine(tail.length ? tail : stderrTail);
  const outputHint = opts.tool?.outputHints?.find((h) => h.pattern.test(tail.join('\n')))?.hint;
  const details = {
    command: display,
    argv: [...argv],
    cwd,
    exitCode: r.exitCode,
    exitCodeName: meaning?.name,
    signal: r.signal,
    timedOut: r.timedOut,
    durationMs,
    stderrTail: stderrTail.length ? stderrTail : tail,
    logFile: opts.logFile,
  };
  const logHint = opts.logFile ? `; full output in ${opts.logFile}` : verbose ? '' : '; run with --verbose to see all output';

  if (r.timedOut) {
    throw new ToolError('TOOL_TIMEOUT', `${label}: ${toolName} did not finish within ${seconds(opts.timeoutMs ?? 0)} and was stopped`, {
      hint: `raise the timeout (in seconds) in the config, or check why ${toolName} hangs${logHint}`,
      details,
    });
  }
  if (r.isCanceled) {
    throw new ToolError('TOOL_CANCELLED', `${label}: ${toolName} was stopped (cancelled after ${seconds(durationMs)})`, { details });
  }
  if (r.signal) {
    throw new ToolError('TOOL_KILLED', `${label}: ${toolName} was killed by ${r.signal}${lastLine ? `: ${lastLine}` : ''}`, { hint: `see the output above${logHint}`, details });
  }
  const codeText = `exit ${exitCode}${meaning ? ` ${meaning.name}` : ''}`;
  throw new ToolError('TOOL_FAILED', `${label}: ${toolName} failed (${codeText})${lastLine ? `: ${lastLine}` : ''}`, {
    hint: outputHint ?? meaning?.hint ?? `see the output above${logHint}`,
    details,
  });
}
