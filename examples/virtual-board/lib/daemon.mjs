// `vboard serve`: the process that is the board's power supply, UART bridge and debug
// probe. It keeps socat's pty alive across resets, runs the flashed image with its
// console on the UART, and answers the other vboard commands on the control socket.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import { boardPaths, EXIT_SPONTANEOUS_RESET, readKnobs, writeKnobs } from './board-dir.mjs';
import { listen } from './control.mjs';
import { noise, UartBridge } from './uart.mjs';

export async function serveForeground(dir) {
  const paths = boardPaths(dir);
  mkdirSync(paths.flash, { recursive: true });
  const log = (line) => appendFileSync(paths.log, `${new Date().toISOString()} ${line}\n`);
  rmSync(paths.control, { force: true });
  rmSync(paths.tty, { force: true });

  const socat = spawn('socat', ['STDIO', `pty,link=${paths.tty},raw,echo=0,mode=666`], { stdio: ['pipe', 'pipe', 'pipe'] });
  // A socat that cannot start (not installed: ENOENT) reports here, not with 'exit'.
  let socatError = null;
  socat.on('error', (err) => {
    socatError = err;
    log(`socat: ${err.message}`);
  });
  socat.stdout.resume(); // the console is output only: what the host types is discarded
  socat.stderr.on('data', (d) => log(`socat: ${String(d).trim()}`));
  socat.stdin.on('error', () => {});
  let stopping = false;
  socat.on('exit', (code, signal) => {
    if (!stopping) {
      log(`socat exited (${code ?? signal}): the UART is gone, stopping`);
      void stop(1);
    }
  });
  for (let i = 0; !existsSync(paths.tty); i++) {
    if (socatError) {
      const missing = socatError.code === 'ENOENT' ? ' (socat is not installed: sudo apt-get install socat)' : '';
      throw new Error(`cannot start socat for the board's serial port: ${socatError.message}${missing}`);
    }
    if (i > 100 || socat.exitCode !== null) throw new Error(`socat did not create ${paths.tty}`);
    await sleep(20);
  }

  const uart = new UartBridge({ tty: paths.tty, socat, log });
  let firmware = null;
  let generation = 0;
  let pendingStale = false;

  function halt() {
    generation++;
    const child = firmware;
    firmware = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGKILL');
    });
  }

  async function boot({ stale = false } = {}) {
    await halt();
    const myGeneration = generation;
    const image = stale ? paths.previousImage : paths.image;
    const knobs = readKnobs(paths);
    uart.baudMismatch = knobs.baudMismatch;
    uart.recheck();
    if (!existsSync(image)) {
      log('reset: flash is empty, the board halts');
      return { booted: false };
    }
    if (knobs.garbageBytes > 0) uart.write(noise(knobs.garbageBytes));
    const env = { ...process.env, VBOARD_DIR: paths.root };
    delete env.VBOARD_FAULT_RESET_AFTER_KEY_ROWS;
    if (knobs.resetDuringKeyAfterRows > 0) env.VBOARD_FAULT_RESET_AFTER_KEY_ROWS = String(knobs.resetDuringKeyAfterRows);
    const child = spawn(image, ['--board', paths.root], { cwd: paths.root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    firmware = child;
    log(`boot: ${stale ? 'previous image (stale)' : 'image'} pid ${child.pid}`);
    child.stdout.on('data', (chunk) => {
      if (firmware === child) uart.write(chunk);
    });
    child.stderr.on('data', (d) => log(`firmware stderr: ${String(d).trim()}`));
    child.on('error', (err) => log(`boot failed: ${err.message} (the image does not run)`));
    child.on('exit', (code, signal) => {
      log(`firmware exited (${code ?? signal})`);
      if (firmware !== child) return;
      firmware = null;
      if (code === EXIT_SPONTANEOUS_RESET) {
        // The fault knob fired: consume it and come back up, as after a brown-out.
        writeKnobs(paths, { resetDuringKeyAfterRows: 0 });
        setTimeout(() => void boot(), 30);
      }
    });
    if (stale) {
      setTimeout(() => {
        if (generation === myGeneration) void boot();
      }, knobs.staleImageMs);
    }
    return { booted: true, pid: child.pid };
  }

  async function stop(code = 0) {
    if (stopping) return;
    stopping = true;
    log('stop');
    await halt();
    server.close();
    socat.stdin.end();
    socat.kill('SIGTERM');
    rmSync(paths.control, { force: true });
    rmSync(paths.pid, { force: true });
    setTimeout(() => process.exit(code), 50);
  }

  const server = await listen(paths.control, async (msg) => {
    switch (msg.cmd) {
      case 'ping':
        return { pid: process.pid, tty: paths.tty, running: firmware !== null, droppedBytes: uart.dropped };
      case 'halt':
        await halt();
        return {};
      case 'reset': {
        const stale = pendingStale && existsSync(paths.previousImage);
        pendingStale = false;
        if (stale) log(`reset: fault knob staleImageMs, previous image first`);
        return boot({ stale });
      }
      case 'flashed':
        pendingStale = readKnobs(paths).staleImageMs > 0;
        return {};
      case 'stop':
        setTimeout(() => void stop(0), 10);
        return {};
      default:
        throw new Error(`unknown command ${msg.cmd}`);
    }
  });

  writeFileSync(paths.pid, `${process.pid}\n`);
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => void stop(0));
  log(`serving: console on ${paths.tty} (${uart.device})`);
}
