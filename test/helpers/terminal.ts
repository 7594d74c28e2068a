// A terminal model for tests of live output: replay the bytes keyprov wrote to a fake TTY
// and look at the final screen.
import assert from 'node:assert/strict';

/** Enough of a VT100 for what keyprov writes: text, \r, \n, ESC[nA, ESC[2K, ESC[K, ESC[0J, ESC[...m. */
export function screen(bytes: string): string[] {
  const rows: string[][] = [[]];
  let r = 0;
  let c = 0;
  const row = () => (rows[r] ??= []);
  for (let i = 0; i < bytes.length; i++) {
    const ch = bytes[i]!;
    if (ch === '\n') {
      r++; // a tty's onlcr: LF is CR LF
      c = 0;
      row();
    } else if (ch === '\r') c = 0;
    else if (ch === '\x1b') {
      const m = /^\x1b\[([0-9;?]*)([A-Za-z])/.exec(bytes.slice(i));
      assert.ok(m, `unknown escape at ${JSON.stringify(bytes.slice(i, i + 8))}`);
      i += m[0].length - 1;
      const n = m[1] === '' ? undefined : Number(m[1]);
      switch (m[2]) {
        case 'A':
          r = Math.max(0, r - (n ?? 1));
          break;
        case 'K':
          if (n === 2) rows[r] = [];
          else row().length = Math.min(row().length, c);
          break;
        case 'J':
          assert.ok(!n, 'only ESC[0J (erase below) is modelled');
          row().length = Math.min(row().length, c);
          rows.length = r + 1;
          break;
        case 'm':
          break;
        default:
          assert.fail(`unmodelled escape ESC[${m[1]}${m[2]}`);
      }
    } else {
      const line = row();
      while (line.length < c) line.push(' ');
      line[c++] = ch;
    }
  }
  return rows.map((l) => l.join('').trimEnd()).filter((l) => l !== '');
}
