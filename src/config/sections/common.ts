// Building blocks shared by the config sections.
import { z } from '../../util/zod.js';

/** Passed to every section so that path fields resolve against the config file's folder. */
export interface SchemaContext {
  resolvePath(p: string): string;
}

/** A filesystem path; relative paths resolve against the folder of the config file. */
export function pathField(ctx: SchemaContext) {
  return z.string().min(1).transform((p) => ctx.resolvePath(p)).meta({ description: 'A path; relative to the config file' });
}

/** A command: either an argv array (preferred: no shell) or one string run by /bin/sh. */
export const commandField = z.union([z.string().min(1), z.array(z.string()).min(1)]);

export const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a C identifier');
