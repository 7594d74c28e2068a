import { z } from '../../util/zod.js';
import { type SchemaContext } from './common.js';
import { serialSection } from './serial.js';
import { flashSection } from './flash.js';

/** One board of a rack: overrides over the top-level sections. */
export const boardSection = (ctx: SchemaContext) =>
  z.strictObject({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected a board id made of letters, digits, ".", "_" and "-"'),
    thingName: z.string().min(1).optional(),
    serial: serialSection(ctx).optional(),
    flash: flashSection(ctx).optional(),
  });
