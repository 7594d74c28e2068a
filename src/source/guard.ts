// Guard mode: the definition becomes an overridable default,
//   #ifndef NAME
//   #define NAME 0
//   #endif
// after which the phase is a compile definition (-DNAME=1) and parallel per-board builds
// never share a mutated source. The guarded form stays in the tree: at 0 it is safe.
import type { SwitchDefinition } from './select.js';
import { spliceBytes } from './value.js';

export type Phase = 'keygen' | 'credential';

/** Compiler flags that select the phase once the source is guarded. */
export function guardCflags(macro: string, phase: Phase): string[] {
  return [`-D${macro}=${phase === 'keygen' ? 1 : 0}`];
}

/** The file's bytes with `def` wrapped in `#ifndef`/`#endif` and its value set to 0. Line endings and indentation follow the definition's own line. */
export function guardDefinition(buf: Buffer, def: SwitchDefinition): Buffer {
  const eol = buf[def.lineEnd] === 0x0d ? '\r\n' : '\n';
  const indent = /^[ \t]*/.exec(buf.subarray(def.lineStart, def.lineEnd).toString('latin1'))![0];
  const line = spliceBytes(buf.subarray(def.lineStart, def.lineEnd), def.digitAt - def.lineStart, def.digitAt - def.lineStart + 1, '0');
  const wrapped = Buffer.concat([Buffer.from(`${indent}#ifndef ${def.name}${eol}`, 'latin1'), line, Buffer.from(`${eol}${indent}#endif`, 'latin1')]);
  return Buffer.concat([buf.subarray(0, def.lineStart), wrapped, buf.subarray(def.lineEnd)]);
}
