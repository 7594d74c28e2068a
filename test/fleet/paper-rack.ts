// A fleet project with no boards attached (ports are /dev/null): for the fleet commands'
// bad input, dry runs, status and the ledger commands, which never reach a board.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tmpDir } from '../helpers/tmp.js';

export const RACK = {
  build: { command: 'true', image: 'build/fw' },
  flash: { runner: 'vboard' },
  credentials: { endpoint: 'localhost', thingName: 'lab-{{id}}' },
  boards: [
    { id: 'b1', serial: { port: '/dev/null' } },
    { id: 'b2', serial: { port: '/dev/null' } },
  ],
};

/** A temp folder holding `config` (default RACK) as keyprov.config.yaml. */
export function paperProject(t: Parameters<typeof tmpDir>[0], config: object = RACK, prefix = 'keyprov-fleet-cli-'): string {
  const root = tmpDir(t, prefix);
  writeFileSync(path.join(root, 'keyprov.config.yaml'), JSON.stringify(config));
  return root;
}
