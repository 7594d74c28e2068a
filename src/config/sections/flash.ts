import { z } from 'zod';
import { type SchemaContext } from './common.js';

export const RUNNER_NAMES = ['esptool', 'idf', 'openocd', 'jlink', 'nrfjprog', 'stm32cubeprogrammer', 'pyocd', 'west', 'make', 'custom', 'vboard'] as const;

/** Which flashing tool to drive, and its options (runner-specific keys live under `options`). */
export const flashSection = (_ctx: SchemaContext) =>
  z.strictObject({
    runner: z.enum(RUNNER_NAMES).optional(),
    /** Debug probe / programmer serial number, when several are attached. */
    probe: z.string().optional(),
    /** Runner-specific options (offsets, interface configs, device name, ...). */
    options: z.record(z.string(), z.unknown()).optional(),
    timeout: z.number().positive().optional(),
  });
