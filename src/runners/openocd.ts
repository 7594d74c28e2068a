// OpenOCD: interface and target configs, then `program IMAGE verify reset exit`.
import { z } from '../util/zod.js';
import { UsageError } from '../errors.js';
import { defineRunner, address, resolveFrom, isBinFile } from './base.js';

export const openocd = defineRunner({
  name: 'openocd',
  describe: 'OpenOCD: -f interface/target configs, program IMAGE verify reset exit',
  executable: 'openocd',
  tool: {
    name: 'openocd',
    install: 'apt install openocd (or your vendor\'s OpenOCD build)',
    exitCodes: { 1: { name: 'Error' } },
    outputHints: [
      { pattern: /LIBUSB_ERROR_ACCESS|Permission denied/, hint: 'install the udev rules for your probe (e.g. 60-openocd.rules) and replug it' },
      { pattern: /open failed|No (CMSIS-DAP|J-Link|ST-Link) device found|unable to find a matching/i, hint: 'the probe was not found: plug it in, or fix flash.probe / the interface config' },
    ],
  },
  caps: { commands: ['flash', 'reset'], erase: false, verify: true, reset: true, probe: true, port: false },
  needsImage: true,
  options: z.strictObject({
    /** Interface config, e.g. interface/stlink.cfg. */
    interface: z.string().min(1).optional(),
    /** Target config, e.g. target/stm32f4x.cfg. */
    target: z.string().min(1).optional(),
    /** A board config, e.g. board/st_nucleo_f4.cfg (instead of interface + target). */
    boardConfig: z.string().min(1).optional(),
    /** More -f configs, in order. */
    configs: z.array(z.string().min(1)).default([]),
    /** -s search folders (relative to the config). */
    searchDirs: z.array(z.string().min(1)).default([]),
    /** adapter speed in kHz. */
    speed: z.number().int().positive().optional(),
    /** Extra -c commands before programming (e.g. "transport select swd"). */
    commands: z.array(z.string().min(1)).default([]),
    /** Load address for .bin images. */
    address: address.optional(),
  }),
  build({ command, exe, image, probe, verify, reset, options: o, configDir }) {
    const cfgs = [o.interface, o.target, o.boardConfig, ...o.configs].filter((c): c is string => !!c);
    if (cfgs.length === 0) {
      throw new UsageError('RUNNER_OPTION_MISSING', 'openocd needs its configs: flash.options.interface and flash.options.target, or flash.options.boardConfig', {
        hint: 'e.g. interface: interface/stlink.cfg, target: target/stm32f4x.cfg',
      });
    }
    const head = [
      exe,
      ...o.searchDirs.flatMap((d) => ['-s', resolveFrom(configDir, d)]),
      ...cfgs.flatMap((f) => ['-f', f]),
      ...(probe ? ['-c', `adapter serial ${probe}`] : []),
      ...(o.speed ? ['-c', `adapter speed ${o.speed}`] : []),
      ...o.commands.flatMap((c) => ['-c', c]),
    ];
    if (command === 'reset') return [{ argv: [...head, '-c', 'init', '-c', 'reset run', '-c', 'shutdown'] }];
    if (isBinFile(image) && !o.address) {
      throw new UsageError('RUNNER_OPTION_MISSING', `${image} is a raw binary and flash.options.address is not set`, { hint: 'set flash.options.address (e.g. 0x08000000), or flash an .elf/.hex image' });
    }
    // Braces keep a path with spaces one Tcl word.
    const program = ['program', `{${image}}`, ...(o.address ? [o.address] : []), ...(verify ? ['verify'] : []), ...(reset ? ['reset'] : []), 'exit'].join(' ');
    return [{ argv: [...head, '-c', program] }];
  },
});
