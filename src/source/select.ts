// Choosing THE definition to change among everything discovery found. keyprov refuses
// rather than guesses: no active definition, several, or a value it does not understand
// are errors that name every file:line involved.
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { MacroDefinition } from './definitions.js';
import type { Discovery } from './find.js';
import { parseSecondsValue, parseSwitchValue } from './value.js';

export const DELAY_MACRO = 'DELAY_BEFORE_KEY_PAIR_GENERATION_SECS';

const where = (d: MacroDefinition) => `${d.file}:${d.line}`;
const show = (d: MacroDefinition) => `${where(d)}: #define ${d.name} ${d.value}`;

function searchedText(disc: Discovery, searchRoot?: string): string {
  if (searchRoot && disc.searched.length > 3) return `${disc.searched.length} C/H files under ${searchRoot}`;
  return disc.searched.join(', ') || '(no files)';
}

/** Active definitions of `names`; for a name defined both plainly and as an `#ifndef` default, the plain one. */
function effective(defs: MacroDefinition[], names: readonly string[]): MacroDefinition[] {
  const bad = defs.filter((d) => d.unparsable && names.includes(d.name));
  if (bad.length) {
    throw new UsageError('PATCH_UNPARSABLE', `the C parser cannot read ${bad.map(show).join('; ')}`, {
      hint: 'move any comment out of the value (after it is fine: `#define NAME 0 /* ... */`), or pass the file your build uses with --source',
      details: { definitions: bad.map((d) => ({ file: d.file, line: d.line, name: d.name })) },
    });
  }
  const active = defs.filter((d) => d.active && names.includes(d.name));
  return active.filter((d) => !d.guarded || !active.some((o) => o.name === d.name && !o.guarded));
}

export interface SwitchDefinition extends MacroDefinition {
  digit: 0 | 1;
  /** Byte offset of the 0/1 digit. */
  digitAt: number;
  /** Definitions that just forward to this one (`#define A B`), reported for information. */
  aliases: MacroDefinition[];
}

/** The one active definition of the keygen switch, with a 0/1 value. */
export function selectSwitch(disc: Discovery, names: readonly string[], searchRoot?: string): SwitchDefinition {
  const all = effective(disc.definitions, names);
  // `#define keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR FORCE_GENERATE_NEW_KEY_PAIR` forwards to the real switch.
  const aliases = all.filter((d) => names.includes(d.code) && d.code !== d.name);
  const found = all.filter((d) => !aliases.includes(d));
  if (found.length === 0) {
    if (aliases.length) {
      throw new UsageError('PATCH_ALIAS_TARGET_NOT_FOUND', `${aliases.map(show).join('; ')}, but no active definition of ${[...new Set(aliases.map((a) => a.code))].join(', ')} was found in ${searchedText(disc, searchRoot)}`, {
        hint: 'pass the header that defines it with --source (repeatable)',
      });
    }
    const inactive = disc.definitions.filter((d) => names.includes(d.name));
    throw new UsageError('PATCH_DEFINITION_NOT_FOUND', `no active #define of ${names.join(' or ')} in ${searchedText(disc, searchRoot)}${inactive.length ? ` (inactive, e.g. under #if 0: ${inactive.map(where).join(', ')})` : ''}`, {
      hint: 'pass the file that defines it with --source, or its name with --macro (both repeatable)',
      details: { names, searched: disc.searched.length, inactive: inactive.map(where) },
    });
  }
  if (found.length > 1) {
    const sameFile = new Set(found.map((d) => d.file)).size === 1;
    throw new UsageError('PATCH_AMBIGUOUS', `${found.length} active definitions of the keygen switch: ${found.map(show).join('; ')}`, {
      hint: sameFile
        ? `keep a single active definition in ${path.basename(found[0].file)} (or put the others under #if 0), or name the one you mean with --macro`
        : 'name the file your build uses with --source (and/or the macro with --macro)',
      details: { definitions: found.map((d) => ({ file: d.file, line: d.line, name: d.name, value: d.value })) },
    });
  }
  const d = found[0];
  const v = parseSwitchValue(d.code);
  if (!v) {
    throw new UsageError('PATCH_VALUE_UNSUPPORTED', `${where(d)}: ${d.name} is defined as \`${d.value || '(nothing)'}\`, not 0 or 1`, {
      hint: `keyprov only switches a literal 0/1; set ${d.value || d.name} by hand for the keygen build, or point --source/--macro at the definition that holds 0 or 1`,
      details: { file: d.file, line: d.line, name: d.name, value: d.value },
    });
  }
  return { ...d, digit: v.digit, digitAt: d.valueStart + v.offset, aliases };
}

export interface DelayDefinition extends MacroDefinition {
  seconds: number;
  digitsAt: number;
  digitsEnd: number;
}

/** The one active definition of DELAY_BEFORE_KEY_PAIR_GENERATION_SECS with a number value. */
export function selectDelay(disc: Discovery, searchRoot?: string): DelayDefinition {
  const found = effective(disc.definitions, [DELAY_MACRO]);
  if (found.length !== 1) {
    throw new UsageError(found.length ? 'DELAY_AMBIGUOUS' : 'DELAY_NOT_FOUND', found.length ? `${found.length} active definitions of ${DELAY_MACRO}: ${found.map(show).join('; ')}` : `--keygen-delay was given but no active #define of ${DELAY_MACRO} is in ${searchedText(disc, searchRoot)}`, {
      hint: found.length ? 'name the file your build uses with --source' : 'drop --keygen-delay (this firmware does not wait), or add the file that defines it with --source',
    });
  }
  const d = found[0];
  const v = parseSecondsValue(d.code);
  if (!v) {
    throw new UsageError('DELAY_VALUE_UNSUPPORTED', `${where(d)}: ${DELAY_MACRO} is defined as \`${d.value}\`, not a number of seconds`, { hint: 'set the delay by hand and drop --keygen-delay' });
  }
  return { ...d, seconds: v.seconds, digitsAt: d.valueStart + v.offset, digitsEnd: d.valueStart + v.offset + v.length };
}
