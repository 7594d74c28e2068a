import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { PublicKeyParser, parseConsoleLog, type ConsoleEvent } from '../../src/serial/public-key-parser.js';
import { newP256Spki, consoleBlock, bootLog, opensslPubkeyDer } from './helpers/console-format.js';

const keysOf = (events: ConsoleEvent[]) => events.filter((e): e is Extract<ConsoleEvent, { type: 'key' }> => e.type === 'key').map((e) => e.der);

/** The last complete key, cross-checked: equal to the generated key and to openssl's reading of the parsed bytes. */
function assertLastKey(log: string | Buffer, der: Buffer, msg?: string): ConsoleEvent[] {
  const { events } = parseConsoleLog(log);
  const keys = keysOf(events);
  assert.ok(keys.length > 0, `${msg ?? ''}: no key found`);
  const got = keys.at(-1)!;
  assert.equal(got.toString('hex'), der.toString('hex'), msg);
  assert.ok(opensslPubkeyDer(got).equals(der), `${msg ?? ''}: openssl reads the parsed bytes as the same key`);
  return events;
}

test('the DESIGN.md format: prefixed header, rows with trailing spaces, CRLF', () => {
  const der = newP256Spki();
  assertLastKey(bootLog(consoleBlock(der)), der, 'plain');
});

test('header prefix variants: empty task name, no prefix at all', () => {
  const der = newP256Spki();
  assertLastKey(bootLog(consoleBlock(der, { prefix: '1 313 [] ' })), der, 'empty task name');
  assertLastKey(consoleBlock(der, { prefix: '' }), der, 'no prefix');
});

test('line ends CR, LF, CRLF and trimmed trailing spaces', () => {
  const der = newP256Spki();
  for (const eol of ['\r\n', '\n', '\r']) {
    for (const trim of [false, true]) assertLastKey(bootLog(consoleBlock(der, { eol, trim }), eol), der, `eol ${JSON.stringify(eol)} trim ${trim}`);
  }
});

test('blank lines after the header and between rows', () => {
  const der = newP256Spki();
  assertLastKey(bootLog(consoleBlock(der, { blankLines: true })), der);
  assertLastKey(consoleBlock(der, { blankLines: true, eol: '\n', trim: true }), der, 'LF, trimmed');
});

test("other tasks' log lines between rows", () => {
  const der = newP256Spki();
  const interleave = { 0: '8 911 [Tmr Svc] WiFi connected', 2: '9 915 [IP-task] DHCP: lease 3600 s', 4: '10 920 [] ' };
  assertLastKey(bootLog(consoleBlock(der, { interleave, blankLines: true })), der);
});

test('ANSI colour codes, NUL bytes and garbage', () => {
  const der = newP256Spki();
  const coloured = consoleBlock(der)
    .split('\r\n')
    .map((l) => (l ? `\x1b[0;32m${l}\x1b[0m` : l))
    .join('\r\n');
  const garbage = Buffer.from([0xff, 0x00, 0xfe, 0x13, 0x88, 0x0a, 0x00, 0x00, 0xc3, 0x28, 0x0d, 0x0a]);
  const withNul = consoleBlock(der).replace(/ /g, ' \0').replace(/\r\n/g, '\0\r\n');
  const log = Buffer.concat([garbage, Buffer.from(coloured, 'latin1'), garbage, Buffer.from(withNul, 'latin1'), garbage]);
  const events = assertLastKey(log, der);
  assert.equal(keysOf(events).length, 2);
});

test('a very long garbage line before the header on the same line', () => {
  const der = newP256Spki();
  const noise = Buffer.alloc(20_000, 0x41); // "AAAA..." with no line end
  assertLastKey(Buffer.concat([noise, Buffer.from(consoleBlock(der), 'latin1')]), der);
});

test('the key printed twice: same key -> two blocks, no change; different keys -> key-changed, last wins', () => {
  const a = newP256Spki();
  const b = newP256Spki();
  const same = assertLastKey(bootLog(consoleBlock(a) + '5 930 [iot_thread] Printing device public key.\r\n' + consoleBlock(a)), a);
  assert.equal(keysOf(same).length, 2);
  assert.equal(same.filter((e) => e.type === 'key-changed').length, 0);
  const diff = assertLastKey(bootLog(consoleBlock(a) + consoleBlock(b)), b);
  const changed = diff.filter((e) => e.type === 'key-changed');
  assert.equal(changed.length, 1);
  assert.ok((changed[0] as { previous: Buffer }).previous.equals(a));
});

test('a block cut short by a reset is discarded; the next full block is taken', () => {
  const a = newP256Spki();
  const b = newP256Spki();
  const log = bootLog(consoleBlock(a, { rows: 3 })) + '\xff\x00ets Jun  8 2016 00:22:57\r\nrst:0x1 (POWERON_RESET)\r\n' + bootLog(consoleBlock(b));
  const events = assertLastKey(log, b);
  const cut = events.filter((e) => e.type === 'truncated');
  assert.deepEqual(cut, [{ type: 'truncated', expected: 91, received: 48, reason: 'new-header' }]);
  assert.equal(keysOf(events).length, 1);
});

test('a block cut short at the end of the input is reported, not returned', () => {
  const a = newP256Spki();
  const { events, stats } = parseConsoleLog(bootLog(consoleBlock(a, { rows: 5 })));
  assert.equal(keysOf(events).length, 0);
  assert.deepEqual(events.filter((e) => e.type === 'truncated'), [{ type: 'truncated', expected: 91, received: 80, reason: 'end' }]);
  assert.equal(stats.truncatedBlocks, 1);
});

test("the header's byte count decides when a block is complete", () => {
  // 120 bytes (not a key: the parser only frames; validation is spki.ts's job)
  const bytes = Buffer.from(Array.from({ length: 120 }, (_, i) => (i * 37) & 0xff));
  const log = consoleBlock(bytes) + 'dead beef cafe\r\n';
  const { events } = parseConsoleLog(log);
  const keys = keysOf(events);
  assert.equal(keys.length, 1);
  assert.ok(keys[0]!.equals(bytes), 'the hex-like line after the block is not part of it');
  // A row that overflows the count breaks the block.
  const over = parseConsoleLog('Device public key, 3 bytes:\r\n3059 3013\r\n');
  assert.deepEqual(over.events, [{ type: 'truncated', expected: 3, received: 0, reason: 'overflow' }]);
});

test('a flattened copy with the rows on the header line (as published on the web)', () => {
  const der = newP256Spki();
  const flat = consoleBlock(der).replace(/\r\n/g, ' ');
  assertLastKey(flat + '\n', der);
});

test('Recommended certificate subject name and Waiting for N seconds', () => {
  const der = newP256Spki();
  const log = bootLog('3 40 [iot_thread] Waiting for 180 seconds before generating key-pair\r\n' + consoleBlock(der) + '6 950 [iot_thread] Recommended certificate subject name: CN=0123ee45aabb01\r\n');
  const { events } = parseConsoleLog(log);
  assert.deepEqual(events.filter((e) => e.type === 'wait'), [{ type: 'wait', seconds: 180 }]);
  assert.deepEqual(events.filter((e) => e.type === 'recommended-cn'), [{ type: 'recommended-cn', cn: '0123ee45aabb01' }]);
});

test('emitLines gives cleaned lines', () => {
  const { events } = parseConsoleLog('\x1b[0;31mE (12) boom\x1b[0m\r\n\r\n  x\0y  \n', { emitLines: true });
  assert.deepEqual(events, [
    { type: 'line', text: 'E (12) boom' },
    { type: 'line', text: 'xy' },
  ]);
});

test('options are validated in the constructor with the option named', () => {
  assert.throws(() => new PublicKeyParser({ maxLineLength: 10 }), /option "maxLineLength" must be an integer >= 80, got 10/);
  assert.throws(() => new PublicKeyParser({ maxKeyBytes: 1.5 }), /option "maxKeyBytes"/);
  assert.throws(() => new PublicKeyParser({ emitLines: 'yes' as never }), /option "emitLines" must be a boolean/);
});

test('as a stream: piping a chunked Readable gives the same events as a single parse', async () => {
  const der = newP256Spki();
  const log = Buffer.from(bootLog(consoleBlock(der, { blankLines: true, interleave: { 1: '5 5 [x] y' } })), 'latin1');
  const chunks = [];
  for (let i = 0; i < log.length; i += 7) chunks.push(log.subarray(i, i + 7));
  const events: ConsoleEvent[] = [];
  for await (const e of Readable.from(chunks).pipe(new PublicKeyParser())) events.push(e);
  assert.deepEqual(events, parseConsoleLog(log).events);
  assert.ok(keysOf(events)[0]!.equals(der));
});

function parseChunks(chunks: Buffer[]): ConsoleEvent[] {
  const p = new PublicKeyParser();
  const out: ConsoleEvent[] = [];
  for (const c of chunks) out.push(...p.parseChunk(c));
  out.push(...p.finish());
  return out;
}

test('split at every byte position: same events, same key (exhaustive over a noisy log)', () => {
  const a = newP256Spki();
  const b = newP256Spki();
  const log = Buffer.concat([
    Buffer.from('\x1b[0;32m0 0 [] boot\x1b[0m\r\n\0\xff', 'latin1'),
    Buffer.from(bootLog(consoleBlock(a, { rows: 2 })), 'latin1'),
    Buffer.from(consoleBlock(b, { blankLines: true, interleave: { 2: '9 9 [IP-task] x' } }), 'latin1'),
    Buffer.from('6 9 [] Recommended certificate subject name: CN=abc\r', 'latin1'),
  ]);
  const whole = parseConsoleLog(log).events;
  assert.ok(keysOf(whole).at(-1)!.equals(b));
  for (let i = 1; i < log.length; i++) {
    assert.deepEqual(parseChunks([log.subarray(0, i), log.subarray(i)]), whole, `split at ${i}`);
  }
  assert.deepEqual(parseChunks([...log].map((x) => Buffer.of(x))), whole, 'byte by byte');
});

test('property: any chunking of a generated log yields the same key', () => {
  const noiseLine = fc.oneof(
    fc.constant('12 345 [Tmr Svc] tick'),
    fc.constant('\x1b[0;33mW (55) wifi: retry\x1b[0m'),
    fc.constant(''),
    fc.uint8Array({ minLength: 1, maxLength: 12 }).map((u) => Buffer.from(u).toString('latin1').replace(/[0-9a-fA-F\r\n]/g, 'z')),
  );
  const keys = [newP256Spki(), newP256Spki()];
  fc.assert(
    fc.property(
      fc.constantFrom(...keys),
      fc.constantFrom('\r\n', '\n', '\r'),
      fc.boolean(),
      fc.boolean(),
      fc.dictionary(fc.integer({ min: 0, max: 5 }).map(String), noiseLine),
      fc.array(noiseLine, { maxLength: 5 }),
      fc.array(fc.integer({ min: 1, max: 2000 }), { maxLength: 30 }),
      (der, eol, trim, blankLines, interleave, before, cuts) => {
        const text = before.join(eol) + eol + consoleBlock(der, { eol, trim, blankLines, interleave: interleave as Record<number, string> }) + 'tail';
        const log = Buffer.from(text, 'latin1');
        const points = [...new Set(cuts.map((c) => c % log.length))].sort((x, y) => x - y);
        const chunks: Buffer[] = [];
        let prev = 0;
        for (const p of points) {
          chunks.push(log.subarray(prev, p));
          prev = p;
        }
        chunks.push(log.subarray(prev));
        const got = keysOf(parseChunks(chunks));
        return got.length === 1 && got[0]!.equals(der);
      },
    ),
    { numRuns: 300 },
  );
  // The generated keys themselves are what openssl reads.
  for (const k of keys) assert.ok(opensslPubkeyDer(k).equals(k));
});
