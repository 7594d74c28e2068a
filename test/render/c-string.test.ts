import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cStringChunks, cStringLiteral, cPemLiteral, cInteger, cIdentifier } from '../../src/render/c-string.js';
import { tmpDir } from '../helpers/tmp.js';
import { compileAndRun, DUMP_PRELUDE, STANDARDS, hex } from './c-harness.js';

test('escapes: quotes, backslashes, trigraph runs, controls, UTF-8, hex digits after escapes', () => {
  assert.equal(cStringLiteral('say "hi" \\ bye'), '"say \\"hi\\" \\\\ bye"');
  assert.equal(cStringLiteral('??=??/???'), '"?\\?=?\\?/?\\?\\?"');
  assert.equal(cStringLiteral('a\tb\x01c'), '"a\\tb\\001c"');
  // é is C3 A9; the "a" after it must stay a separate character (octal escapes stop at 3 digits).
  assert.equal(cStringLiteral('éa1'), '"\\303\\251a1"');
  assert.equal(cStringLiteral(''), '""');
});

test('long values are split between escapes and after each newline, never inside an escape', () => {
  const chunks = cStringChunks('\\'.repeat(100), { maxChunk: 9 });
  for (const c of chunks) assert.ok(!/(^|[^\\])(\\\\)*\\$/.test(c), `chunk ends inside an escape: ${c}`);
  assert.equal(chunks.join('').length, 200);
  assert.deepEqual(cStringChunks('a\nb\n'), ['a\\n', 'b\\n']);
  assert.match(cStringLiteral('x'.repeat(200)), /^\\\n {4}"x+" \\\n/);
});

test('PEM: CRLF becomes LF, a missing final newline is added, one literal per line', () => {
  const lit = cPemLiteral('-----BEGIN X-----\r\nAAAA\r\n-----END X-----');
  assert.equal(lit, '\\\n    "-----BEGIN X-----\\n" \\\n    "AAAA\\n" \\\n    "-----END X-----\\n"');
});

test('numbers and identifiers are validated, never pasted', () => {
  assert.equal(cInteger(8883, { min: 1, max: 65535 }), '8883');
  assert.throws(() => cInteger('8883; int x', {}), /expected an integer/);
  assert.throws(() => cInteger(70000, { max: 65535 }), /<= 65535/);
  assert.throws(() => cInteger(1.5), /expected an integer/);
  assert.equal(cIdentifier('eWiFiSecurityWPA2'), 'eWiFiSecurityWPA2');
  assert.throws(() => cIdentifier('x y'), /C identifier/);
  assert.throws(() => cIdentifier('eWiFiSecurityWPA9', ['eWiFiSecurityWPA2']), /one of/);
});

// Strings that stress every rule; values that gcc gives back must equal the input bytes.
const unit = fc.constantFrom('"', '\\', '?', '??', '=', '(', ')', '/', "'", '<', '>', '!', '-', 'a', 'F', '0', '7', '9', '\t', '\n', '\r', '\x01', '\x1b', '\x7f', 'é', '€', '😀', ' ', '\\x', '%', '$', '@', '`', '*/', '//');
const arbitrary: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.string({ unit, maxLength: 120 }),
  fc.uint8Array({ maxLength: 120 }), // arbitrary bytes, NUL and invalid UTF-8 included
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: fc.constantFrom('A', 'f', '3', '?', '\\', '"', '\xff'), minLength: 300, maxLength: 1500 }), // long lines
);

test('property: 1,200 random strings compiled with gcc (4 batches, c99 and c11) give back identical bytes', (t) => {
  const seed = Number(process.env.KEYPROV_PROPERTY_SEED ?? Date.now() % 2 ** 31);
  const values = fc.sample(arbitrary, { numRuns: 1200, seed }).filter((v) => Buffer.from(v as never).length < 4000); // ISO C's minimum literal length is 4095
  assert.ok(values.length >= 1000, `only ${values.length} values`);
  const dir = tmpDir(t);
  const batches = 4;
  const per = Math.ceil(values.length / batches);
  for (let b = 0; b < batches; b++) {
    const batch = values.slice(b * per, (b + 1) * per);
    const defs = batch.map((v, i) => `#define S${i} ${cStringLiteral(v)}`).join('\n');
    const calls = batch.map((_, i) => `    DUMP(S${i});`).join('\n');
    const src = `${DUMP_PRELUDE}\n${defs}\n\nint main(void)\n{\n${calls}\n    return 0;\n}\n`;
    const std = STANDARDS[b % STANDARDS.length]!;
    const got = compileAndRun(dir, src, std);
    batch.forEach((v, i) => {
      assert.equal(got.get(`S${i}`), hex(v), `seed ${seed}, batch ${b} (${std}), value ${JSON.stringify(typeof v === 'string' ? v : hex(v))}`);
    });
  }
});
