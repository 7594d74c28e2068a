import { z } from '../../util/zod.js';
import { pathField, type SchemaContext } from './common.js';

/** How the credential headers are written. */
export const renderSection = (ctx: SchemaContext) =>
  z.strictObject({
    /** `in-place` writes into firmware.headerDir (backing up the originals); `out-dir` writes to outDir. */
    mode: z.enum(['in-place', 'out-dir']).optional(),
    outDir: pathField(ctx).optional(),
    /** Folder of user templates; files override the defaults by name and may add more. */
    templates: pathField(ctx).optional(),
    /** Put the CA into keyJITR_DEVICE_CERTIFICATE_AUTHORITY_PEM (JITR/JITP). */
    jitr: z.boolean().optional(),
  });
