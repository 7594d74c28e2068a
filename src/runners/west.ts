// Zephyr's west: `west flash` flashes the build folder with the board's own runner.
import { z } from '../util/zod.js';
import { defineRunner, resolveFrom } from './base.js';

export const west = defineRunner({
  name: 'west',
  describe: 'Zephyr west flash --build-dir DIR [--runner R] (flashes the build folder)',
  executable: 'west',
  tool: { name: 'west', install: 'pip install west (inside your Zephyr workspace\'s Python environment)' },
  // West's runners reset the board after flashing.
  caps: { commands: ['flash'], erase: true, verify: false, reset: true, probe: true, port: false },
  needsImage: false,
  options: z.strictObject({
    /** --build-dir (relative to the config). */
    buildDir: z.string().min(1).optional(),
    /** --runner: which of the board's runners west uses (nrfjprog, jlink, openocd...). */
    runner: z.string().min(1).optional(),
    /** Pass --skip-rebuild: keyprov has already built (default true). */
    skipRebuild: z.boolean().default(true),
    /** Arguments after `--`, given to the underlying runner. */
    extraArgs: z.array(z.string()).default([]),
  }),
  build({ exe, probe, erase, options: o, configDir }) {
    return [
      {
        argv: [
          exe,
          'flash',
          ...(o.buildDir ? ['--build-dir', resolveFrom(configDir, o.buildDir)] : []),
          ...(o.runner ? ['--runner', o.runner] : []),
          ...(o.skipRebuild ? ['--skip-rebuild'] : []),
          ...(probe ? ['--dev-id', probe] : []),
          ...(erase ? ['--erase'] : []),
          ...(o.extraArgs.length ? ['--', ...o.extraArgs] : []),
        ],
      },
    ];
  },
});
