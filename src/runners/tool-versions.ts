// Which tools made an image or a provisioning run: recorded in images' manifests and in
// provision's report.json so a board's credentials can be traced to the toolchain.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runTool } from './exec.js';

let pkgVersion: string | undefined;

/** keyprov's own version (package.json). */
export function keyprovVersion(): string {
  pkgVersion ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return pkgVersion;
}

/** The program build.command runs: its first word (after any VAR=value), or argv[0]. */
export function buildTool(command: string | readonly string[]): string {
  if (Array.isArray(command)) return command[0]!;
  const words = (command as string).trim().split(/\s+/);
  return words.find((w) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) ?? words[0]!;
}

/** First non-empty line of `<exe> --version`, or undefined when it does not answer. */
export async function versionLine(exe: string, opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<string | undefined> {
  try {
    const r = await runTool([exe, '--version'], { label: `${path.basename(exe)} --version`, cwd: opts.cwd, baseEnv: opts.env ?? process.env, timeoutMs: opts.timeoutMs ?? 10_000 });
    return `${r.stdout}\n${r.stderr}`.split(/\r?\n/).find((l) => l.trim())?.trim().slice(0, 200);
  } catch {
    return undefined;
  }
}
