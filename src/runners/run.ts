// Flash, reset or erase one board through its configured runner: validate the runner's
// options, refuse what it does not declare, refuse to guess between several probes,
// then start each command through the one subprocess wrapper.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from '../util/zod.js';
import { ToolError, UsageError, VerificationError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RunnerName } from '../config/sections/flash.js';
import { commonOptionShape, resolveExecutable, type Invocation, type RunnerCommand, type RunnerDef, type RunnerInput } from './base.js';
import { getRunner } from './registry.js';
import { runTool, type RunToolResult } from './exec.js';

/** The parts of a resolved board a runner needs (see src/config/boards.ts resolveBoard). */
export interface BoardTarget {
  id: string;
  flash: { runner?: string; probe?: string; options?: Record<string, unknown>; timeout?: number };
  serial?: { port?: string };
  /** The board's own boards[] entry (ResolvedBoard.entry), used to scope options to its runner. */
  entry?: { flash?: { runner?: string; options?: Record<string, unknown> } };
}

/**
 * A board that names its own runner takes only its own flash.options (the top-level ones
 * were written for another tool); otherwise its options are merged over the top-level ones.
 */
export function boardFlashOptions(board: BoardTarget): Record<string, unknown> | undefined {
  const own = board.entry?.flash;
  return own?.runner ? (own.options ?? {}) : board.flash.options;
}

export interface RunnerPlanOptions {
  board: BoardTarget;
  /** The config file's folder: relative paths in flash.options resolve against it. */
  configDir: string;
  /** The image to flash (absolute, or relative to configDir). */
  image?: string;
  /** Where generated command files go; run.ts makes a temporary one when not given. */
  scratchDir?: string;
}

export interface RunnerPlan {
  runner: RunnerDef<any>;
  command: RunnerCommand;
  input: RunnerInput<any>;
  invocations: Invocation[];
}

export const DEFAULT_FLASH_TIMEOUT_S = 120;
const PROBE_LIST_TIMEOUT_MS = 30_000;

function formatOptionIssues(runner: string, err: z.ZodError): string[] {
  return err.issues.flatMap((i) => {
    const at = ['flash', 'options', ...i.path.map(String)].join('.');
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => `${at}.${k}: not an option of the ${runner} runner`);
    return [`${at}: ${i.message}`];
  });
}

/** Parse the board's flash.options against the runner's schema plus the common keys. */
export function parseRunnerOptions(def: RunnerDef<any>, options: Record<string, unknown> | undefined): Record<string, any> {
  const schema = def.options.extend(commonOptionShape);
  const r = schema.safeParse(options ?? {});
  if (!r.success) {
    const lines = formatOptionIssues(def.name, r.error);
    throw new UsageError('RUNNER_OPTIONS_INVALID', lines.length === 1 ? lines[0]! : `invalid flash.options for the ${def.name} runner:\n  ${lines.join('\n  ')}`, {
      hint: `see the ${def.name} section of docs/runners.md for its options`,
      details: { runner: def.name, issues: lines },
    });
  }
  return r.data as Record<string, any>;
}

function executableOf(def: RunnerDef<any>, o: Record<string, any>, configDir: string): string {
  const exe = o.executable ? resolveExecutable(configDir, o.executable) : (def.executableFrom?.(o, configDir) ?? def.executable);
  if (!exe) throw new UsageError('RUNNER_NO_EXECUTABLE', `the ${def.name} runner has no executable configured`, { hint: 'set flash.options.executable' });
  return exe;
}

/**
 * The board's flash tool and its version line (for report.json), or no version when the tool
 * has no version switch, is missing, or does not answer within 5 s. Never throws for a missing tool.
 */
export async function runnerToolVersion(opts: { board: BoardTarget; configDir: string; env?: NodeJS.ProcessEnv }): Promise<{ runner: RunnerName; executable: string; version?: string }> {
  const def = getRunner(opts.board.flash.runner);
  const exe = executableOf(def, parseRunnerOptions(def, boardFlashOptions(opts.board)), opts.configDir);
  const args = def.versionArgs === undefined ? ['--version'] : def.versionArgs;
  if (!args) return { runner: def.name, executable: exe };
  try {
    const r = await runTool([exe, ...args], { cwd: opts.configDir, baseEnv: opts.env, timeoutMs: 5000, tool: def.tool });
    const line = `${r.stdout}\n${r.stderr}`.split(/\r?\n/).find((l) => l.trim());
    return { runner: def.name, executable: exe, version: line?.trim().slice(0, 120) };
  } catch {
    return { runner: def.name, executable: exe };
  }
}

function refuse(def: RunnerDef<any>, what: string, hint: string): never {
  throw new UsageError('RUNNER_UNSUPPORTED', `the ${def.name} runner cannot ${what}`, { hint });
}

/**
 * Validate and build the argv for one command without running anything (used by dry-run,
 * by tests, and by runRunner). Throws UsageError for anything the runner does not declare.
 */
export function planRunner(command: RunnerCommand, opts: RunnerPlanOptions): RunnerPlan {
  const def = getRunner(opts.board.flash.runner);
  const caps = def.caps;
  if (!caps.commands.includes(command)) refuse(def, command, `it can: ${caps.commands.join(', ')}`);
  const o = parseRunnerOptions(def, boardFlashOptions(opts.board));
  if (o.erase === true && !caps.erase) refuse(def, 'erase while flashing', 'remove flash.options.erase');
  if (o.verify === true && !caps.verify) refuse(def, 'turn verification on or off', 'remove flash.options.verify');
  if (o.reset === true && !caps.reset) refuse(def, 'reset after flashing', 'remove flash.options.reset');
  if (o.port !== undefined && !caps.port) refuse(def, 'use a serial port', 'remove flash.options.port');
  const probe = opts.board.flash.probe;
  if (probe !== undefined && !caps.probe) refuse(def, 'select a probe', 'remove flash.probe (this tool is addressed by its serial port)');

  let port: string | undefined;
  if (caps.port) {
    port = o.port ?? opts.board.serial?.port;
    if (port === 'auto') {
      throw new UsageError('RUNNER_PORT_AUTO', `the ${def.name} runner needs a concrete serial port, and serial.port is "auto"`, { hint: 'set flash.options.port (or serial.port) to the device path' });
    }
  }
  const image = opts.image ? path.resolve(opts.configDir, opts.image) : undefined;
  if (command === 'flash' && def.needsImage && !image) {
    throw new UsageError('IMAGE_NOT_SET', 'no image to flash', { hint: 'pass --image FILE or set build.image in the config' });
  }
  const exe = executableOf(def, o, opts.configDir);
  const input: RunnerInput<any> = {
    command,
    exe,
    board: opts.board.id,
    image,
    port,
    probe,
    erase: o.erase ?? false,
    verify: o.verify ?? caps.verify,
    reset: o.reset ?? caps.reset,
    options: o,
    configDir: opts.configDir,
    scratchDir: opts.scratchDir ?? path.join(tmpdir(), 'keyprov-scratch'),
  };
  return { runner: def, command, input, invocations: def.build(input) };
}

export interface RunnerRunOptions extends RunnerPlanOptions {
  log?: Logger;
  dryRun?: boolean;
  verbose?: boolean;
  /** Appended with every command and its output (the board's flash log). */
  logFile?: string;
  /** Environment the tools run in (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Per command; default flash.timeout seconds, else 120 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface RunnerRunResult {
  runner: RunnerName;
  command: RunnerCommand;
  board: string;
  /** The commands as typed, in order. */
  commands: string[];
  durationMs: number;
  /** True when the runner reset (started) the board after flashing. */
  resetDone: boolean;
  /** The probe used when the runner found exactly one attached. */
  probe?: string;
  dryRun: boolean;
}

function writeScratch(files: Invocation['files'], log: Logger | undefined, dryRun: boolean): void {
  for (const f of files ?? []) {
    if (dryRun) {
      log?.info(`[dry-run] command file ${f.path}:`);
      for (const l of f.content.trimEnd().split('\n')) log?.info(`  ${l}`);
      continue;
    }
    mkdirSync(path.dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.content);
  }
}

/** With no flash.probe: list the attached probes through the tool, and refuse to guess between several. */
async function checkProbes(plan: RunnerPlan, opts: RunnerRunOptions): Promise<string | undefined> {
  const def = plan.runner;
  if (plan.input.probe || !def.listProbes) return plan.input.probe;
  if (opts.dryRun) {
    opts.log?.info(`[dry-run] would list attached probes with ${def.listProbes.build({ exe: plan.input.exe, scratchDir: plan.input.scratchDir }).argv.join(' ')}`);
    return undefined;
  }
  const inv = def.listProbes.build({ exe: plan.input.exe, scratchDir: plan.input.scratchDir });
  writeScratch(inv.files, opts.log, false);
  const r = await runTool(inv.argv, { label: `list probes (${def.name})`, tool: def.tool, cwd: opts.configDir, baseEnv: opts.env, log: opts.log, verbose: opts.verbose, logFile: opts.logFile, timeoutMs: PROBE_LIST_TIMEOUT_MS, signal: opts.signal });
  const ids = def.listProbes.parse(r.stdout);
  if (ids.length > 1) {
    throw new UsageError('PROBE_AMBIGUOUS', `${ids.length} probes are attached (${ids.join(', ')}) and flash.probe is not set; keyprov will not guess which board to flash`, {
      hint: `set flash.probe (or boards[].flash.probe for board "${plan.input.board}") to one of: ${ids.join(', ')}`,
      details: { probes: ids },
    });
  }
  if (ids.length === 0) {
    throw new ToolError('PROBE_NONE', `${def.tool.name ?? def.name} found no attached probe`, { hint: 'plug the probe in (and check its USB permissions)', details: { command: r.display } });
  }
  opts.log?.debug(`one probe attached: ${ids[0]}`);
  return ids[0];
}

/** Run `command` on the board through its runner. */
export async function runRunner(command: RunnerCommand, opts: RunnerRunOptions): Promise<RunnerRunResult> {
  const ownScratch = !opts.scratchDir && !opts.dryRun;
  const scratchDir = opts.scratchDir ?? (ownScratch ? mkdtempSync(path.join(tmpdir(), 'keyprov-runner-')) : path.join(tmpdir(), 'keyprov-runner-XXXXXX'));
  try {
    const plan = planRunner(command, { ...opts, scratchDir });
    const { runner: def, input } = plan;
    if (def.needsImage && input.image && !existsSync(input.image)) {
      if (!opts.dryRun) throw new UsageError('IMAGE_MISSING', `the image ${input.image} does not exist`, { hint: 'run `keyprov build` first, or fix --image / build.image' });
      opts.log?.warn(`the image ${input.image} does not exist yet`);
    }
    const found = await checkProbes(plan, opts);
    const timeoutMs = opts.timeoutMs ?? (opts.board.flash.timeout ?? DEFAULT_FLASH_TIMEOUT_S) * 1000;
    const started = performance.now();
    const results: RunToolResult[] = [];
    for (const inv of plan.invocations) {
      writeScratch(inv.files, opts.log, !!opts.dryRun);
      const label = `${inv.step ?? command} (${def.name})`;
      const r = await runTool(inv.argv, { label, tool: def.tool, cwd: opts.configDir, baseEnv: opts.env, env: inv.env, log: opts.log, verbose: opts.verbose, logFile: opts.logFile, timeoutMs, dryRun: opts.dryRun, signal: opts.signal });
      if (!r.dryRun && inv.mustPrint && !inv.mustPrint.test(r.stdout + r.stderr)) {
        throw new VerificationError('FLASH_NOT_VERIFIED', `${label}: ${def.tool.name ?? def.name} exited 0 but did not print ${inv.mustPrint.source}`, {
          hint: `the image may not have been written; see ${opts.logFile ?? 'the output with --verbose'}`,
          details: { command: r.display },
        });
      }
      results.push(r);
    }
    return {
      runner: def.name,
      command,
      board: input.board,
      commands: results.map((r) => r.display),
      durationMs: Math.round(performance.now() - started),
      resetDone: command === 'reset' || (command === 'flash' && def.caps.reset && input.reset),
      probe: input.probe ?? found,
      dryRun: !!opts.dryRun,
    };
  } finally {
    if (ownScratch) rmSync(scratchDir, { recursive: true, force: true });
  }
}

export const flashBoard = (opts: RunnerRunOptions) => runRunner('flash', opts);
export const resetBoard = (opts: RunnerRunOptions) => runRunner('reset', opts);
export const eraseBoard = (opts: RunnerRunOptions) => runRunner('erase', opts);
