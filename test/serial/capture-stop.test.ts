// captureKey's stopAt: a console line saying the board is past key provisioning ends the
// capture at once, with the key printed before it or with the usual no-key error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ConsoleHandle } from '../../src/serial/console.js';
import { captureKey } from '../../src/serial/capture.js';
import { newP256Spki, consoleBlock, opensslPubkeyDer } from './helpers/console-format.js';

const PAST = /connected as \S+|Demo finished/;

function live() {
  const stream = new PassThrough();
  return { stream, handle: new ConsoleHandle(stream, { source: 'test-port', live: true }) };
}

test('a stop line after a key: the key, without waiting out the settle time', async () => {
  const der = newP256Spki();
  const { stream, handle } = live();
  const t0 = Date.now();
  const p = captureKey(handle, { timeoutMs: 10_000, settleMs: 5_000, stopAt: PAST });
  stream.write(consoleBlock(der));
  stream.write('9 99 [IP-task] MQTT mutual-auth demo: connected as lab-b1, published to lab-b1/hello\r\n');
  const r = await p;
  assert.ok(opensslPubkeyDer(r.der).equals(der));
  assert.ok(Date.now() - t0 < 2_000, `took ${Date.now() - t0} ms`);
});

test('a stop line without a key: the no-key error at once, naming the line; a partial line does not stop it', async () => {
  const { stream, handle } = live();
  const t0 = Date.now();
  const p = captureKey(handle, { timeoutMs: 10_000, stopAt: PAST });
  stream.write('1 1 [IP-task] Demo fin');
  await new Promise((r) => setTimeout(r, 100));
  let settled = false;
  p.catch(() => {}).finally(() => (settled = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, 'half a line is not a stop line');
  stream.write('ished; idle.\r\n');
  await assert.rejects(p, (e: { code: string; message: string }) => e.code === 'CAPTURE_NO_HEADER' && /past key provisioning \("1 1 \[IP-task\] Demo finished; idle."\)/.test(e.message));
  assert.ok(Date.now() - t0 < 2_000, `took ${Date.now() - t0} ms`);
});
