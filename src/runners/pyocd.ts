// pyOCD: `pyocd flash -t TARGET -u UID IMAGE`.
import { z } from '../util/zod.js';
import { defineRunner, address, isBinFile } from './base.js';

export const pyocd = defineRunner({
  name: 'pyocd',
  describe: 'pyOCD: pyocd flash -t TARGET -u UNIQUE_ID IMAGE',
  executable: 'pyocd',
  tool: {
    name: 'pyocd',
    install: 'pip install pyocd',
    exitCodes: { 1: { name: 'Error' } },
    outputHints: [{ pattern: /No (available|connected) debug probes/i, hint: 'plug the probe in; `pyocd list` shows what pyOCD sees' }],
  },
  caps: { commands: ['flash', 'reset', 'erase'], erase: true, verify: false, reset: true, probe: true, port: false },
  needsImage: true,
  options: z.strictObject({
    /** -t: pyOCD target type, e.g. stm32f429zi, nrf52840. */
    target: z.string().min(1).optional(),
    /** -f: SWD/JTAG frequency in Hz. */
    frequency: z.number().int().positive().optional(),
    /** --base-address for .bin images. */
    address: address.optional(),
  }),
  build({ command, exe, image, probe, erase, reset, options: o }) {
    const sel = [...(o.target ? ['-t', o.target] : []), ...(probe ? ['-u', probe] : []), ...(o.frequency ? ['-f', String(o.frequency)] : [])];
    if (command === 'erase') return [{ argv: [exe, 'erase', ...sel, '--chip'] }];
    if (command === 'reset') return [{ argv: [exe, 'reset', ...sel] }];
    return [
      {
        argv: [
          exe,
          'flash',
          ...sel,
          ...(erase ? ['--erase', 'chip'] : []),
          ...(isBinFile(image) && o.address ? ['--base-address', o.address] : []),
          ...(reset ? [] : ['--no-reset']),
          image!,
        ],
      },
    ];
  },
  listProbes: {
    build: ({ exe }) => ({ argv: [exe, 'list'] }),
    // Rows: "  0   STLINK-V3        002F00183438510B34313939   ✔︎ stm32u585aiix"
    parse: (out) =>
      out
        .split(/\r?\n/)
        .map((l) => /^\s*\d+\s{2,}.+?\s{2,}([0-9A-Za-z]{6,})\b/.exec(l)?.[1])
        .filter((id): id is string => !!id),
  },
});
