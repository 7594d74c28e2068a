// Every runner keyprov knows, by the name used in `flash.runner`.
import { UsageError } from '../errors.js';
import { RUNNER_NAMES, type RunnerName } from '../config/sections/flash.js';
import type { RunnerDef } from './base.js';
import { esptool } from './esptool.js';
import { idf } from './idf.js';
import { openocd } from './openocd.js';
import { jlink } from './jlink.js';
import { nrfjprog } from './nrfjprog.js';
import { stm32cubeprogrammer } from './stm32cubeprogrammer.js';
import { pyocd } from './pyocd.js';
import { west } from './west.js';
import { make } from './make.js';
import { custom } from './custom.js';
import { vboard } from './vboard.js';

export const RUNNERS: Record<RunnerName, RunnerDef<any>> = { esptool, idf, openocd, jlink, nrfjprog, stm32cubeprogrammer, pyocd, west, make, custom, vboard };

/** The executable each runner drives by default (custom: whatever its argv names). */
export const RUNNER_EXECUTABLES: Record<RunnerName, string | undefined> = Object.fromEntries(
  RUNNER_NAMES.map((n) => [n, RUNNERS[n].executable]),
) as Record<RunnerName, string | undefined>;

export function getRunner(name: string | undefined): RunnerDef<any> {
  if (!name) {
    throw new UsageError('RUNNER_NOT_SET', 'flash.runner is not set', { hint: `set flash.runner in the config to one of: ${RUNNER_NAMES.join(', ')}` });
  }
  const def = (RUNNERS as Record<string, RunnerDef<any> | undefined>)[name];
  if (!def) throw new UsageError('RUNNER_UNKNOWN', `unknown runner "${name}"`, { hint: `use one of: ${RUNNER_NAMES.join(', ')}` });
  return def;
}
