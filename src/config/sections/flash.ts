import { z } from '../../util/zod.js';
import { type SchemaContext } from './common.js';

export const RUNNER_NAMES = ['esptool', 'idf', 'openocd', 'jlink', 'nrfjprog', 'stm32cubeprogrammer', 'pyocd', 'west', 'make', 'custom', 'vboard'] as const;
export type RunnerName = (typeof RUNNER_NAMES)[number];

/** Which flashing tool to drive, and its options (runner-specific keys live under `options`). */
export const flashSection = (_ctx: SchemaContext) =>
  z.strictObject({
    runner: z.enum(RUNNER_NAMES).optional().meta({ description: 'The flashing tool (see docs/runners.md)' }),
    /** Debug probe / programmer serial number, when several are attached. */
    probe: z.string().min(1).optional().meta({ description: 'Serial number of the debug probe to use; required when several are attached' }),
    /** Runner-specific options (offsets, interface configs, device name, ...). */
    options: z.record(z.string(), z.unknown()).optional().meta({ description: 'Runner-specific options, checked against the runner when it runs (see docs/runners.md)' }),
    /** Seconds before a flash, erase or reset is stopped (default 120). */
    timeout: z.number().positive().optional().meta({ description: 'Seconds before a flash, erase or reset is stopped (default 120)' }),
  });
