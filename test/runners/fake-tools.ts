// Helpers for tests that drive the fake vendor CLIs in test/fixtures/fake-tools.
import path from 'node:path';
import { readFileSync, existsSync } from 'node:fs';
import { REPO_ROOT } from '../helpers/cli.js';

export const FAKE_TOOLS = path.join(REPO_ROOT, 'test/fixtures/fake-tools');

export interface FakeCall {
  tool: string;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  files: Record<string, string>;
}

/** An environment with the fake tools first on PATH and their calls recorded in `logFile`. */
export function fakeEnv(logFile: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${FAKE_TOOLS}${path.delimiter}${process.env.PATH ?? ''}`, FAKE_TOOL_LOG: logFile, FAKE_TOOL_FAIL: '', FAKE_TOOL_HANG: '', FAKE_PROBES: '', ...extra };
}

export function calls(logFile: string): FakeCall[] {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as FakeCall);
}
