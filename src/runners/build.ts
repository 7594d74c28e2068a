// `build.command` for one phase (keygen or credential), through the subprocess wrapper.
import path from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { ToolError, UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { runTool } from './exec.js';

export const BUILD_PHASES = ['keygen', 'credential'] as const;
export type BuildPhase = (typeof BUILD_PHASES)[number];
export const DEFAULT_BUILD_TIMEOUT_S = 3600;

/** The `build` config section (paths already resolved by the config loader). */
export interface BuildSettings {
  command?: string | string[];
  cwd?: string;
  image?: string;
  env?: Record<string, string>;
  timeout?: number;
}

export interface BuildOptions {
  build: BuildSettings | undefined;
  phase: BuildPhase;
  /** Exported as KEYPROV_BOARD when given. */
  board?: string;
  /** Default working folder (the project root). */
  cwd: string;
  log?: Logger;
  dryRun?: boolean;
  verbose?: boolean;
  logFile?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export interface BuildResult {
  phase: BuildPhase;
  command: string;
  durationMs: number;
  /** build.image, when configured (checked to exist after a real build). */
  image?: string;
  dryRun: boolean;
}

export async function runBuild(opts: BuildOptions): Promise<BuildResult> {
  const b = opts.build ?? {};
  if (!(BUILD_PHASES as readonly string[]).includes(opts.phase)) {
    throw new UsageError('BUILD_PHASE_INVALID', `unknown build phase "${opts.phase}"`, { hint: `use one of: ${BUILD_PHASES.join(', ')}` });
  }
  if (b.command === undefined) {
    throw new UsageError('BUILD_NOT_CONFIGURED', 'build.command is not set', { hint: 'set build.command in the config, e.g. ["cmake", "--build", "build"]' });
  }
  const shell = typeof b.command === 'string';
  const argv = shell ? [b.command as string] : (b.command as string[]);
  const cwd = b.cwd ?? opts.cwd;
  if (!opts.dryRun && !(existsSync(cwd) && statSync(cwd).isDirectory())) {
    throw new UsageError('BUILD_CWD_MISSING', `build.cwd ${cwd} is not a folder`, { hint: 'fix build.cwd in the config' });
  }
  const env: Record<string, string> = { ...b.env, KEYPROV_PHASE: opts.phase, ...(opts.board ? { KEYPROV_BOARD: opts.board } : {}) };
  const started = performance.now();
  const r = await runTool(argv, {
    label: `build ${opts.phase}`,
    shell,
    cwd,
    env,
    baseEnv: opts.env,
    timeoutMs: (b.timeout ?? DEFAULT_BUILD_TIMEOUT_S) * 1000,
    dryRun: opts.dryRun,
    log: opts.log,
    verbose: opts.verbose,
    logFile: opts.logFile,
    signal: opts.signal,
    tool: { name: shell ? 'build command' : path.basename(argv[0]!), install: 'install the build tool, or fix build.command in the config' },
  });
  if (!opts.dryRun && b.image && !existsSync(b.image)) {
    throw new ToolError('BUILD_NO_IMAGE', `the build finished but build.image ${b.image} does not exist`, { hint: 'fix build.image to name the file the build produces' });
  }
  return { phase: opts.phase, command: r.display, durationMs: Math.round(performance.now() - started), image: b.image, dryRun: r.dryRun };
}
