// A make target that flashes (the project's own flash rule).
import { z } from '../util/zod.js';
import { UsageError } from '../errors.js';
import { defineRunner, resolveFrom } from './base.js';
import { expandTemplate, placeholderEnv } from './placeholders.js';

export const make = defineRunner({
  name: 'make',
  describe: 'make [-C DIR] TARGET VAR=value... (the project\'s own flash rule)',
  executable: 'make',
  tool: { name: 'make', install: 'apt install make', exitCodes: { 2: { name: 'MakeError' } } },
  caps: { commands: ['flash', 'reset', 'erase'], erase: false, verify: false, reset: false, probe: true, port: true },
  needsImage: false,
  options: z.strictObject({
    /** -C: folder with the Makefile (relative to the config). */
    dir: z.string().min(1).optional(),
    /** -f: the makefile. */
    makefile: z.string().min(1).optional(),
    target: z.string().min(1).default('flash'),
    /** Target for `keyprov reset` (reset is refused without it). */
    resetTarget: z.string().min(1).optional(),
    /** Target for erase (refused without it). */
    eraseTarget: z.string().min(1).optional(),
    /** Make variables; values may use {image} {port} {board} {probe}. */
    variables: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
  }),
  build({ command, exe, image, port, probe, board, options: o, configDir }) {
    const target = command === 'flash' ? o.target : command === 'reset' ? o.resetTarget : o.eraseTarget;
    if (!target) {
      throw new UsageError('RUNNER_UNSUPPORTED', `the make runner has no ${command} target`, { hint: `set flash.options.${command}Target` });
    }
    const values = { image, port, probe, board };
    const vars = Object.entries(o.variables).map(([k, v]) => `${k}=${expandTemplate([v], values, `flash.options.variables.${k}`)[0]}`);
    return [
      {
        argv: [exe, ...(o.dir ? ['-C', resolveFrom(configDir, o.dir)] : []), ...(o.makefile ? ['-f', resolveFrom(configDir, o.makefile)] : []), target, ...vars],
        env: placeholderEnv(values),
      },
    ];
  },
});
