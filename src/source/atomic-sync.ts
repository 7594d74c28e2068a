// Synchronous atomic replace of a source file, so that restore can run to completion
// inside a signal handler or an exit hook where awaiting is not possible.
import { closeSync, constants as fsc, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync, fchmodSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeTargetSync } from '../util/write-target.js';

/** Write to a temporary file beside `file`, fsync, rename over it. An existing file keeps its mode; a symlink stays a symlink (its target is replaced). */
export function writeFileAtomicSync(link: string, data: Uint8Array, newFileMode = 0o644): void {
  const file = writeTargetSync(link);
  let mode = newFileMode;
  try {
    mode = statSync(file).mode & 0o7777;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fchmodSync(fd, mode);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, file);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    rmSync(tmp, { force: true });
    throw e;
  }
}
