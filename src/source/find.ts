// Finding where a macro is defined: with --source, only the given files; otherwise a walk
// of the firmware tree where a byte search (Buffer.indexOf) rejects almost every file
// before the parser sees it. Only files that mention a wanted name are parsed.
import { closeSync, fstatSync, openSync, promises as fs, readSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { loadCParser } from './parser.js';
import { findDefinitions, type MacroDefinition } from './definitions.js';

export const C_EXTENSIONS = new Set(['.c', '.h', '.cc', '.cpp', '.cxx', '.hpp', '.hh', '.inc']);

/** Folders that hold no sources worth patching: VCS data, dependencies, build output, keyprov's own state. */
export function isSkippedDir(name: string): boolean {
  return name.startsWith('.') || name === 'node_modules' || /^(build|cmake-build)([-_.].*)?$/i.test(name);
}

/** Every C/C++ source or header under `root`, skipping isSkippedDir folders. */
export async function listCFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (e) {
      if (dir === root) throw new UsageError('SEARCH_ROOT_UNREADABLE', `cannot read the firmware tree ${root}: ${(e as Error).message}`, { hint: 'set firmware.root in keyprov.config.yaml or pass --source FILE' });
      return;
    }
    const subdirs: string[] = [];
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!isSkippedDir(e.name)) subdirs.push(p);
      } else if (e.isFile() && C_EXTENSIONS.has(path.extname(e.name).toLowerCase())) out.push(p);
    }
    await Promise.all(subdirs.map(walk));
  };
  await walk(root);
  return out.sort();
}

/**
 * The files among `files` that contain one of `needles`, with their bytes. Reads into one
 * reused buffer: allocating a Buffer per file (readFileSync) cost 3-5x more on a
 * 3,000-file tree, all of it garbage since almost every file is rejected.
 */
function prefilter(files: string[], needles: Buffer[]): { f: string; buf: Buffer }[] {
  let scratch = Buffer.allocUnsafe(1 << 20);
  const hits: { f: string; buf: Buffer }[] = [];
  for (const f of files) {
    const fd = openSync(f, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size > scratch.length) scratch = Buffer.allocUnsafe(size);
      let len = 0;
      for (let n; len < size && (n = readSync(fd, scratch, len, size - len, len)) > 0; ) len += n;
      const view = scratch.subarray(0, len);
      if (needles.some((n) => view.includes(n))) hits.push({ f, buf: Buffer.from(view) });
    } finally {
      closeSync(fd);
    }
  }
  return hits;
}

export interface Discovery {
  /** Files whose bytes were searched. */
  searched: string[];
  /** Files that mention one of the names (and were parsed). */
  candidates: string[];
  /** Every definition of the names in the candidates, active or not, in file order. */
  definitions: MacroDefinition[];
}

export interface DiscoverOptions {
  /** Explicit files (--source or firmware.provisioningSource). Missing ones are an error. */
  files?: string[];
  /** Tree to search when no files are given. */
  searchRoot?: string;
  names: readonly string[];
}

export async function discoverDefinitions(opts: DiscoverOptions): Promise<Discovery> {
  let searched: string[];
  if (opts.files?.length) {
    searched = [];
    const seen = new Set<string>();
    for (const f of opts.files.map((f) => path.resolve(f))) {
      const st = await fs.stat(f).catch(() => undefined);
      if (!st?.isFile()) throw new UsageError('SOURCE_NOT_FOUND', `source file not found: ${f}`, { hint: 'check --source or firmware.provisioningSource in keyprov.config.yaml' });
      // A symlink and its target given together are one file, not two definitions.
      const real = await fs.realpath(f);
      if (!seen.has(real)) searched.push(f);
      seen.add(real);
    }
  } else if (opts.searchRoot) {
    searched = await listCFiles(path.resolve(opts.searchRoot));
  } else {
    throw new UsageError('NO_SOURCE', 'no source file and no folder to search', { hint: 'pass --source FILE, or set firmware.provisioningSource or firmware.root' });
  }
  // A name containing another (keyprovisioningFORCE_... contains FORCE_...) needs no search of its own.
  const needles = opts.names.filter((n) => !opts.names.some((o) => o !== n && n.includes(o))).map((n) => Buffer.from(n, 'latin1'));
  const found = prefilter(searched, needles);
  const definitions: MacroDefinition[] = [];
  if (found.length) {
    const parser = await loadCParser();
    for (const { f, buf } of found) definitions.push(...findDefinitions(parser, f, buf, opts.names));
  }
  return { searched, candidates: found.map((h) => h.f), definitions };
}
