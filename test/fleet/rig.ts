// A rack of virtual boards for the fleet tests: a copy of the virtual board's firmware as
// the project (so edit-mode patching changes a throwaway tree), a lab CA made by keyprov,
// Debian's Mosquitto with mutual TLS, N powered boards, and a config listing them.
import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { startBoard, VBOARD_DIR, VBOARD_BIN, type Board } from '../helpers/vboard.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';

export interface Rig {
  root: string;
  boards: Board[];
  ids: string[];
  broker: Mosquitto;
  cli(args: string[], timeoutMs?: number): ReturnType<typeof runCli>;
  /** Rewrite the config, optionally edited (e.g. to break one board). */
  writeConfig(edit?: (c: any) => void): void;
}

export interface RigOptions {
  patchMode?: 'edit' | 'guard';
  /** Credential builds one at a time in the tree (no fleet.image). */
  inTree?: boolean;
}

export async function startRig(t: TestContext, n: number, opts: RigOptions = {}): Promise<Rig> {
  const root = tmpDir(t, 'keyprov-fleet-');
  cpSync(VBOARD_DIR, root, { recursive: true, filter: (src) => !/[/\\](build[^/\\]*|\.vboard|\.keyprov)$/.test(src) });
  const cli = (args: string[], timeoutMs = 120_000) => runCli(args, { cwd: root, timeoutMs });
  const ca = await cli(['ca', 'create', '--subject', 'CN=fleet test CA']);
  if (ca.code !== 0) throw new Error(`ca create failed: ${ca.stderr}`);
  const broker = await startMosquitto(t, { deviceCaFile: path.join(root, '.keyprov', 'ca.pem') });
  const ids = Array.from({ length: n }, (_, i) => `b${i + 1}`);
  const boards = await Promise.all(ids.map(() => startBoard(t, { rootCa: broker.broker.caFile })));
  const config = {
    firmware: { root: '.', provisioningSource: 'src/aws_dev_mode_key_provisioning.c' },
    build: opts.inTree
      ? { command: 'make -s OUT=build GENERATED_DIR="$KEYPROV_GENERATED_DIR" VBOARD_DEFINES="$KEYPROV_CFLAGS"', image: 'build/vboard-firmware' }
      : { command: 'make -s OUT="$KEYPROV_BUILD_DIR" GENERATED_DIR="$KEYPROV_GENERATED_DIR" VBOARD_DEFINES="$KEYPROV_CFLAGS"' },
    ...(opts.inTree ? {} : { fleet: { image: '{{buildDir}}/vboard-firmware' } }),
    flash: { runner: 'vboard', options: { vboard: VBOARD_BIN } },
    credentials: { endpoint: 'localhost', thingName: 'lab-{{id}}', mqttPort: broker.port },
    provision: { patchMode: opts.patchMode ?? 'edit', verify: { timeout: 30 } },
    boards: ids.map((id, i) => ({ id, serial: { port: boards[i]!.tty, timeout: 30 }, flash: { options: { boardDir: boards[i]!.dir } } })),
  };
  const writeConfig = (edit: (c: typeof config) => void = () => {}) => {
    const c = structuredClone(config);
    edit(c);
    writeFileSync(path.join(root, 'keyprov.config.yaml'), JSON.stringify(c, null, 2)); // JSON is YAML
  };
  writeConfig();
  return { root, boards, ids, broker, cli, writeConfig };
}
