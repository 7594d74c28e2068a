// The virtual board (examples/virtual-board): `vboard flash|reset|erase --board DIR`.
import { z } from '../util/zod.js';
import { defineRunner, need, resolveFrom, resolveExecutable } from './base.js';

export const vboard = defineRunner({
  name: 'vboard',
  describe: 'the virtual board: vboard flash --board DIR IMAGE, vboard reset|erase --board DIR',
  executable: 'vboard',
  tool: {
    name: 'vboard',
    install: 'build the virtual board (examples/virtual-board) and set flash.options.vboard to its vboard script, or put it on PATH',
    // vboard's documented exit statuses (examples/virtual-board/lib/cli.mjs).
    exitCodes: {
      1: { name: 'FileError', hint: 'check the image path (--image or build.image) and flash.options.boardDir' },
      2: { name: 'NotConnected', hint: 'power the virtual board first: vboard serve --board DIR' },
      3: { name: 'FlashFailed', hint: 'the flash was left unchanged; run the flash again' },
      4: { name: 'VerifyFailed', hint: 'the flash does not read back as written; run the flash again' },
      64: { name: 'Usage' },
    },
  },
  // `vboard flash` only writes; the board starts on `vboard reset`.
  caps: { commands: ['flash', 'reset', 'erase'], erase: true, verify: false, reset: true, probe: false, port: false },
  needsImage: true,
  options: z.strictObject({
    /** The board's folder (its flash file and state), relative to the config. */
    boardDir: z.string().min(1).optional(),
    /** The vboard executable (relative to the config), default `vboard` on PATH. */
    vboard: z.string().min(1).optional(),
  }),
  executableFrom: (o, configDir) => (o.vboard ? resolveExecutable(configDir, o.vboard) : undefined),
  build({ command, exe, image, erase, reset, options: o, configDir }) {
    const dir = resolveFrom(configDir, need(o.boardDir, 'flash.options.boardDir', 'set flash.options.boardDir to the virtual board\'s folder'));
    const run = (cmd: string, extra: string[] = []) => [exe, cmd, '--board', dir, ...extra];
    if (command === 'erase') return [{ argv: run('erase'), step: 'erase' }];
    if (command === 'reset') return [{ argv: run('reset'), step: 'reset' }];
    return [
      ...(erase ? [{ argv: run('erase'), step: 'erase' }] : []),
      { argv: run('flash', [image!]), step: 'flash', mustPrint: /Verify OK/ },
      ...(reset ? [{ argv: run('reset'), step: 'reset' }] : []),
    ];
  },
});
