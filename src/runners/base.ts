// What a flash runner is: a name, the executable it drives, its capabilities as data,
// a zod schema for its `flash.options` keys, and a function from typed options to argv.
// Runners never start processes themselves; src/runners/run.ts does, through exec.ts.
import path from 'node:path';
import { z } from '../util/zod.js';
import { UsageError } from '../errors.js';
import type { RunnerName } from '../config/sections/flash.js';
import type { ToolInfo } from './exec.js';

export type RunnerCommand = 'flash' | 'reset' | 'erase';

/** What a runner can do. The base refuses anything a runner does not declare. */
export interface RunnerCaps {
  /** Commands the runner implements. */
  commands: readonly RunnerCommand[];
  /** `flash.options.erase: true` erases the chip as part of flashing. */
  erase: boolean;
  /** `flash.options.verify` turns read-back verification on or off. */
  verify: boolean;
  /** `flash.options.reset` resets (starts) the board right after flashing. */
  reset: boolean;
  /** `flash.probe` selects one debug probe by serial number. */
  probe: boolean;
  /** The tool talks to the board over a serial port (`flash.options.port`, else `serial.port`). */
  port: boolean;
}

/** A file the tool reads (e.g. a J-Link command file), written to a scratch folder before the run. */
export interface ScratchFile {
  path: string;
  content: string;
}

/** One process to start. */
export interface Invocation {
  argv: string[];
  files?: ScratchFile[];
  env?: Record<string, string>;
  /** Output that must appear for the run to count as verified (e.g. the virtual board's "Verify OK"). */
  mustPrint?: RegExp;
  /** Short name for progress lines, e.g. "reset". */
  step?: string;
}

/** Everything a runner's argv builder gets, already validated and resolved. */
export interface RunnerInput<O> {
  command: RunnerCommand;
  /** The executable to start (the runner's default, or `flash.options.executable`). */
  exe: string;
  board: string;
  image?: string;
  port?: string;
  probe?: string;
  erase: boolean;
  verify: boolean;
  reset: boolean;
  options: O;
  /** Folder of the config file: relative paths in `flash.options` resolve against it. */
  configDir: string;
  /** Folder for generated files such as command files. */
  scratchDir: string;
}

export interface ProbeLister {
  build(input: { exe: string; scratchDir: string }): Invocation;
  /** Probe serial numbers found in the listing's stdout. */
  parse(stdout: string): string[];
}

export interface RunnerDef<S extends z.ZodObject = z.ZodObject> {
  name: RunnerName;
  describe: string;
  /** The executable it runs by default (looked up on PATH); undefined when it comes from the options. */
  executable?: string;
  tool: ToolInfo;
  caps: RunnerCaps;
  /** Whether `flash` needs an image file (west, idf and make flash their own build output). */
  needsImage: boolean;
  /** Runner-specific `flash.options` keys (the common keys are added by the base). */
  options: S;
  build(input: RunnerInput<z.output<S>>): Invocation[];
  /** How the tool lists attached probes, for runners that can. */
  listProbes?: ProbeLister;
  /** Arguments that make the tool print its version (default ["--version"]; null: it has none). */
  versionArgs?: string[] | null;
  /** The executable when it is chosen by options (custom, vboard). */
  executableFrom?(options: z.output<S>, configDir: string): string | undefined;
}

export function defineRunner<S extends z.ZodObject>(def: RunnerDef<S>): RunnerDef<S> {
  return def;
}

/** `flash.options` keys every runner accepts. */
export const commonOptionShape = {
  /** Path or name of the tool to run instead of the runner's default. */
  executable: z.string().min(1).optional(),
  /** Erase the whole chip before writing (runners whose caps.erase is true). */
  erase: z.boolean().optional(),
  /** Verify after writing (default: on, where the runner can). */
  verify: z.boolean().optional(),
  /** Reset the board after writing (default: on, where the runner can). */
  reset: z.boolean().optional(),
  /** Serial port for the flasher when it differs from `serial.port`. */
  port: z.string().min(1).optional(),
};

/** A flash address: `0x08000000` or a number; normalised to lower-case hex. */
export const address = z
  .union([z.string().regex(/^(0x[0-9a-fA-F]+|[0-9]+)$/, 'expected an address such as 0x08000000'), z.number().int().nonnegative()])
  .transform((v) => '0x' + (typeof v === 'number' ? v : Number(BigInt(v))).toString(16));

export function resolveFrom(configDir: string, p: string): string {
  return path.resolve(configDir, p);
}

/** A bare command name stays a name (looked up on PATH); anything with a slash is a path relative to the config. */
export function resolveExecutable(configDir: string, exe: string): string {
  return exe.includes('/') ? path.resolve(configDir, exe) : exe;
}

export function isBinFile(image: string | undefined): boolean {
  return !!image && /\.bin$/i.test(image);
}

export function need<T>(value: T | undefined, what: string, hint: string): T {
  if (value === undefined || value === '') throw new UsageError('RUNNER_OPTION_MISSING', `${what} is not set`, { hint });
  return value;
}
