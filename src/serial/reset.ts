// Resetting the board right after the port is open, so the boot (and the key) is not
// missed, through the adapter's DTR/RTS lines or a configured command.
//
// "Asserted" is logic true in serialport's API; a USB-serial adapter drives an asserted
// line electrically LOW. On the ESP auto-reset circuit (two cross-coupled transistors)
// (dtr=false, rts=true) pulls EN low (chip in reset, IO0 high), (dtr=true, rts=false)
// pulls IO0 low (download mode on the next boot), and both equal leaves both pins high.
//
// serialport's `set()` fills every flag it is not given with its default (dtr: true,
// rts: true), so each step below passes BOTH lines; on Linux one set() is one TIOCMSET,
// so both lines change together (as esptool's UnixTightReset).
import { KeyprovError, ToolError, UsageError } from '../errors.js';
import type { Logger } from '../log.js';

export type ResetMethod = 'none' | 'dtr' | 'rts' | 'dtr-rts' | 'command';
export const RESET_METHODS: readonly ResetMethod[] = ['none', 'dtr', 'rts', 'dtr-rts', 'command'];

/** Both modem lines, true = asserted. */
export interface LineState {
  dtr: boolean;
  rts: boolean;
}

/** What reset needs from a port: serialport's `set()` (modem control lines). */
export interface ControlLines {
  set(opts: LineState, cb: (err: Error | null) => void): unknown;
}

/** A line-driven reset: the pulse state, held `pulseMs`, then the final state (both released: the board runs). */
export interface LineSequence {
  pulse: LineState;
  release: LineState;
}

const RELEASED: LineState = { dtr: false, rts: false };

/**
 * - `rts`: esptool's `--after hard_reset` (HardReset; idf monitor's reset too, with 5 ms): RTS
 *   asserted (EN low) with DTR released (IO0 high, so the chip boots the app, not the ROM
 *   downloader), then RTS released.
 * - `dtr`: boards wiring DTR (alone) to reset: DTR asserted with RTS released, then released.
 *   On an ESP auto-reset circuit this only pulls IO0 low for the pulse: no reset.
 * - `dtr-rts`: both asserted together, then both released, for plain wiring where either
 *   line drives reset and it is not known which. On an ESP auto-reset circuit both asserted
 *   cancel out (that is why terminals that raise both on open do not reset it): use `rts`.
 */
export const LINE_SEQUENCES: Readonly<Record<'dtr' | 'rts' | 'dtr-rts', LineSequence>> = {
  rts: { pulse: { dtr: false, rts: true }, release: RELEASED },
  dtr: { pulse: { dtr: true, rts: false }, release: RELEASED },
  'dtr-rts': { pulse: { dtr: true, rts: true }, release: RELEASED },
};

export interface ResetOptions {
  method: ResetMethod;
  /** For `command`: argv array (no shell) or one string run by /bin/sh. */
  command?: string | string[];
  /** How long the reset line is held, ms. Default 100 (esptool's HardReset). */
  pulseMs?: number;
  log?: Logger;
  portPath?: string;
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const show = (l: LineState) => `DTR=${l.dtr ? 1 : 0} RTS=${l.rts ? 1 : 0}`;

function setLines(port: ControlLines, lines: LineState, portPath = 'the port'): Promise<void> {
  // A fresh object with both flags: nothing is left to serialport's defaults.
  const both: LineState = { dtr: lines.dtr, rts: lines.rts };
  return new Promise((resolve, reject) =>
    port.set(both, (err) =>
      err
        ? reject(
            new KeyprovError('RESET_FAILED', `cannot set DTR/RTS on ${portPath}: ${err.message} (setting ${show(both)})`, {
              hint: 'this port has no modem control lines (a pty or a bare UART?); use --reset none and reset the board by hand, or --reset command',
              cause: err,
            }),
          )
        : resolve(),
    ),
  );
}

async function pulseLines(port: ControlLines | undefined, seq: LineSequence, pulseMs: number, portPath?: string): Promise<void> {
  if (!port) throw new KeyprovError('RESET_UNAVAILABLE', `cannot reset through ${portPath ?? 'this source'}: it is not a serial port`, { hint: 'use --reset none or --reset command' });
  await setLines(port, seq.pulse, portPath);
  await sleep(pulseMs);
  await setLines(port, seq.release, portPath);
}

export async function resetBoard(port: ControlLines | undefined, opts: ResetOptions): Promise<void> {
  const pulse = opts.pulseMs ?? 100;
  const where = opts.portPath;
  switch (opts.method) {
    case 'none':
      return;
    case 'dtr':
    case 'rts':
    case 'dtr-rts':
      await pulseLines(port, LINE_SEQUENCES[opts.method], pulse, where);
      opts.log?.debug(`reset (${opts.method}): ${show(LINE_SEQUENCES[opts.method].pulse)} for ${pulse} ms, then ${show(RELEASED)}`);
      return;
    case 'command': {
      const cmd = opts.command;
      if (!cmd || (Array.isArray(cmd) && cmd.length === 0)) {
        throw new UsageError('RESET_COMMAND_MISSING', '--reset command needs serial.resetCommand in the config', {
          hint: 'set serial.resetCommand (e.g. ["openocd", "-f", "board.cfg", "-c", "reset run; shutdown"]) or choose another --reset',
        });
      }
      // Through the one subprocess wrapper: logged, timed out, errors with the stderr tail.
      const { runTool } = await import('../runners/exec.js');
      const argv = Array.isArray(cmd) ? cmd : [cmd];
      try {
        await runTool(argv, { label: 'reset', shell: !Array.isArray(cmd), log: opts.log, signal: opts.signal, timeoutMs: 60_000, tool: { name: argv[0]!, install: 'install the reset tool, or fix serial.resetCommand' } });
      } catch (e) {
        if (!(e instanceof ToolError) || e.code === 'TOOL_MISSING' || e.code === 'TOOL_CANCELLED') throw e;
        throw new ToolError('RESET_COMMAND_FAILED', `reset command failed: ${e.message}`, { hint: 'run the command by hand to see why, or fix serial.resetCommand', details: e.details, cause: e });
      }
      break;
    }
    default:
      throw new UsageError('RESET_METHOD_UNKNOWN', `unknown reset method "${String(opts.method)}"`, { hint: `use one of ${RESET_METHODS.join(', ')}` });
  }
  opts.log?.debug(`reset (${opts.method}) done`);
}
