// Test harness: compiles C with gcc under the strictest flags the issue names and reads
// back the bytes of string macros as hex, so comparisons with the inputs are exact.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export const STRICT_FLAGS = ['-Wall', '-Wextra', '-Werror', '-pedantic', '-Wtrigraphs'];
export const STANDARDS = ['-std=c99', '-std=c11'];

/** Prelude: dump(name, ptr, size) prints `name=<hex>` (or `name=NULL`). */
export const DUMP_PRELUDE = `#include <stddef.h>
#include <stdio.h>
#define STR_(x) #x
#define STR(x) STR_(x)
static void dump(const char *name, const char *s, size_t n)
{
    size_t i;
    fputs(name, stdout);
    fputc('=', stdout);
    if (s == NULL) {
        fputs("NULL\\n", stdout);
        return;
    }
    for (i = 0; i < n; i++) {
        printf("%02x", (unsigned int)(unsigned char)s[i]);
    }
    fputc('\\n', stdout);
}
/* Works for a string literal (its size includes the final NUL) and for NULL. */
#define DUMP(m) do { const char *p_ = m; dump(#m, p_, sizeof(m) - 1); } while (0)
`;

/** Compile `source` in `dir` with gcc and the given standard, run it, return name -> value lines. */
export function compileAndRun(dir: string, source: string, std: string, includeDirs: string[] = []): Map<string, string> {
  const c = path.join(dir, 'dump.c');
  const exe = path.join(dir, `dump-${std.replace(/\W/g, '')}`);
  writeFileSync(c, source);
  try {
    execFileSync('gcc', [std, ...STRICT_FLAGS, ...includeDirs.map((d) => `-I${d}`), '-o', exe, c], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer };
    throw new Error(`gcc ${std} failed:\n${err.stderr?.toString().slice(0, 4000)}`);
  }
  const out = execFileSync(exe, { encoding: 'utf8' });
  const values = new Map<string, string>();
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) values.set(line.slice(0, i), line.slice(i + 1));
  }
  return values;
}

export const hex = (b: string | Uint8Array) => Buffer.from(b as never).toString('hex');
