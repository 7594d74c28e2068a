// A provisioning rig for end-to-end tests: a copy of the virtual board's firmware as the
// project, a lab CA made with keyprov's own PKI, Mosquitto with mutual TLS trusting that
// CA, and powered virtual boards listed in keyprov.config.yaml.
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { tmpDir } from './tmp.js';
import { VBOARD_DIR, startBoard, type Board } from './vboard.js';
import { startMosquitto, type Mosquitto } from './mosquitto.js';
import { createCa } from '../../src/pki/ca-create.js';

interface After {
  after(fn: () => unknown): void;
}

export interface Rig {
  root: string;
  configFile: string;
  boards: Board[];
  boardIds: string[];
  mosquitto: Mosquitto;
  /** sha256 of every file of the firmware tree except keyprov's state, build output and board folders. */
  sourceHashes(): Record<string, string>;
}

export interface RigOptions {
  boards?: number;
  /** Extra YAML appended to the config (e.g. a provision: section). */
  extraConfig?: string;
  /** Replace build.command. */
  buildCommand?: string;
  thingTemplate?: string;
}

const SKIP = /^(\.keyprov|build.*|\.vboard|boards)$/;

function hashTree(root: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(path.join(root, rel))) {
    if (!rel && SKIP.test(name)) continue;
    const r = path.join(rel, name);
    const st = statSync(path.join(root, r));
    if (st.isDirectory()) Object.assign(out, hashTree(root, r));
    else out[r] = createHash('sha256').update(readFileSync(path.join(root, r))).digest('hex') + ` ${(st.mode & 0o777).toString(8)}`;
  }
  return out;
}

export async function makeRig(t: After, opts: RigOptions = {}): Promise<Rig> {
  const root = tmpDir(t, 'keyprov-rig-');
  cpSync(VBOARD_DIR, root, { recursive: true, filter: (src) => !/[/\\](build[^/\\]*|\.vboard|\.keyprov)$/.test(src) });
  await createCa({ projectRoot: root, subject: 'CN=keyprov test lab CA' });
  const mosquitto = await startMosquitto(t, { deviceCaFile: path.join(root, '.keyprov/ca.pem') });
  const n = opts.boards ?? 1;
  const boards: Board[] = [];
  const ids: string[] = [];
  for (let i = 1; i <= n; i++) {
    const dir = path.join(root, 'boards', `b${i}`);
    mkdirSync(dir, { recursive: true });
    boards.push(await startBoard(t, { dir, rootCa: mosquitto.broker.caFile }));
    ids.push(`b${i}`);
  }
  const configFile = path.join(root, 'keyprov.config.yaml');
  writeFileSync(
    configFile,
    [
      'firmware:',
      '  root: .',
      '  provisioningSource: src/aws_dev_mode_key_provisioning.c',
      'build:',
      `  command: ${JSON.stringify(opts.buildCommand ?? 'make -s OUT=build GENERATED_DIR="$KEYPROV_GENERATED_DIR" VBOARD_DEFINES="$KEYPROV_CFLAGS"')}`,
      '  image: build/vboard-firmware',
      'flash:',
      '  runner: vboard',
      '  options:',
      '    vboard: ./vboard',
      'credentials:',
      '  endpoint: localhost',
      `  thingName: ${JSON.stringify(opts.thingTemplate ?? 'lab-{{id}}')}`,
      `  mqttPort: ${mosquitto.port}`,
      'boards:',
      ...ids.flatMap((id) => [`  - id: ${id}`, `    serial: { port: boards/${id}/tty }`, `    flash: { options: { boardDir: boards/${id} } }`]),
      opts.extraConfig ?? '',
      '',
    ].join('\n'),
  );
  return { root, configFile, boards, boardIds: ids, mosquitto, sourceHashes: () => hashTree(root) };
}
