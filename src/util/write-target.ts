// Where a write to `file` must land. The atomic writers rename a temporary file over the
// target; renaming over a symlink would replace the link with a regular file, so a build
// that compiles the link's target would silently keep the old bytes. Writing to the end of
// the link chain keeps the link a link (what `sed -i --follow-symlinks` or an editor does).
import { lstatSync, readlinkSync, promises as fs } from 'node:fs';
import path from 'node:path';

const MAX_LINKS = 40; // Linux's own limit (ELOOP)

function tooManyLinks(file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`too many levels of symbolic links: ${file}`), { code: 'ELOOP' });
}

/**
 * The file a write to `file` should replace: `file` itself unless it is a symlink, else the
 * end of its link chain (which may not exist yet: a dangling link gets its target created).
 * Only the last path component is followed; symlinked folders need nothing (the rename
 * happens inside whatever folder they point to).
 */
export function writeTargetSync(file: string): string {
  let p = path.resolve(file);
  for (let i = 0; i < MAX_LINKS; i++) {
    try {
      if (!lstatSync(p).isSymbolicLink()) return p;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return p;
      throw e;
    }
    p = path.resolve(path.dirname(p), readlinkSync(p));
  }
  throw tooManyLinks(file);
}

/** Async writeTargetSync. */
export async function writeTarget(file: string): Promise<string> {
  let p = path.resolve(file);
  for (let i = 0; i < MAX_LINKS; i++) {
    try {
      if (!(await fs.lstat(p)).isSymbolicLink()) return p;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return p;
      throw e;
    }
    p = path.resolve(path.dirname(p), await fs.readlink(p));
  }
  throw tooManyLinks(file);
}
