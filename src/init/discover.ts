// Looks through a firmware tree for what keyprov needs to know: the file that defines
// the keygen macro (found with the same C parser as `keyprov patch`, so copies in comments,
// strings and `#if 0` do not count), the folder of the credential headers, and the build system.
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { DEFAULT_KEYGEN_MACROS } from '../config/sections/firmware.js';
import { isKeyprovError } from '../errors.js';

export const SKIP_DIRS = new Set(['.git', '.hg', '.svn', 'node_modules', '.keyprov', 'dist', '.venv', '__pycache__']);
/** Build output folders are skipped: they hold copies of the sources. */
export function isSkippedDir(name: string): boolean {
  return SKIP_DIRS.has(name) || /^(build|cmake-build-.*|out|_build)$/i.test(name);
}

export type BuildSystem = 'cmake' | 'make' | 'idf' | 'west';

export interface Discovery {
  root: string;
  /** Files with an uncommented `#define <macro>` line, with the line number. */
  macroDefinitions: { file: string; line: number; macro: string; value: string }[];
  /**
   * What `keyprov patch` would change, chosen by the patcher's own rules (select.ts): the
   * one active 0/1 definition, following an alias such as
   * `#define keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR FORCE_GENERATE_NEW_KEY_PAIR` to the header that holds the value.
   */
  switch?: { file: string; line: number; macro: string; value: string; aliases: { file: string; line: number; macro: string; value: string }[] };
  /** Why there is no `switch` (ambiguous, alias target missing, value not 0/1), as the patcher would say it. */
  switchProblem?: { code: string; message: string; hint?: string };
  /** Files for firmware.provisioningSource: the switch's file, then the files of its aliases. */
  provisioningSources: string[];
  headerDirs: string[];
  buildSystems: BuildSystem[];
  filesScanned: number;
}

export async function walkSourceFiles(root: string, onFile: (file: string) => Promise<void> | void, exts = /\.(c|h|cpp|hpp|cc|hh)$/i): Promise<void> {
  const stack = [root];
  while (stack.length) {
    const dir = stack.pop()!;
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!isSkippedDir(e.name)) stack.push(p);
      } else if (e.isFile() && exts.test(e.name)) {
        await onFile(p);
      }
    }
  }
}

export async function discover(root: string, macros: string[] = DEFAULT_KEYGEN_MACROS): Promise<Discovery> {
  const out: Discovery = { root, macroDefinitions: [], provisioningSources: [], headerDirs: [], buildSystems: [], filesScanned: 0 };
  const headerDirs = new Set<string>();
  await walkSourceFiles(root, (file) => void headerDirs.add(path.dirname(file)), /^aws_clientcredential(_keys)?\.h$/);
  const { discoverDefinitions } = await import('../source/find.js');
  const found = await discoverDefinitions({ searchRoot: root, names: macros });
  out.filesScanned = found.searched.length;
  for (const d of found.definitions) if (d.active) out.macroDefinitions.push({ file: d.file, line: d.line, macro: d.name, value: d.value });
  if (found.definitions.length) {
    const { selectSwitch } = await import('../source/select.js');
    try {
      const sw = selectSwitch(found, macros, root);
      const aliases = sw.aliases.map((a) => ({ file: a.file, line: a.line, macro: a.name, value: a.value }));
      out.switch = { file: sw.file, line: sw.line, macro: sw.name, value: sw.value, aliases };
      out.provisioningSources = [...new Set([sw.file, ...aliases.map((a) => a.file)])];
    } catch (e) {
      if (!isKeyprovError(e)) throw e;
      out.switchProblem = { code: e.code, message: e.message, hint: e.hint };
    }
  }
  out.headerDirs = [...headerDirs].sort();
  const has = async (f: string) => fs.access(path.join(root, f)).then(() => true, () => false);
  if (await has('CMakeLists.txt')) out.buildSystems.push('cmake');
  if ((await has('Makefile')) || (await has('makefile')) || (await has('GNUmakefile'))) out.buildSystems.push('make');
  if ((await has('sdkconfig')) || (await has('sdkconfig.defaults'))) out.buildSystems.push('idf');
  if ((await has('west.yml')) || (await has('prj.conf'))) out.buildSystems.push('west');
  out.macroDefinitions.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  return out;
}
