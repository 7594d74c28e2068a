// The live step list on a terminal: the bytes written to a fake TTY are replayed through a
// tiny terminal model (CR, LF, cursor up, erase line/screen), and the final screen must hold
// every logged line once, above the step list, and every step once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { runSteps, type Step } from '../../src/pipeline/steps.js';
import { Logger } from '../../src/log.js';
import { ConsoleHandle } from '../../src/serial/console.js';
import { captureKey } from '../../src/serial/capture.js';
import { newP256Spki, consoleBlock } from '../serial/helpers/console-format.js';
import { screen } from '../helpers/terminal.js';

function ttyLogger(opts: { verbose?: boolean } = {}) {
  const chunks: string[] = [];
  const log = new Logger({ color: true, verbose: opts.verbose, stream: { write: (s: string) => chunks.push(s), isTTY: true } });
  return { log, raw: () => chunks.join('') };
}

const count = (lines: string[], s: string) => lines.filter((l) => l === s).length;

test('lines logged while the step list is shown end up above it, once each; each step shows once', async () => {
  const { log, raw } = ttyLogger({ verbose: true });
  const logged: string[] = [];
  const steps: Step<object>[] = [
    {
      name: 'a',
      title: 'step a',
      run: async () => {
        log.info('$ make keygen');
        logged.push('$ make keygen');
        log.warn('waiting for keyprov pid 42');
        logged.push('keyprov: warning: waiting for keyprov pid 42');
      },
    },
    {
      name: 'b',
      title: 'step b',
      run: async (_c, ctl) => {
        // A tool's output echoed with --verbose, in chunks that split lines.
        log.write('cc -c main');
        log.write('.c\nld -o fw');
        log.write('.elf\n');
        logged.push('cc -c main.c', 'ld -o fw.elf');
        // The LiveLine of a running tool, then erased when it ends.
        log.status('make: compiling 3 of 9');
        log.info('would set keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR 0 -> 1');
        logged.push('would set keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR 0 -> 1');
        log.status(undefined);
        ctl.progress('half way');
        log.debug('a debug line');
        logged.push('a debug line');
        ctl.detail('done b');
      },
    },
    {
      name: 'c',
      title: 'step c',
      run: async () => {
        log.info('tool output tail:\n  | error: boom');
        logged.push('tool output tail:', '  | error: boom');
      },
    },
  ];
  await runSteps(steps, {}, { log });
  log.info('after the run');
  logged.push('after the run');
  const lines = screen(raw());
  for (const l of logged) assert.equal(count(lines, l), 1, `"${l}" once on the final screen:\n${lines.join('\n')}`);
  const listAt = lines.findIndex((l) => l.startsWith('[1/3]'));
  assert.ok(listAt >= 0, lines.join('\n'));
  assert.deepEqual(
    lines.slice(listAt, listAt + 3).map((l) => l.replace(/\(\d+\.\d s\)/, '(T)')),
    ['[1/3] step a ok (T)', '[2/3] step b ok (T) - done b', '[3/3] step c ok (T)'],
  );
  for (const n of ['[1/3]', '[2/3]', '[3/3]']) assert.equal(lines.filter((l) => l.startsWith(n)).length, 1, `${n} once:\n${lines.join('\n')}`);
  for (const l of logged.slice(0, -1)) assert.ok(lines.indexOf(l) < listAt, `"${l}" above the list`);
  assert.equal(lines.at(-1), 'after the run', 'a line after the run goes below the final list');
  assert.ok(!lines.some((l) => /make: compiling|half way/.test(l)), 'transient status and progress are gone');
});

test('the keygen-delay countdown is drawn beside its step, not over the list', async () => {
  const { log, raw } = ttyLogger();
  const der = newP256Spki();
  const stream = new PassThrough();
  const handle = new ConsoleHandle(stream, { source: 'test-port', live: true });
  const progress: (string | undefined)[] = [];
  const steps: Step<object>[] = [
    { name: 'before', title: 'step before', run: async () => {} },
    {
      name: 'capture',
      title: 'capture',
      run: async (_c, ctl) => {
        const p = captureKey(handle, { timeoutMs: 300, settleMs: 20, waitMarginMs: 400, log, progress: (t) => (progress.push(t), ctl.progress(t)) });
        stream.write('Waiting for 1 seconds before generating key-pair\r\n');
        await new Promise((r) => setTimeout(r, 1100));
        stream.write(consoleBlock(der));
        await p;
      },
    },
    { name: 'after', title: 'step after', run: async () => {} },
  ];
  await runSteps(steps, {}, { log });
  assert.ok(progress.includes('key generation in 0 s'), `countdown went through the list: ${JSON.stringify(progress)}`);
  assert.ok(/\[2\/3\] capture .*- key generation in 0 s/.test(raw().replace(/\x1b\[[0-9;]*m/g, '')), 'drawn on the step line');
  const lines = screen(raw());
  assert.equal(lines.filter((l) => /the board waits 1 s/.test(l)).length, 1, lines.join('\n'));
  assert.ok(lines.findIndex((l) => /the board waits/.test(l)) < lines.findIndex((l) => l.startsWith('[1/3]')));
  assert.deepEqual(lines.slice(-3).map((l) => l.replace(/\(\d+\.\d s\)/, '(T)')), ['[1/3] step before ok (T)', '[2/3] capture ok (T)', '[3/3] step after ok (T)']);
});

test('without a step list, a status line is erased before a logged line and drawn again after it', () => {
  const { log, raw } = ttyLogger();
  log.status('flash: 10%');
  log.info('a line');
  log.status('flash: 90%');
  log.status(undefined);
  log.info('done');
  assert.deepEqual(screen(raw()), ['a line', 'done']);
});
