// The embedded demo broker's command line: it makes its own server certificate, accepts
// a client whose certificate comes from the device CA, and refuses one from another CA.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import mqtt from 'mqtt';

import { tmpDir } from '../helpers/tmp.js';
import { VBOARD_DIR } from '../helpers/vboard.js';

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

function caAndClient(dir: string, name: string) {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}-ca.key`, '-subj', `/CN=${name} CA`, '-days', '1', '-out', `${name}-ca.pem`], dir);
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}-client.key`, '-subj', `/CN=${name}-client`, '-out', `${name}-client.csr`], dir);
  openssl(['x509', '-req', '-in', `${name}-client.csr`, '-CA', `${name}-ca.pem`, '-CAkey', `${name}-ca.key`, '-CAcreateserial', '-days', '1', '-out', `${name}-client.pem`], dir);
  return { ca: path.join(dir, `${name}-ca.pem`), cert: readFileSync(path.join(dir, `${name}-client.pem`)), key: readFileSync(path.join(dir, `${name}-client.key`)) };
}

test('broker.mjs CLI: mutual TLS against the device CA, CN logged as the username', async (t) => {
  const dir = tmpDir(t);
  const device = caAndClient(dir, 'device');
  const stranger = caAndClient(dir, 'stranger');
  const child = spawn(process.execPath, [path.join(VBOARD_DIR, 'broker', 'broker.mjs'), '--ca', device.ca, '--server-dir', path.join(dir, 'srv'), '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  // The broker logs from its own process, so a line can arrive after the client's ack.
  const waitForLog = async (pattern: RegExp, timeoutMs = 5_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(log)) {
      if (Date.now() > deadline) assert.fail(`broker log did not show ${pattern} within ${timeoutMs} ms:\n${log}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start: ${log}`)), 15_000);
    child.stderr.on('data', () => {
      const m = log.match(/listening on 127\.0\.0\.1:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  // The generated server certificate is for localhost, from the broker CA it wrote.
  const brokerCa = readFileSync(path.join(dir, 'srv', 'broker-ca.pem'));
  execFileSync('openssl', ['verify', '-CAfile', path.join(dir, 'srv', 'broker-ca.pem'), path.join(dir, 'srv', 'server.pem')]);

  const good = await mqtt.connectAsync(`mqtts://localhost:${port}`, { ca: brokerCa, cert: device.cert, key: device.key, clientId: 'good-client', reconnectPeriod: 0 });
  await good.publishAsync('keyprov/good-client/hello', 'hi', { qos: 1 });
  await good.endAsync();
  await waitForLog(/client connected: client id "good-client", certificate CN \(username\) "device-client"/);
  await waitForLog(/PUBLISH from "good-client" to keyprov\/good-client\/hello: hi/);

  const outcome = await new Promise<string>((resolve) => {
    const bad = mqtt.connect(`mqtts://localhost:${port}`, { ca: brokerCa, cert: stranger.cert, key: stranger.key, clientId: 'bad-client', reconnectPeriod: 0, connectTimeout: 5000 });
    const done = (what: string) => {
      bad.end(true);
      resolve(what);
    };
    bad.on('connect', () => done('connected'));
    bad.on('error', (err) => done(`error: ${err.message}`));
    bad.on('close', () => done('closed'));
  });
  assert.notEqual(outcome, 'connected');
  await waitForLog(/broker: TLS handshake refused from /);
  assert.doesNotMatch(log, /client id "bad-client"/);
});
