// Nordic nrfjprog: --program with sector or chip erase, --verify, --reset, -s SERIAL.
import { z } from '../util/zod.js';
import { defineRunner } from './base.js';
import type { ExitCodeMeaning } from './exec.js';

/** nrfjprog's documented return codes (nrfjprog.h, NrfjprogErrorCodesType). */
export const NRFJPROG_EXIT_CODES: Record<number, ExitCodeMeaning> = {
  1: { name: 'NrfjprogError' },
  2: { name: 'NrfjprogOutdatedError', hint: 'update the nRF Command Line Tools for this device' },
  11: { name: 'InvalidArgumentError' },
  12: { name: 'InsufficientArgumentsError' },
  13: { name: 'IncompatibleArgumentsError' },
  16: { name: 'UnavailableOperationBecauseProtectionError', hint: 'the device has readback protection: run `nrfjprog --recover` (erases it), then flash again' },
  18: { name: 'WrongFamilyForDeviceError', hint: 'fix flash.options.family for this device' },
  30: { name: 'JLinkARMDllNotFoundError', hint: 'install the SEGGER J-Link software pack (nrfjprog needs its library)' },
  33: { name: 'JLinkARMDllError' },
  40: { name: 'InvalidSerialNumberError', hint: 'no probe with that serial number: fix flash.probe (`nrfjprog --ids` lists them)' },
  41: { name: 'NoDebuggersError', hint: 'no debug probe is connected: plug the board in' },
  42: { name: 'NotPossibleToConnectError', hint: 'check target power and the debug cable' },
  43: { name: 'LowVoltageError', hint: 'the target voltage is too low: check the power supply' },
  51: { name: 'FileNotFoundError' },
  52: { name: 'InvalidHexFileError', hint: 'nrfjprog needs an Intel HEX image' },
  55: { name: 'VerifyError', hint: 'the written flash does not read back the same: erase the chip (flash.options.erase: true) and retry' },
  57: { name: 'NVMCOperationError' },
  58: { name: 'FlashNotErasedError', hint: 'set flash.options.erase: true' },
};

export const nrfjprog = defineRunner({
  name: 'nrfjprog',
  describe: 'Nordic nrfjprog: --program IMAGE --sectorerase|--chiperase --verify --reset -s SERIAL',
  executable: 'nrfjprog',
  tool: { name: 'nrfjprog', install: 'install the nRF Command Line Tools from nordicsemi.com (and the SEGGER J-Link pack)', exitCodes: NRFJPROG_EXIT_CODES },
  caps: { commands: ['flash', 'reset', 'erase'], erase: true, verify: true, reset: true, probe: true, port: false },
  needsImage: true,
  options: z.strictObject({
    family: z.enum(['NRF51', 'NRF52', 'NRF53', 'NRF91', 'UNKNOWN']).optional(),
    /** Use a soft reset instead of the default system reset after programming. */
    softReset: z.boolean().default(false),
  }),
  build({ command, exe, image, probe, erase, verify, reset, options: o }) {
    const tail = [...(o.family ? ['-f', o.family] : []), ...(probe ? ['-s', probe] : [])];
    const resetFlag = o.softReset ? '--debugreset' : '--reset';
    if (command === 'erase') return [{ argv: [exe, '--eraseall', ...tail] }];
    if (command === 'reset') return [{ argv: [exe, resetFlag, ...tail] }];
    return [
      {
        argv: [exe, '--program', image!, erase ? '--chiperase' : '--sectorerase', ...(verify ? ['--verify'] : []), ...(reset ? [resetFlag] : []), ...tail],
      },
    ];
  },
  listProbes: {
    build: ({ exe }) => ({ argv: [exe, '--ids'] }),
    parse: (out) => out.split(/\r?\n/).map((l) => l.trim()).filter((l) => /^\d+$/.test(l)),
  },
});
