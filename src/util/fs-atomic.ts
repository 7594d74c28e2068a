// Writes that never leave a half-written file and never touch an unchanged one
// (an unchanged mtime is what keeps make and CMake from recompiling).
import { promises as fs, constants as fsc } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeTarget } from './write-target.js';

export interface AtomicWriteOptions {
  /** File mode for a new file. An existing file keeps its own mode unless this is set and `forceMode` is true. */
  mode?: number;
  forceMode?: boolean;
}

/**
 * Write to a temporary file beside `file`, fsync, then rename over it. Keeps the mode of an
 * existing file. A symlink stays a symlink: the file it points to is replaced (write-target.ts).
 */
export async function writeFileAtomic(link: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const file = await writeTarget(link);
  const dir = path.dirname(file);
  let mode = opts.mode ?? 0o644;
  if (!opts.forceMode) {
    try {
      mode = (await fs.stat(file)).mode & 0o7777;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  // Create with a restrictive mode first so secrets are never briefly world-readable.
  const fh = await fs.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
  try {
    await fh.writeFile(data);
    await fh.chmod(mode);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/** Like writeFileAtomic, but does nothing when the file already holds exactly `data`. Returns whether it wrote. */
export async function writeIfChanged(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<boolean> {
  const want = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  try {
    const have = await fs.readFile(file);
    if (have.equals(want)) {
      if (opts.forceMode && opts.mode !== undefined) {
        const st = await fs.stat(file);
        if ((st.mode & 0o7777) !== opts.mode) await fs.chmod(file, opts.mode);
      }
      return false;
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await writeFileAtomic(file, want, opts);
  return true;
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}
