// The capture flow and the console watcher on a live feed (a PassThrough standing in for
// the port; the real pty is in pty.test.ts), with timers measured in tens of milliseconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ConsoleHandle } from '../../src/serial/console.js';
import { captureKey } from '../../src/serial/capture.js';
import { watchConsole } from '../../src/serial/console-watcher.js';
import { spkiDerToPem } from '../../src/serial/spki.js';
import { memoryLogger } from '../../src/log.js';
import { newP256Spki, consoleBlock, bootLog, opensslPubkeyDer } from './helpers/console-format.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function liveConsole() {
  const stream = new PassThrough();
  return { stream, handle: new ConsoleHandle(stream, { source: 'test-port', live: true }) };
}

test('bytes received before capture() is called are seen (open, flash, reset, then capture)', async () => {
  const der = newP256Spki();
  const { stream, handle } = liveConsole();
  stream.write(bootLog(consoleBlock(der)));
  await sleep(10);
  const r = await handle.capture({ timeoutMs: 2000, settleMs: 20 });
  assert.ok(r.der.equals(der));
  assert.ok(opensslPubkeyDer(r.der).equals(der));
  assert.equal(r.pem, spkiDerToPem(der));
  assert.equal(r.blocksSeen, 1);
  assert.equal(r.source, 'test-port');
});

test('waits briefly after a complete key for a second print; a changed key is reported and the last one wins', async () => {
  const a = newP256Spki();
  const b = newP256Spki();
  const { stream, handle } = liveConsole();
  const log = memoryLogger();
  const p = handle.capture({ timeoutMs: 3000, settleMs: 150, log });
  stream.write(consoleBlock(a));
  await sleep(50);
  stream.write(consoleBlock(b, { rows: 2 }));
  await sleep(200); // past settleMs, but a block is still arriving: keep waiting
  stream.write(consoleBlock(b));
  const r = await p;
  assert.ok(r.der.equals(b));
  assert.equal(r.blocksSeen, 2);
  assert.equal(r.keyChanged, true);
  assert.equal(r.truncatedBlocks, 1);
  assert.match(log.text(), /the key changed during the capture/);
});

test('"Waiting for N seconds" extends the deadline and shows a countdown', async () => {
  const der = newP256Spki();
  const { stream, handle } = liveConsole();
  const log = memoryLogger();
  const p = handle.capture({ timeoutMs: 300, settleMs: 20, waitMarginMs: 400, log });
  stream.write('3 40 [iot_thread] Waiting for 1 seconds before generating key-pair\r\n');
  await sleep(1100); // well past the original 300 ms timeout
  stream.write(consoleBlock(der));
  const r = await p;
  assert.ok(r.der.equals(der));
  assert.match(log.text(), /the board waits 1 s before generating its key pair; waiting up to 1 s/);
});

test('timeout errors say what was seen: nothing, unreadable bytes (baud), no header (keygen build), truncated', async () => {
  const cases: [string, Buffer | string, string, RegExp][] = [
    ['nothing', '', 'CAPTURE_NOTHING_RECEIVED', /reset it/],
    ['baud', Buffer.from(Array.from({ length: 400 }, (_, i) => 0x80 + (i % 120))), 'CAPTURE_UNREADABLE', /baud/],
    ['no header', bootLog(''), 'CAPTURE_NO_HEADER', /keygen build.*FORCE_GENERATE_NEW_KEY_PAIR/],
    ['truncated', bootLog(consoleBlock(newP256Spki(), { rows: 4 })), 'CAPTURE_TRUNCATED', /cut short|reset/],
  ];
  for (const [name, data, code, hint] of cases) {
    const { stream, handle } = liveConsole();
    if (data.length) stream.write(data);
    await assert.rejects(handle.capture({ timeoutMs: 80 }), (e: any) => {
      assert.equal(e.code, code, name);
      assert.equal(e.exitCode, 4, name);
      assert.match(e.hint, hint, name);
      if (name === 'no header') assert.match(e.message, /last console lines:\n.*Warning: the client certificate/s);
      if (name === 'truncated') assert.match(e.message, /64 of 91 bytes/);
      return true;
    });
  }
});

test('an invalid key (flipped OID byte) is an error, never a result', async () => {
  const der = newP256Spki();
  der[12]! ^= 0x40;
  const { stream, handle } = liveConsole();
  stream.write(consoleBlock(der));
  await assert.rejects(handle.capture({ timeoutMs: 1000, settleMs: 10 }), (e: any) => e.code === 'INVALID_PUBLIC_KEY' && e.exitCode === 5 && /byte 12/.test(e.message));
});

test('abort signal stops a capture', async () => {
  const { handle } = liveConsole();
  const ac = new AbortController();
  const p = captureKey(handle, { timeoutMs: 5000, signal: ac.signal });
  ac.abort();
  await assert.rejects(p, (e: any) => e.code === 'INTERRUPTED' && e.exitCode === 130);
});

test('watcher: success regex and expected key (PEM); resolves only when both are seen', async () => {
  const der = newP256Spki();
  const { stream, handle } = liveConsole();
  const p = watchConsole(handle, { success: /MQTT demo .* connected/, expectPublicKey: spkiDerToPem(der), timeoutMs: 2000 });
  let settled = false;
  p.then(() => (settled = true), () => (settled = true));
  stream.write('\x1b[0;32m10 1200 [MQTT] MQTT demo client connected\x1b[0m\r\n');
  await sleep(20);
  assert.equal(settled, false, 'still waiting for the key');
  stream.write('11 1300 [iot_thread] Printing device public key.\r\n' + consoleBlock(der));
  const r = await p;
  assert.equal(r.successLine, '10 1200 [MQTT] MQTT demo client connected');
  assert.equal(r.publicKeySeen, true);
});

test('watcher: error regex, a different key, timeout with the console tail', async () => {
  {
    const { stream, handle } = liveConsole();
    stream.write('5 50 [MQTT] TLS handshake failed: -0x2700\r\n');
    await assert.rejects(handle.watch({ success: /connected/, error: /handshake failed/, timeoutMs: 1000 }), (e: any) => e.code === 'CONSOLE_ERROR_LINE' && e.exitCode === 5 && /-0x2700/.test(e.message));
  }
  {
    const { stream, handle } = liveConsole();
    stream.write(consoleBlock(newP256Spki()));
    await assert.rejects(handle.watch({ expectPublicKey: newP256Spki(), timeoutMs: 1000 }), (e: any) => e.code === 'KEY_MISMATCH' && /new key pair/.test(e.hint));
  }
  {
    const { stream, handle } = liveConsole();
    stream.write('1 1 [] hello board\r\n2 2 [] still booting\r\n');
    await assert.rejects(handle.watch({ success: /connected/g, timeoutMs: 60 }), (e: any) => {
      assert.equal(e.code, 'CONSOLE_TIMEOUT');
      assert.equal(e.exitCode, 4);
      assert.match(e.message, /for a line matching \/connected\/\n/);
      assert.match(e.message, /\| 2 2 \[\] still booting/);
      return true;
    });
  }
  assert.throws(() => watchConsole(liveConsole().handle, { timeoutMs: 1 }), /needs `success` or `expectPublicKey`/);
});
