// SEGGER J-Link Commander, driven by a generated command file.
import path from 'node:path';
import { z } from '../util/zod.js';
import { defineRunner, address, need, isBinFile } from './base.js';

const DEVICE_HINT = 'set flash.options.device to the J-Link device name, e.g. NRF52840_XXAA or STM32F429ZI';

export const jlink = defineRunner({
  name: 'jlink',
  describe: 'SEGGER JLinkExe with a generated command file (device, interface, speed, loadfile, reset, go, exit)',
  executable: 'JLinkExe',
  tool: {
    name: 'JLinkExe',
    install: 'install the J-Link Software and Documentation Pack from segger.com',
    // With -ExitOnError 1, any failed command ends J-Link Commander with exit code 1.
    exitCodes: { 1: { name: 'CommandFailed' } },
    outputHints: [
      { pattern: /Connecting to J-Link via USB\.\.\.FAILED|Cannot connect to J-Link/, hint: 'the J-Link was not found: plug it in, or fix flash.probe' },
      { pattern: /Cannot connect to target/, hint: 'check target power and wiring, and that flash.options.device names this chip' },
    ],
  },
  caps: { commands: ['flash', 'reset', 'erase'], erase: true, verify: false, reset: true, probe: true, port: false },
  needsImage: true,
  // JLinkExe has no version switch (it starts an interactive session).
  versionArgs: null,
  options: z.strictObject({
    device: z.string().min(1).optional(),
    interface: z.enum(['SWD', 'JTAG', 'cJTAG', 'FINE', 'ICSP']).default('SWD'),
    /** kHz, or "auto" / "adaptive". */
    speed: z.union([z.number().int().positive(), z.enum(['auto', 'adaptive'])]).default(4000),
    /** Load address for .bin images. */
    address: address.optional(),
  }),
  build({ command, exe, image, probe, erase, reset, options: o, scratchDir }) {
    const device = need(o.device, 'flash.options.device', DEVICE_HINT);
    const lines = [`device ${device}`, `si ${o.interface}`, `speed ${o.speed}`, 'connect'];
    if (command === 'erase') lines.push('erase');
    else if (command === 'reset') lines.push('r', 'g');
    else {
      lines.push('r', 'h');
      if (erase) lines.push('erase');
      // loadfile takes an address only for raw binaries.
      lines.push(`loadfile "${image}"${isBinFile(image) ? ` ${o.address ?? '0x0'}` : ''}`);
      if (reset) lines.push('r', 'g');
    }
    lines.push('exit');
    const file = path.join(scratchDir, `${command}.jlink`);
    return [
      {
        argv: [exe, '-NoGui', '1', '-ExitOnError', '1', ...(probe ? ['-SelectEmuBySN', probe] : []), '-CommandFile', file],
        files: [{ path: file, content: lines.join('\n') + '\n' }],
      },
    ];
  },
  listProbes: {
    build({ exe, scratchDir }) {
      const file = path.join(scratchDir, 'list.jlink');
      return { argv: [exe, '-NoGui', '1', '-CommandFile', file], files: [{ path: file, content: 'ShowEmuList\nexit\n' }] };
    },
    // "J-Link[0]: Connection: USB, Serial number: 000683123456, ProductName: J-Link OB"
    parse: (out) => [...out.matchAll(/Serial number:\s*(\d+)/g)].map((m) => m[1]!),
  },
});
