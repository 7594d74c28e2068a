// The board folder: everything `vboard` and the firmware know about one board.
//
//   DIR/tty            host side of the UART (a pty made by socat; open it to read the console)
//   DIR/flash/image    the flashed firmware image; image.prev is the one before it
//   DIR/flash/device-key.der   the key pair the firmware generated (survives reflashing)
//   DIR/root-ca.pem    the root CA the board verifies the broker against
//   DIR/knobs.json     fault knobs (see KNOB_DEFAULTS)
//   DIR/vboard.pid, DIR/vboard.log, control socket
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const KNOB_DEFAULTS = Object.freeze({
  /** The next N flash attempts fail half way, as with a flaky probe. */
  flashFailures: 0,
  /** On the next boot that prints the key, reset after this many rows (0: never). */
  resetDuringKeyAfterRows: 0,
  /** Bytes of noise at every boot, as from a ROM bootloader at another baud rate. */
  garbageBytes: 0,
  /** Garble the whole console stream, as when the host opens the port at the wrong baud rate. */
  baudMismatch: false,
  /** After a flash, the next boot runs the previous image this long before the new one. */
  staleImageMs: 0,
});

/** Exit status of the firmware that means "the board reset itself" (fault knob). */
export const EXIT_SPONTANEOUS_RESET = 86;

export function boardPaths(dir) {
  const root = path.resolve(dir);
  const flash = path.join(root, 'flash');
  let control = path.join(root, 'vboard.sock');
  // Unix socket paths are limited to ~107 bytes: long folders get a socket in the temp dir.
  if (Buffer.byteLength(control) > 100) {
    control = path.join(os.tmpdir(), `vboard-${createHash('sha256').update(root).digest('hex').slice(0, 16)}.sock`);
  }
  return {
    root,
    tty: path.join(root, 'tty'),
    flash,
    image: path.join(flash, 'image'),
    previousImage: path.join(flash, 'image.prev'),
    deviceKey: path.join(flash, 'device-key.der'),
    rootCa: path.join(root, 'root-ca.pem'),
    knobs: path.join(root, 'knobs.json'),
    pid: path.join(root, 'vboard.pid'),
    log: path.join(root, 'vboard.log'),
    control,
  };
}

/** Temp file + fsync + rename: a reader sees the old file or the new one, never half. */
export function writeFileAtomic(file, data, mode = 0o644) {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export function readKnobs(paths) {
  let stored = {};
  try {
    stored = JSON.parse(readFileSync(paths.knobs, 'utf8'));
  } catch (err) {
    if (err.code !== 'ENOENT') throw new Error(`${paths.knobs}: not valid JSON (${err.message})`);
  }
  return { ...KNOB_DEFAULTS, ...stored };
}

export function writeKnobs(paths, changes) {
  const next = { ...readKnobs(paths), ...changes };
  for (const [name, value] of Object.entries(next)) {
    if (!(name in KNOB_DEFAULTS)) throw new Error(`unknown knob "${name}" (known: ${Object.keys(KNOB_DEFAULTS).join(', ')})`);
    if (typeof value !== typeof KNOB_DEFAULTS[name] || (typeof value === 'number' && !(Number.isInteger(value) && value >= 0))) {
      throw new Error(`knob "${name}" must be ${typeof KNOB_DEFAULTS[name] === 'number' ? 'a non-negative integer' : 'true or false'}, got ${JSON.stringify(value)}`);
    }
  }
  writeFileAtomic(paths.knobs, JSON.stringify(next, null, 2) + '\n');
  return next;
}
