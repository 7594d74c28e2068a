// Finding programs on PATH without spawning a shell.
import path from 'node:path';
import { accessSync, constants } from 'node:fs';

export function searchPath(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.PATH ?? '').split(path.delimiter).filter(Boolean);
}

/** Absolute path of `cmd` (or `cmd` itself when it contains a slash and is executable); undefined when not found. */
export function which(cmd: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string | undefined {
  const candidates = cmd.includes('/') ? [path.resolve(cwd, cmd)] : searchPath(env).map((d) => path.join(d, cmd));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  return undefined;
}
