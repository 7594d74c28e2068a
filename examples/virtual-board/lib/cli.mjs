// Command line of `vboard`, written to behave like a vendor flashing tool: progress on
// stdout, "Error: ..." on stderr and a distinct exit status per failure.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, chmodSync, constants as fsc, copyFileSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { boardPaths, KNOB_DEFAULTS, readKnobs, writeFileAtomic, writeKnobs } from './board-dir.mjs';
import { isServed, request } from './control.mjs';

/** Exit statuses, as a vendor tool documents them. */
export const VERSION = '1.0.0';

export const EXIT = Object.freeze({ OK: 0, FILE: 1, NOT_CONNECTED: 2, FLASH_FAILED: 3, VERIFY_FAILED: 4, TOOL_MISSING: 5, USAGE: 64 });

const VBOARD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'vboard');

const USAGE = `usage: vboard <command> --board DIR [options]

  serve  --board DIR [--root-ca FILE] [--foreground] [knob options]
                                    power the board and keep its UART on DIR/tty
  flash  --board DIR IMAGE [--reset]  write IMAGE into the board's flash, verify
  reset  --board DIR                 restart the firmware (console on DIR/tty)
  erase  --board DIR                 wipe the flash, stored key included
  stop   --board DIR                 power off: stop the firmware and the UART
  status --board DIR                 JSON: served, image, key, knobs
  knobs  --board DIR [knob options] [--clear]   show or set fault knobs

knob options: --flash-failures N  --reset-during-key-after-rows N  --garbage-bytes N
              --baud-mismatch | --no-baud-mismatch  --stale-image-ms MS
exit status: 0 ok, 1 file error, 2 board not connected, 3 flash failed, 4 verify failed,
             5 a tool the board needs is missing (serve: socat), 64 usage`;

const OPTIONS = {
  board: { type: 'string' },
  'root-ca': { type: 'string' },
  foreground: { type: 'boolean' },
  reset: { type: 'boolean' },
  clear: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  'flash-failures': { type: 'string' },
  'reset-during-key-after-rows': { type: 'string' },
  'garbage-bytes': { type: 'string' },
  'baud-mismatch': { type: 'boolean' },
  'no-baud-mismatch': { type: 'boolean' },
  'stale-image-ms': { type: 'string' },
};

class Failure extends Error {
  constructor(message, exitCode) {
    super(message);
    this.exitCode = exitCode;
  }
}

export async function main(argv) {
  try {
    process.exitCode = await run(argv);
  } catch (err) {
    if (err instanceof Failure) {
      process.stderr.write(`Error: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(`Error: ${err.message}\n`);
      process.exitCode = EXIT.USAGE;
    }
  }
}

function knobChanges(values) {
  const changes = {};
  const count = (name, knob) => {
    if (values[name] === undefined) return;
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 0) throw new Failure(`--${name} must be a non-negative integer, got "${values[name]}"`, EXIT.USAGE);
    changes[knob] = n;
  };
  count('flash-failures', 'flashFailures');
  count('reset-during-key-after-rows', 'resetDuringKeyAfterRows');
  count('garbage-bytes', 'garbageBytes');
  count('stale-image-ms', 'staleImageMs');
  if (values['baud-mismatch']) changes.baudMismatch = true;
  if (values['no-baud-mismatch']) changes.baudMismatch = false;
  return changes;
}

async function run(argv) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  } catch (err) {
    throw new Failure(`${err.message}\n${USAGE}`, EXIT.USAGE);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.version) {
    process.stdout.write(`vboard ${VERSION} (keyprov virtual board)\n`);
    return EXIT.OK;
  }
  if (values.help || !command) {
    process.stdout.write(USAGE + '\n');
    return values.help ? EXIT.OK : EXIT.USAGE;
  }
  if (!values.board) throw new Failure(`${command}: --board DIR is required (the board's state folder)`, EXIT.USAGE);
  const paths = boardPaths(values.board);
  const changes = knobChanges(values);

  switch (command) {
    case 'serve':
      return serve(paths, values, changes);
    case 'flash':
      if (rest.length !== 1) throw new Failure('flash: give exactly one IMAGE file', EXIT.USAGE);
      return flash(paths, rest[0], values.reset === true);
    case 'reset':
      return reset(paths);
    case 'erase':
      return erase(paths);
    case 'stop':
      return stop(paths);
    case 'status':
      process.stdout.write(JSON.stringify(await status(paths), null, 2) + '\n');
      return EXIT.OK;
    case 'knobs':
      if (!existsSync(paths.root)) throw new Failure(`board folder ${paths.root} does not exist`, EXIT.FILE);
      if (values.clear) writeKnobs(paths, { ...KNOB_DEFAULTS });
      process.stdout.write(JSON.stringify(Object.keys(changes).length ? writeKnobs(paths, changes) : readKnobs(paths), null, 2) + '\n');
      return EXIT.OK;
    default:
      throw new Failure(`unknown command "${command}"\n${USAGE}`, EXIT.USAGE);
  }
}

async function requireConnected(paths) {
  if (!(await isServed(paths.control))) {
    throw new Failure(`No target connected: board ${paths.root} is not powered (start it with: vboard serve --board ${paths.root})`, EXIT.NOT_CONNECTED);
  }
}

/** The executable `cmd` as PATH finds it, or undefined. */
function onPath(cmd) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, cmd);
    try {
      accessSync(file, fsc.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

async function serve(paths, values, changes) {
  // Checked here, before the detached board process starts, so that the user reads why
  // instead of "did not come up" and a log.
  if (!onPath('socat')) {
    throw new Failure('socat not found on PATH: vboard serve needs it for the board\'s serial port (a pty at DIR/tty).\n  hint: install it (Debian/Ubuntu: sudo apt-get install socat) and run vboard serve again', EXIT.TOOL_MISSING);
  }
  mkdirSync(paths.flash, { recursive: true });
  if (values['root-ca']) {
    if (!existsSync(values['root-ca'])) throw new Failure(`--root-ca: file does not exist: ${values['root-ca']}`, EXIT.FILE);
    writeFileAtomic(paths.rootCa, readFileSync(values['root-ca']));
  }
  if (Object.keys(changes).length) writeKnobs(paths, changes);
  if (values.foreground) {
    const { serveForeground } = await import('./daemon.mjs');
    await serveForeground(paths.root);
    return undefined; // keeps running until `vboard stop` or a signal
  }
  if (await isServed(paths.control)) {
    process.stdout.write(`Board ${paths.root} is already served; console on ${paths.tty}\n`);
    return EXIT.OK;
  }
  // Detached: its own process group, so `stop` (or a test's cleanup) can end it and
  // every process it started at once.
  const out = openSync(paths.log, 'a');
  const child = spawn(process.execPath, [VBOARD, 'serve', '--foreground', '--board', paths.root], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  child.unref();
  for (let i = 0; i < 100; i++) {
    if (await isServed(paths.control)) {
      process.stdout.write(`Board ${paths.root} powered (pid ${child.pid}); console on ${paths.tty}\n`);
      return EXIT.OK;
    }
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  throw new Failure(`the board did not come up; see ${paths.log}`, EXIT.NOT_CONNECTED);
}

function progress(label, percent) {
  const width = 40;
  const done = Math.round((width * percent) / 100);
  process.stdout.write(`${label} [${'='.repeat(done)}${' '.repeat(width - done)}] ${String(percent).padStart(3)}%\n`);
}

async function flash(paths, imageArg, resetAfter) {
  const image = path.resolve(imageArg);
  let size;
  try {
    const st = statSync(image);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch {
    throw new Failure(`File does not exist or is not readable: ${image}`, EXIT.FILE);
  }
  await requireConnected(paths);
  const started = Date.now();
  process.stdout.write(`vboard flasher: target ${paths.root}\nOpening and parsing file: ${path.basename(image)}\n  File          : ${image}\n  Size          : ${size} Bytes\n`);
  await request(paths.control, { cmd: 'halt' });
  process.stdout.write('Erasing memory corresponding to segment 0:\nErasing internal memory sectors\n');
  const data = readFileSync(image);
  const knobs = readKnobs(paths);
  process.stdout.write('Download in Progress:\n');
  progress('Programming', 0);
  if (knobs.flashFailures > 0) {
    writeKnobs(paths, { flashFailures: knobs.flashFailures - 1 });
    progress('Programming', 50);
    throw new Failure(`failed to download Segment[0] at address 0x08004000: target not responding (flash unchanged)`, EXIT.FLASH_FAILED);
  }
  // New image in a temp file first, so an interrupted flash leaves the old one whole.
  const staged = `${paths.image}.download`;
  writeFileAtomic(staged, data, 0o755);
  progress('Programming', 50);
  if (existsSync(paths.image)) {
    rmSync(paths.previousImage, { force: true });
    linkSync(paths.image, paths.previousImage);
  }
  renameSync(staged, paths.image);
  chmodSync(paths.image, 0o755);
  progress('Programming', 100);
  process.stdout.write(`File download complete\nTime elapsed during download operation: ${((Date.now() - started) / 1000).toFixed(3)} s\n`);
  process.stdout.write('Verifying ...\n');
  const want = createHash('sha256').update(data).digest('hex');
  const got = createHash('sha256').update(readFileSync(paths.image)).digest('hex');
  if (want !== got) throw new Failure('Data mismatch found in flash after download', EXIT.VERIFY_FAILED);
  process.stdout.write('Verify OK\n');
  await request(paths.control, { cmd: 'flashed' });
  if (resetAfter) return reset(paths);
  return EXIT.OK;
}

async function reset(paths) {
  await requireConnected(paths);
  const result = await request(paths.control, { cmd: 'reset' });
  if (!result.booted) {
    process.stderr.write(`Warning: flash of ${paths.root} is empty: the board has nothing to run (vboard flash first)\n`);
  }
  process.stdout.write('MCU Reset\n');
  return EXIT.OK;
}

async function erase(paths) {
  await requireConnected(paths);
  await request(paths.control, { cmd: 'halt' });
  for (const name of readdirSync(paths.flash)) rmSync(path.join(paths.flash, name), { recursive: true, force: true });
  process.stdout.write('Mass erase ...\nMass erase successfully achieved\n');
  return EXIT.OK;
}

function readPid(paths) {
  try {
    return Number(readFileSync(paths.pid, 'utf8').trim()) || null;
  } catch {
    return null;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stop(paths) {
  const pid = readPid(paths);
  if (!(await isServed(paths.control))) {
    if (pid && alive(pid)) killGroup(pid);
    process.stdout.write(`Board ${paths.root} is not powered\n`);
    return EXIT.OK;
  }
  await request(paths.control, { cmd: 'stop' }).catch(() => {});
  for (let i = 0; i < 60 && pid && alive(pid); i++) await sleep(50);
  if (pid && alive(pid)) killGroup(pid);
  process.stdout.write(`Board ${paths.root} powered off\n`);
  return EXIT.OK;
}

/** The serve process leads its own process group: end it with everything it started. */
function killGroup(pid) {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

async function status(paths) {
  let served = null;
  try {
    served = await request(paths.control, { cmd: 'ping' }, 2000);
  } catch {
    /* not served */
  }
  return {
    board: paths.root,
    served: served !== null,
    pid: served?.pid ?? null,
    tty: paths.tty,
    firmwareRunning: served?.running ?? false,
    droppedConsoleBytes: served?.droppedBytes ?? 0,
    image: existsSync(paths.image),
    deviceKey: existsSync(paths.deviceKey),
    rootCa: existsSync(paths.rootCa),
    knobs: existsSync(paths.root) ? readKnobs(paths) : { ...KNOB_DEFAULTS },
  };
}
