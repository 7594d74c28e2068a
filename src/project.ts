// Where a project's state lives: `.keyprov/` at the project root, which is the config
// file's folder, else the git root, else the current directory.
import path from 'node:path';
import { existsSync, statSync } from 'node:fs';

export const STATE_DIR_NAME = '.keyprov';

export function findGitRoot(from: string): string | undefined {
  let dir = path.resolve(from);
  for (;;) {
    if (existsSync(path.join(dir, '.git'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

export function projectRoot(opts: { configFile?: string; cwd?: string }): string {
  if (opts.configFile) return path.dirname(path.resolve(opts.configFile));
  const cwd = opts.cwd ?? process.cwd();
  return findGitRoot(cwd) ?? path.resolve(cwd);
}

export function stateDir(root: string): string {
  return path.join(root, STATE_DIR_NAME);
}

/** Per-board artifacts: console logs, public key, certificate, report. */
export function boardStateDir(root: string, boardId: string): string {
  return path.join(stateDir(root), 'boards', boardId);
}

/** The patch journal (see src/source/). Its presence with pending entries means a keygen patch is in place. */
export function patchJournalPath(root: string): string {
  return path.join(stateDir(root), 'patch-journal.json');
}

export function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The account's AWS IoT data endpoint recorded by `keyprov aws register` (one line). The state
 * store holds it too; this copy lets `keyprov render` read it without loading SQLite.
 */
export function awsEndpointPath(root: string): string {
  return path.join(stateDir(root), 'aws-endpoint');
}

/** Held by `keyprov provision` while its keygen patch is in the tree (see src/pipeline/patch-lock.ts). */
export function pipelinePatchLockPath(root: string): string {
  return path.join(stateDir(root), 'pipeline-patch.lock');
}

/** Canonical file names in the state folder, shared by capture, pki, render and the pipeline. */
export function caFiles(root: string): { cert: string; key: string } {
  return { cert: path.join(stateDir(root), 'ca.pem'), key: path.join(stateDir(root), 'ca.key') };
}

export function boardFiles(root: string, boardId: string) {
  const dir = boardStateDir(root, boardId);
  return {
    dir,
    publicKeyDer: path.join(dir, 'device-public-key.der'),
    publicKeyPem: path.join(dir, 'device-public-key.pem'),
    /** Recommended CN printed by boards with a secure element, when seen. */
    captureJson: path.join(dir, 'capture.json'),
    certificate: path.join(dir, 'device-cert.pem'),
    /** Device certificate followed by the CA certificate (for JITP). */
    chain: path.join(dir, 'device-chain.pem'),
    consoleLog: (phase: string) => path.join(dir, `console-${phase}.log`),
    report: path.join(dir, 'report.json'),
    /** Generated credential headers for out-of-tree builds of this board. */
    generatedDir: path.join(dir, 'generated'),
  };
}
