import { z } from '../../util/zod.js';
import { pathField, identifier, type SchemaContext } from './common.js';

export const DEFAULT_KEYGEN_MACROS = ['keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR', 'FORCE_GENERATE_NEW_KEY_PAIR'];

/** The firmware source tree keyprov patches and writes headers into. */
export const firmwareSection = (ctx: SchemaContext) =>
  z.strictObject({
    /** Root of the firmware tree (searched for the keygen macro when `provisioningSource` is not set). */
    root: pathField(ctx).optional(),
    /** File(s) that define the keygen macro, e.g. aws_dev_mode_key_provisioning.c. */
    provisioningSource: z.union([pathField(ctx), z.array(pathField(ctx))]).optional(),
    /** Names of the macro that forces key generation. */
    macros: z.array(identifier).min(1).optional(),
    /** Folder holding aws_clientcredential.h and aws_clientcredential_keys.h. */
    headerDir: pathField(ctx).optional(),
  });
