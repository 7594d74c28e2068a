// `--reset dtr|rts|dtr-rts`: the exact modem-line states a port receives, in order, with
// their timing. The port is serialport's real stream over @serialport/binding-mock whose
// `set` is wrapped to record what reaches the binding: the stream fills every flag it is
// not given with its defaults (dtr: true, rts: true), so this is what a real adapter gets.
//
// Expected sequences are written from esptool's and idf monitor's reset code, not from
// the code under test (true = asserted = the line driven LOW by a USB-serial adapter):
// - esptool HardReset (`--after hard_reset`): setRTS(True) "EN->LOW", sleep 0.1 s,
//   setRTS(False); DTR is left released (False) by the ClassicReset before it, and idf
//   monitor releases both (RTS, then DTR) on open before its hard reset: so
//   (dtr=false, rts=true) for >= 100 ms, then (dtr=false, rts=false).
// - ESP auto-reset circuit (two cross-coupled transistors): EN is low exactly when
//   RTS is asserted and DTR is not; IO0 is low exactly when DTR is asserted and RTS is not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { SerialPortStream } from '@serialport/stream';
import { MockBinding } from '@serialport/binding-mock';
import { SerialPort } from 'serialport';
import { resetBoard, type ResetMethod } from '../../src/serial/reset.js';
import { KeyprovError } from '../../src/errors.js';
import { ptyPair } from './helpers/pty.js';

interface Recorded {
  /** What the caller passed to the stream's set(). */
  given: Record<string, unknown>;
  /** What the binding received (after serialport filled its defaults). */
  flags: { dtr?: boolean; rts?: boolean; brk?: boolean; cts?: boolean };
  at: number;
}

let portNo = 0;

/** An open serialport stream over the mock binding, recording every set() in order. */
async function recordingPort(t: { after(fn: () => void | Promise<void>): void }) {
  const path = `/dev/mock-reset-${++portNo}`;
  MockBinding.createPort(path);
  const calls: Recorded[] = [];
  let pendingGiven: Record<string, unknown> = {};
  const binding = {
    ...MockBinding,
    async open(opts: Parameters<typeof MockBinding.open>[0]) {
      const port = await MockBinding.open(opts);
      const set = port.set.bind(port);
      port.set = async (flags: Recorded['flags']) => {
        calls.push({ given: pendingGiven, flags: { ...flags }, at: performance.now() });
        return set(flags);
      };
      return port;
    },
  };
  const stream = new SerialPortStream({ binding, path, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => stream.open((err) => (err ? reject(err) : resolve())));
  t.after(() => new Promise<void>((resolve) => (stream.isOpen ? stream.close(() => resolve()) : resolve())));
  const origSet = stream.set.bind(stream);
  stream.set = ((opts: Record<string, unknown>, cb?: (err: Error | null) => void) => {
    pendingGiven = { ...opts };
    return origSet(opts, cb);
  }) as typeof stream.set;
  return { stream, calls };
}

const lines = (calls: Recorded[]) => calls.map((c) => ({ dtr: c.flags.dtr, rts: c.flags.rts }));
const enLow = (s: { dtr?: boolean; rts?: boolean }) => s.rts === true && s.dtr === false;
const io0Low = (s: { dtr?: boolean; rts?: boolean }) => s.dtr === true && s.rts === false;

// Written from esptool / idf monitor (see the header), per mode.
const EXPECTED: Record<'dtr' | 'rts' | 'dtr-rts', { dtr: boolean; rts: boolean }[]> = {
  // esptool HardReset: EN low with IO0 high (normal boot), then both released.
  rts: [{ dtr: false, rts: true }, { dtr: false, rts: false }],
  // A board wiring DTR alone to reset: DTR pulsed, RTS held released throughout.
  dtr: [{ dtr: true, rts: false }, { dtr: false, rts: false }],
  // Either line wired plainly to reset: both pulsed together, then both released.
  'dtr-rts': [{ dtr: true, rts: true }, { dtr: false, rts: false }],
};

for (const method of ['rts', 'dtr', 'dtr-rts'] as const) {
  test(`--reset ${method}: exact (DTR, RTS) states in order, both passed explicitly, held >= 100 ms, ending released`, async (t) => {
    const { stream, calls } = await recordingPort(t);
    await resetBoard(stream, { method, portPath: 'mock' });
    assert.deepEqual(lines(calls), EXPECTED[method]);
    for (const c of calls) {
      assert.equal(typeof c.given.dtr, 'boolean', `dtr given explicitly in ${JSON.stringify(c.given)}`);
      assert.equal(typeof c.given.rts, 'boolean', `rts given explicitly in ${JSON.stringify(c.given)}`);
      assert.equal(c.flags.brk, false, 'no break condition sent');
    }
    const held = calls[1]!.at - calls[0]!.at;
    assert.ok(held >= 99, `pulse held ${held.toFixed(1)} ms, expected >= 100 ms (esptool: 0.1 s)`);
    assert.ok(held < 1000, `pulse held ${held.toFixed(1)} ms, expected about 100 ms`);
    assert.deepEqual(lines(calls).at(-1), { dtr: false, rts: false }, 'both lines released at the end: the board runs');
  });
}

test('ESP auto-reset circuit: rts holds EN low >= 100 ms with IO0 high throughout (boots the app, not the ROM downloader); dtr and dtr-rts never pull EN low', async (t) => {
  const { stream, calls } = await recordingPort(t);
  await resetBoard(stream, { method: 'rts' });
  const states = lines(calls);
  assert.ok(!states.some(io0Low), `IO0 never pulled low: ${JSON.stringify(states)}`);
  const firstLow = calls.findIndex((c) => enLow(c.flags));
  const release = calls.findIndex((c, i) => i > firstLow && !enLow(c.flags));
  assert.ok(firstLow >= 0 && release > firstLow, `EN pulled low then released: ${JSON.stringify(states)}`);
  assert.ok(calls[release]!.at - calls[firstLow]!.at >= 99, 'EN low for >= 100 ms');
  assert.ok(!enLow(states.at(-1)!) && !io0Low(states.at(-1)!), 'EN and IO0 high at the end');

  for (const method of ['dtr', 'dtr-rts'] as ResetMethod[]) {
    const { stream: s2, calls: c2 } = await recordingPort(t);
    await resetBoard(s2, { method });
    assert.ok(!lines(c2).some(enLow), `${method} never pulls EN low on ESP wiring: ${JSON.stringify(lines(c2))}`);
    assert.deepEqual(lines(c2).at(-1), { dtr: false, rts: false }, `${method} ends released`);
  }
});

test('pulseMs is honoured (a slower board)', async (t) => {
  const { stream, calls } = await recordingPort(t);
  await resetBoard(stream, { method: 'rts', pulseMs: 250 });
  assert.equal(calls.length, 2);
  const held = calls[1]!.at - calls[0]!.at;
  assert.ok(held >= 249, `held ${held.toFixed(1)} ms, expected >= 250 ms`);
});

test('--reset none touches no line', async (t) => {
  const { stream, calls } = await recordingPort(t);
  await resetBoard(stream, { method: 'none' });
  assert.equal(calls.length, 0);
});

test('a real pty (no modem lines): --reset rts fails with RESET_FAILED and a hint to use none or command', async (t) => {
  const { b } = await ptyPair(t);
  const port = new SerialPort({ path: b, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  t.after(() => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())));
  await assert.rejects(resetBoard(port, { method: 'rts', portPath: b }), (e: unknown) => {
    assert.ok(e instanceof KeyprovError);
    assert.equal(e.code, 'RESET_FAILED');
    assert.match(e.message, /DTR=0 RTS=1/);
    assert.match(e.hint ?? '', /--reset none|--reset command/);
    return true;
  });
});
