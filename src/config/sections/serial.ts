import { z } from '../../util/zod.js';
import { commandField, type SchemaContext } from './common.js';

export const RESET_METHODS = ['none', 'dtr', 'rts', 'dtr-rts', 'command'] as const;

/** The board's console UART. */
export const serialSection = (ctx: SchemaContext) =>
  z.strictObject({
    /** A device path, a /dev/serial/by-id link, a pty link (relative: to the config file), or `auto`. */
    port: z
      .string()
      .min(1)
      .transform((p) => (p === 'auto' || p.startsWith('/') ? p : ctx.resolvePath(p)))
      .optional(),
    baud: z.number().int().positive().optional(),
    /** USB identification used by `port: auto` to pick the right adapter; set without a port, it implies `port: auto`. */
    vendorId: z.string().optional(),
    productId: z.string().optional(),
    serialNumber: z.string().optional(),
    reset: z.enum(RESET_METHODS).optional(),
    resetCommand: commandField.optional(),
    /** Seconds to wait for the public key. */
    timeout: z.number().positive().optional(),
  });
