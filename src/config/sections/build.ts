import { z } from '../../util/zod.js';
import { pathField, commandField, type SchemaContext } from './common.js';

/** How to build the firmware image. The phase is passed as KEYPROV_PHASE=keygen|credential. */
export const buildSection = (ctx: SchemaContext) =>
  z.strictObject({
    command: commandField.optional(),
    cwd: pathField(ctx).optional(),
    /** The image the build produces (what the flasher writes). */
    image: pathField(ctx).optional(),
    env: z.record(z.string(), z.string()).optional(),
    /** Seconds before the build is stopped. */
    timeout: z.number().positive().optional(),
  });
