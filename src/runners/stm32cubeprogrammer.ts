// ST's STM32_Programmer_CLI: -c port=SWD [sn=...], -w IMAGE [ADDRESS], -v, -rst.
import { z } from '../util/zod.js';
import { defineRunner, address, isBinFile } from './base.js';

export const stm32cubeprogrammer = defineRunner({
  name: 'stm32cubeprogrammer',
  describe: 'STM32CubeProgrammer CLI: -c port=SWD, -w IMAGE ADDRESS, -v, -rst',
  executable: 'STM32_Programmer_CLI',
  tool: {
    name: 'STM32_Programmer_CLI',
    install: 'install STM32CubeProgrammer from st.com and add its bin/ folder to PATH',
    exitCodes: { 1: { name: 'Error' } },
    outputHints: [
      { pattern: /No debug probe detected|No ST-LINK detected/i, hint: 'plug the ST-LINK in, or fix flash.probe (STM32_Programmer_CLI -l lists probes)' },
      { pattern: /No STM32 target found/i, hint: 'check target power and wiring; try flash.options.mode: UR (connect under reset)' },
    ],
  },
  caps: { commands: ['flash', 'reset', 'erase'], erase: true, verify: true, reset: true, probe: true, port: false },
  needsImage: true,
  options: z.strictObject({
    interface: z.enum(['SWD', 'JTAG']).default('SWD'),
    /** freq= in kHz. */
    frequency: z.number().int().positive().optional(),
    /** mode=: Normal, UR (under reset), HOTPLUG. */
    mode: z.enum(['Normal', 'UR', 'HOTPLUG', 'POWERDOWN']).optional(),
    /** Load address for .bin images (default 0x08000000, the start of STM32 flash). */
    address: address.default('0x8000000'),
  }),
  build({ command, exe, image, probe, erase, verify, reset, options: o }) {
    const connect = ['-c', `port=${o.interface}`, ...(probe ? [`sn=${probe}`] : []), ...(o.frequency ? [`freq=${o.frequency}`] : []), ...(o.mode ? [`mode=${o.mode}`] : [])];
    if (command === 'erase') return [{ argv: [exe, ...connect, '-e', 'all'] }];
    if (command === 'reset') return [{ argv: [exe, ...connect, '-rst'] }];
    return [
      {
        argv: [exe, ...connect, ...(erase ? ['-e', 'all'] : []), '-w', image!, ...(isBinFile(image) ? [o.address] : []), ...(verify ? ['-v'] : []), ...(reset ? ['-rst'] : [])],
      },
    ];
  },
  listProbes: {
    build: ({ exe }) => ({ argv: [exe, '-l'] }),
    // "   ST-LINK SN  : 066DFF555051897267233656"
    parse: (out) => [...out.matchAll(/ST-?LINK SN\s*:\s*(\S+)/gi)].map((m) => m[1]!),
  },
});
