// The values keyprov agrees to change. Anything else (another macro, an expression)
// means the real switch lives elsewhere, and guessing would patch the wrong thing.

/** `0`, `1`, `(0)`, `( 1 )`: the offset of the digit inside the value, and the digit. */
export function parseSwitchValue(value: string): { digit: 0 | 1; offset: number } | undefined {
  const m = /^(\(\s*)?([01])(\s*\))?$/.exec(value);
  if (!m || !!m[1] !== !!m[3]) return undefined;
  return { digit: m[2] === '1' ? 1 : 0, offset: (m[1] ?? '').length };
}

/** A delay in seconds: `180`, `( 180 )`, `180U`. The offset and length of the digits. */
export function parseSecondsValue(value: string): { seconds: number; offset: number; length: number } | undefined {
  const m = /^(\(\s*)?(\d+)([uUlL]*)(\s*\))?$/.exec(value);
  if (!m || !!m[1] !== !!m[4]) return undefined;
  return { seconds: Number(m[2]), offset: (m[1] ?? '').length, length: m[2].length };
}

/** Replace bytes [start, end) of `buf` with ASCII `text`. */
export function spliceBytes(buf: Buffer, start: number, end: number, text: string): Buffer {
  return Buffer.concat([buf.subarray(0, start), Buffer.from(text, 'latin1'), buf.subarray(end)]);
}
