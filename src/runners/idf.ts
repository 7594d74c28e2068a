// ESP-IDF's idf.py: flashes what the ESP-IDF build produced (no image argument).
import { z } from '../util/zod.js';
import { defineRunner, need, resolveFrom } from './base.js';

export const idf = defineRunner({
  name: 'idf',
  describe: 'ESP-IDF idf.py -p PORT flash (flashes the build folder)',
  executable: 'idf.py',
  tool: {
    name: 'idf.py',
    install: 'install ESP-IDF and run . $IDF_PATH/export.sh in this shell',
    exitCodes: { 2: { name: 'FatalError' } },
    outputHints: [{ pattern: /Failed to connect to ESP/, hint: 'check serial.port, close any serial monitor holding it, and hold BOOT while connecting' }],
  },
  // idf.py flash always ends with esptool's hard reset.
  caps: { commands: ['flash', 'erase'], erase: false, verify: false, reset: true, probe: false, port: true },
  needsImage: false,
  options: z.strictObject({
    baud: z.number().int().positive().optional(),
    /** -C: the ESP-IDF project folder (relative to the config). */
    projectDir: z.string().min(1).optional(),
    /** -B: the build folder (relative to the config). */
    buildDir: z.string().min(1).optional(),
  }),
  build({ command, exe, port, options: o, configDir }) {
    const p = need(port, 'the serial port for idf.py', 'set serial.port (or flash.options.port)');
    return [
      {
        argv: [
          exe,
          ...(o.projectDir ? ['-C', resolveFrom(configDir, o.projectDir)] : []),
          ...(o.buildDir ? ['-B', resolveFrom(configDir, o.buildDir)] : []),
          '-p',
          p,
          ...(o.baud ? ['-b', String(o.baud)] : []),
          command === 'erase' ? 'erase-flash' : 'flash',
        ],
      },
    ];
  },
});
