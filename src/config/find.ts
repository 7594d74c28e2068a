// Locating the config file without reading it: cheap (no yaml, no zod), for callers that only
// need the project root, such as the checks run before every command.
import path from 'node:path';
import { promises as fs } from 'node:fs';

export const CONFIG_NAMES = ['keyprov.config.yaml', 'keyprov.config.yml', 'keyprov.config.json'];

/** Walk up from `from` looking for a config file. */
export async function findConfigFile(from: string): Promise<string | undefined> {
  let dir = path.resolve(from);
  for (;;) {
    for (const name of CONFIG_NAMES) {
      const f = path.join(dir, name);
      try {
        await fs.access(f);
        return f;
      } catch {
        /* keep looking */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
