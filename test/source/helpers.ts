// Shared by the source patcher tests: fixture copies, hashes, and gcc as the independent
// judge of what value the compiler actually sees.
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';

export const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'patch');
export const K = 'keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR';

export const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Copy fixtures into `dir`; returns their new paths by name. */
export function copyFixtures(dir: string, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    out[n] = path.join(dir, n);
    copyFileSync(path.join(FIXTURES, n), out[n]);
  }
  return out;
}

/** What gcc's preprocessor says `name` expands to in `file` (undefined when not defined). */
export function gccMacro(file: string, name: string, defines: string[] = []): string | undefined {
  const r = spawnSync('gcc', ['-E', '-dM', '-x', 'c', '-I', path.dirname(file), ...defines, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc failed on ${file}: ${r.stderr}`);
  const m = new RegExp(`^#define ${name} (.*)$`, 'm').exec(r.stdout);
  return m?.[1];
}
