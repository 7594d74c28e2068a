// Resetting the board right after the port is open, so the boot (and the key) is not
// missed. Line sequences follow esptool's HardReset / idf monitor: assert the line wired
// to EN/RESET for 100 ms, then release it. "Asserted" is logic true (electrically low).
import { KeyprovError, ToolError, UsageError } from '../errors.js';
import type { Logger } from '../log.js';

export type ResetMethod = 'none' | 'dtr' | 'rts' | 'dtr-rts' | 'command';
export const RESET_METHODS: readonly ResetMethod[] = ['none', 'dtr', 'rts', 'dtr-rts', 'command'];

/** What reset needs from a port: serialport's `set()` (modem control lines). */
export interface ControlLines {
  set(opts: { dtr?: boolean; rts?: boolean }, cb: (err: Error | null) => void): unknown;
}

export interface ResetOptions {
  method: ResetMethod;
  /** For `command`: argv array (no shell) or one string run by /bin/sh. */
  command?: string | string[];
  /** How long the reset line is held, ms. Default 100 (esptool). */
  pulseMs?: number;
  log?: Logger;
  portPath?: string;
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setLines(port: ControlLines, lines: { dtr?: boolean; rts?: boolean }, portPath = 'the port'): Promise<void> {
  return new Promise((resolve, reject) =>
    port.set(lines, (err) =>
      err
        ? reject(
            new KeyprovError('RESET_FAILED', `cannot set ${Object.keys(lines).join('/').toUpperCase()} on ${portPath}: ${err.message}`, {
              hint: 'this port has no modem control lines (a pty or a bare UART?); use --reset none and reset the board by hand, or --reset command',
              cause: err,
            }),
          )
        : resolve(),
    ),
  );
}

export async function resetBoard(port: ControlLines | undefined, opts: ResetOptions): Promise<void> {
  const pulse = opts.pulseMs ?? 100;
  const where = opts.portPath;
  switch (opts.method) {
    case 'none':
      return;
    case 'dtr': // boards wiring DTR to reset
      await setLines(port!, { dtr: true }, where);
      await sleep(pulse);
      await setLines(port!, { dtr: false }, where);
      break;
    case 'rts': // esptool HardReset: DTR released (IO0 high: normal boot), pulse RTS (EN)
      await setLines(port!, { dtr: false, rts: true }, where);
      await sleep(pulse);
      await setLines(port!, { rts: false }, where);
      break;
    case 'dtr-rts': // both lines together, for adapters wiring either one to reset
      await setLines(port!, { dtr: true, rts: true }, where);
      await sleep(pulse);
      await setLines(port!, { dtr: false, rts: false }, where);
      break;
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
