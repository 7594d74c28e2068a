import { z } from '../../util/zod.js';
import { type SchemaContext } from './common.js';

/** `keyprov provision`: how the two-phase flow decides and verifies. */
export const provisionSection = (_ctx: SchemaContext) =>
  z.strictObject({
    /** auto: reuse a key the board already prints on its current firmware; force: always do the keygen build. */
    keygen: z.enum(['auto', 'force']).optional(),
    /** Seconds the auto probe waits for the board to print a key on its current firmware (default 15). */
    probeTimeout: z.number().positive().optional(),
    /** Patch the keygen switch in place (edit) or build with -D flags on a guarded source (guard). */
    patchMode: z.enum(['edit', 'guard']).optional(),
    /** Patch DELAY_BEFORE_KEY_PAIR_GENERATION_SECS for the keygen build (see `keyprov patch --help`). */
    keygenDelay: z.number().int().nonnegative().optional(),
    /** Register with AWS IoT between rendering and the credential build (default: aws.enabled). */
    aws: z.boolean().optional(),
    verify: z
      .strictObject({
        /** Regex a console line must match once the credential image runs (default: the virtual board's success line). */
        success: z.string().min(1).optional(),
        /** Regex that fails the verification as soon as a line matches. */
        error: z.string().min(1).optional(),
        /** Seconds to wait for the success line (default 60). */
        timeout: z.number().positive().optional(),
      })
      .optional(),
  });
