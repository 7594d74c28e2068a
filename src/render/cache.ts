// Remembers, per output folder, a hash of everything that goes into the headers and the
// hash of each header written. When both still match, `keyprov render` answers "up to
// date" without loading Handlebars (its compiler is most of the render path's start-up).
// Only hashes are stored: no certificate or key material.
import path from 'node:path';
import { promises as fs, readFileSync } from 'node:fs';
import { stateDir } from '../project.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { sha256 } from './banner.js';

interface CacheEntry {
  /** Hash of the templates, values and banner inputs. */
  key: string;
  /** Output file name -> SHA-256 of its full content. */
  files: Record<string, string>;
}
type Cache = Record<string, CacheEntry>;

const cacheFile = (root: string) => path.join(stateDir(root), 'render-cache.json');

/** Bump when the rendering itself changes, so that old cache entries stop matching. */
const RENDERER_VERSION = 2;
let packageVersion: string | undefined;

export function renderKey(parts: unknown): string {
  packageVersion ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return sha256(JSON.stringify({ renderer: RENDERER_VERSION, keyprov: packageVersion, parts }));
}

async function read(root: string): Promise<Cache> {
  try {
    const c = JSON.parse(await fs.readFile(cacheFile(root), 'utf8'));
    return c && typeof c === 'object' ? (c as Cache) : {};
  } catch {
    return {}; // missing or damaged: a full render rebuilds it
  }
}

/** True when the cache says `key` renders to exactly the files now in `dir`. */
export async function upToDate(root: string, dir: string, key: string, outputs: string[]): Promise<boolean> {
  const e = (await read(root))[dir];
  if (!e || e.key !== key || outputs.some((o) => !e.files[o])) return false;
  for (const o of outputs) {
    let text: string;
    try {
      text = await fs.readFile(path.join(dir, o), 'utf8');
    } catch {
      return false;
    }
    if (sha256(text) !== e.files[o]) return false;
  }
  return true;
}

/** Best effort: a state folder that cannot be written only costs the shortcut. */
export async function remember(root: string, dir: string, key: string, files: Record<string, string>): Promise<void> {
  try {
    const c = await read(root);
    const entry: CacheEntry = { key, files: Object.fromEntries(Object.entries(files).map(([n, text]) => [n, sha256(text)])) };
    if (JSON.stringify(c[dir]) === JSON.stringify(entry)) return;
    c[dir] = entry;
    await fs.mkdir(stateDir(root), { recursive: true });
    await writeFileAtomic(cacheFile(root), JSON.stringify(c, null, 2) + '\n');
  } catch {
    /* the next run renders in full */
  }
}
