// The CLI's no-op check for `keyprov render` run before every build. After a full render it
// records which files went in (config, PEMs, templates, template folders) and a digest of
// their bytes, plus the hash of each header written. Next time, if the same command line
// finds the same bytes and the same headers, it answers "up to date" without parsing the
// config (yaml + zod) or loading Handlebars. Anything different takes the full path.
// Only digests are stored: no certificate, key or password.
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { stateDir } from '../project.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { sha256 } from './banner.js';
import { renderKey } from './cache.js';

export interface StampInputs {
  /** Files whose bytes decide the output. A missing file counts as its own state. */
  files: string[];
  /** Folders whose listing decides the output (template folders: a new file adds a header). */
  dirs: string[];
  /** Environment variables the config interpolates (their values go into the digest only). */
  env: string[];
}

export interface StampResult {
  mode: 'in-place' | 'out-dir';
  dir: string;
  board: string;
  /** Absolute header path -> SHA-256 of its content. */
  outputs: Record<string, string>;
}

interface StampEntry extends StampResult {
  inputs: StampInputs;
  digest: string;
}

/** A hit: the recorded result and the inputs it was made from (for a depfile). */
export type StampHit = StampResult & { inputs: StampInputs };

const stampFile = (root: string) => path.join(stateDir(root), 'render-inputs.json');

async function readStamps(root: string): Promise<Record<string, StampEntry>> {
  try {
    const s = JSON.parse(await fs.readFile(stampFile(root), 'utf8'));
    return s && typeof s === 'object' ? s : {};
  } catch {
    return {};
  }
}

async function digest(inputs: StampInputs, env: NodeJS.ProcessEnv): Promise<string> {
  const files = await Promise.all(inputs.files.map((f) => fs.readFile(f).then((b) => sha256(b.toString('latin1')), () => null)));
  const dirs = await Promise.all(inputs.dirs.map((d) => fs.readdir(d).then((n) => n.sort(), () => null)));
  return renderKey({ files: inputs.files.map((f, i) => [f, files[i]]), dirs: inputs.dirs.map((d, i) => [d, dirs[i]]), env: inputs.env.map((n) => [n, env[n] ?? null]) });
}

/** `${env:NAME}` references in the config text. */
export function envReferences(configText: string): string[] {
  return [...new Set([...configText.matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]!))].sort();
}

/** The recorded result when nothing that goes into the headers changed and the headers are as written; else undefined. */
export async function stampedResult(root: string, commandKey: string, env: NodeJS.ProcessEnv): Promise<StampHit | undefined> {
  const e = (await readStamps(root))[commandKey];
  if (!e || typeof e.digest !== 'string' || !e.inputs || !e.outputs) return undefined;
  if ((await digest(e.inputs, env)) !== e.digest) return undefined;
  for (const [file, hash] of Object.entries(e.outputs)) {
    const text = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined || sha256(text) !== hash) return undefined;
  }
  return { mode: e.mode, dir: e.dir, board: e.board, outputs: e.outputs, inputs: e.inputs };
}

/** Best effort: a state folder that cannot be written (read-only checkout) only costs the shortcut. Returns whether it recorded. */
export async function recordStamp(root: string, commandKey: string, inputs: StampInputs, env: NodeJS.ProcessEnv, result: StampResult): Promise<boolean> {
  try {
    const stamps = await readStamps(root);
    const entry: StampEntry = { ...result, inputs, digest: await digest(inputs, env) };
    if (JSON.stringify(stamps[commandKey]) === JSON.stringify(entry)) return true;
    stamps[commandKey] = entry;
    await fs.mkdir(stateDir(root), { recursive: true });
    await writeFileAtomic(stampFile(root), JSON.stringify(stamps, null, 2) + '\n');
    return true;
  } catch {
    return false;
  }
}
