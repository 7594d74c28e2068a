// Any flasher: an argv template with {image} {port} {board} {probe}. No shell involved.
import { z } from '../util/zod.js';
import { UsageError } from '../errors.js';
import { defineRunner, resolveExecutable } from './base.js';
import { expandTemplate, placeholderEnv } from './placeholders.js';

const template = z.array(z.string()).min(1);

export const custom = defineRunner({
  name: 'custom',
  describe: 'any flasher: an argv template with {image} {port} {board} {probe}',
  tool: {},
  caps: { commands: ['flash', 'reset', 'erase'], erase: false, verify: false, reset: false, probe: true, port: true },
  needsImage: true,
  versionArgs: null,
  options: z.strictObject({
    /** Flash command, e.g. ["./flash.sh", "--port", "{port}", "{image}"]. */
    argv: template,
    /** Reset command (reset is refused without it). */
    resetArgv: template.optional(),
    /** Erase command (erase is refused without it). */
    eraseArgv: template.optional(),
  }),
  executableFrom: (o, configDir) => resolveExecutable(configDir, o.argv[0]!),
  build({ command, exe, image, port, probe, board, options: o, configDir }) {
    const t = command === 'flash' ? o.argv : command === 'reset' ? o.resetArgv : o.eraseArgv;
    const key = command === 'flash' ? 'argv' : `${command}Argv`;
    if (!t) throw new UsageError('RUNNER_UNSUPPORTED', `the custom runner has no ${command} command`, { hint: `set flash.options.${key}` });
    const values = { image, port, probe, board };
    const argv = expandTemplate(t, values, `flash.options.${key}`);
    argv[0] = command === 'flash' ? exe : resolveExecutable(configDir, argv[0]!);
    return [{ argv, env: placeholderEnv(values) }];
  },
});
