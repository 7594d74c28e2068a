// Espressif's esptool: write_flash over the board's serial port.
import { z } from '../util/zod.js';
import { defineRunner, address, need, resolveFrom } from './base.js';

const PORT_HINT = 'set serial.port (or flash.options.port) to the board\'s serial device';

export const esptool = defineRunner({
  name: 'esptool',
  describe: 'Espressif esptool.py: write_flash at an offset over the serial port',
  executable: 'esptool.py',
  tool: {
    name: 'esptool',
    install: 'pip install esptool (or use the one from ESP-IDF: . $IDF_PATH/export.sh)',
    exitCodes: { 1: { name: 'Error' }, 2: { name: 'FatalError' } },
    outputHints: [
      { pattern: /Failed to connect to ESP/, hint: 'check serial.port, close any serial monitor holding it, and hold BOOT while esptool connects if auto-reset does not work' },
      { pattern: /could not open port|Permission denied/, hint: 'check that the port exists and that you may open it (dialout group)' },
    ],
  },
  // write_flash always checks the written data's hash ("Hash of data verified."), so there is no verify switch.
  caps: { commands: ['flash', 'erase', 'reset'], erase: true, verify: false, reset: true, probe: false, port: true },
  needsImage: true,
  versionArgs: ['version'],
  options: z.strictObject({
    /** --chip (default auto). */
    chip: z.string().default('auto'),
    baud: z.number().int().positive().default(460800),
    before: z.enum(['default_reset', 'usb_reset', 'no_reset', 'no_reset_no_sync']).default('default_reset'),
    /** --after; default hard_reset when flash.options.reset is on, else no_reset. */
    after: z.enum(['hard_reset', 'soft_reset', 'no_reset', 'no_reset_stub']).optional(),
    /** Where the image goes (default 0x0: a merged image). */
    offset: address.default('0x0'),
    /** Other images written in the same write_flash, e.g. bootloader and partition table. */
    images: z.array(z.strictObject({ offset: address, file: z.string().min(1) })).default([]),
    flashMode: z.string().optional(),
    flashFreq: z.string().optional(),
    flashSize: z.string().optional(),
  }),
  build({ command, exe, port, image, erase, reset, options: o, configDir }) {
    const p = need(port, 'the serial port for esptool', PORT_HINT);
    const head = [exe, '--chip', o.chip, '--port', p, '--baud', String(o.baud), '--before', o.before];
    if (command === 'erase') return [{ argv: [...head, '--after', o.after ?? 'no_reset', 'erase_flash'] }];
    if (command === 'reset') return [{ argv: [...head, '--after', 'hard_reset', 'read_mac'] }];
    const writes = [...o.images.map((i) => [i.offset, resolveFrom(configDir, i.file)]), [o.offset, image!]];
    return [
      {
        argv: [
          ...head,
          '--after',
          o.after ?? (reset ? 'hard_reset' : 'no_reset'),
          'write_flash',
          ...(erase ? ['--erase-all'] : []),
          ...(o.flashMode ? ['--flash_mode', o.flashMode] : []),
          ...(o.flashFreq ? ['--flash_freq', o.flashFreq] : []),
          ...(o.flashSize ? ['--flash_size', o.flashSize] : []),
          ...writes.flat(),
        ],
      },
    ];
  },
});
