// Done-when of the virtual board: the manual procedure, with plain tools, makes the board
// connect to a real Mosquitto with mutual TLS; wrong credentials fail the handshake with
// a clear console line; the same flows work against the embedded broker.
import assert from 'node:assert/strict';
import { execFile as execFileCb, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import mqtt from 'mqtt';

import { tmpDir } from '../helpers/tmp.js';
import { makeBrokerCertificate, startMosquitto, type BrokerCa, type Mosquitto } from '../helpers/mosquitto.js';
import { buildFirmware, startBoard, VBOARD_BIN, VBOARD_DIR, writeCredentialHeaders, type Board } from '../helpers/vboard.js';
// @ts-expect-error plain .mjs without types
import { startBroker } from '../../examples/virtual-board/broker/broker.mjs';

const execFile = promisify(execFileCb);
const THING = 'vboard-manual-1';
const SUCCESS = new RegExp(`MQTT mutual-auth demo: connected as ${THING}, published to keyprov/${THING}/hello`);
const HANDSHAKE_FAILED = /\d+ \d+ \[IP-task\] MQTT mutual-auth demo: TLS handshake failed: -0x[0-9a-f]{4} .+/;

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** A CA (EC P-256) and a certificate signed by it for `pubkeyPem` with CN=`cn`. */
function makeCa(dir: string, name: string): { pem: string; key: string } {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
  chmodSync(path.join(dir, `${name}.key`), 0o600);
  openssl(['req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-days', '2', '-sha256', '-out', `${name}.pem`], dir);
  return { pem: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
}

function issue(dir: string, ca: { pem: string; key: string }, pubkeyPem: string, cn: string, out: string): string {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'csr-signer.key'], dir);
  openssl(['req', '-new', '-key', 'csr-signer.key', '-subj', `/CN=${cn}`, '-out', `${out}.csr`], dir);
  openssl(['x509', '-req', '-in', `${out}.csr`, '-CA', ca.pem, '-CAkey', ca.key, '-CAcreateserial', '-days', '2', '-sha256', '-force_pubkey', pubkeyPem, '-out', `${out}.pem`], dir);
  return readFileSync(path.join(dir, `${out}.pem`), 'utf8');
}

/** An MQTT subscriber with its own client certificate from the device CA. */
async function subscribe(dir: string, ca: { pem: string; key: string }, brokerCa: string, port: number) {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'subscriber.key'], dir);
  openssl(['ec', '-in', 'subscriber.key', '-pubout', '-out', 'subscriber.pub'], dir);
  const cert = issue(dir, ca, path.join(dir, 'subscriber.pub'), 'test-subscriber', 'subscriber');
  const client = await mqtt.connectAsync(`mqtts://localhost:${port}`, {
    ca: readFileSync(brokerCa),
    cert,
    key: readFileSync(path.join(dir, 'subscriber.key')),
    clientId: `test-subscriber-${process.pid}`,
    reconnectPeriod: 0,
  });
  const messages: { topic: string; payload: string }[] = [];
  client.on('message', (topic, payload) => messages.push({ topic, payload: payload.toString() }));
  await client.subscribeAsync('keyprov/+/hello', { qos: 1 });
  return {
    messages,
    async waitFor(topic: string, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!messages.some((m) => m.topic === topic)) {
        if (Date.now() > deadline) throw new Error(`no message on ${topic}; got ${JSON.stringify(messages)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return messages.find((m) => m.topic === topic)!;
    },
    close: () => client.endAsync(true),
  };
}

describe('virtual board: manual procedure, mutual TLS, negative cases', () => {
  const scope = { cleanups: [] as (() => unknown)[], after(fn: () => unknown) { this.cleanups.push(fn); } };
  let work: string;
  let labCa: { pem: string; key: string };
  let mosquitto: Mosquitto;
  let brokerCa: BrokerCa;
  let board: Board;
  const images: Record<string, string> = {};

  before(async () => {
    work = tmpDir(scope);
    labCa = makeCa(work, 'lab-root-ca');
    // One broker CA for both brokers: the board trusts it (root-ca.pem in its folder).
    mkdirSync(path.join(work, 'broker'));
    brokerCa = makeBrokerCertificate(path.join(work, 'broker'));
    mosquitto = await startMosquitto(scope, { deviceCaFile: labCa.pem, broker: brokerCa });
    board = await startBoard(scope, { rootCa: brokerCa.caFile });
  });
  after(async () => {
    for (const fn of scope.cleanups.reverse()) await fn();
  });

  test('the manual procedure with plain tools makes the board connect to Mosquitto', async (t) => {
    const sub = await subscribe(work, labCa, brokerCa.caFile, mosquitto.port);
    t.after(() => sub.close());
    const scratch = tmpDir(t);
    const env = { ...process.env, VBOARD: VBOARD_BIN, FW_SRC: VBOARD_DIR, BOARD: board.dir, WORK: scratch, CA_PEM: labCa.pem, CA_KEY: labCa.key, ENDPOINT: 'localhost', PORT: String(mosquitto.port), THING };
    await execFile('bash', [path.join(import.meta.dirname, 'manual-procedure.sh')], { env, timeout: 90_000 });

    const keygenConsole = readFileSync(path.join(scratch, 'console-keygen.txt'), 'latin1');
    assert.match(keygenConsole, /^\d+ \d+ \[IP-task\] Device public key, 91 bytes:\r$/m);
    // The key the board printed is the key stored in its flash (cross-checked by openssl).
    const stored = openssl(['pkey', '-inform', 'der', '-in', path.join(board.dir, 'flash', 'device-key.der'), '-pubout'], work);
    assert.equal(readFileSync(path.join(scratch, 'DevicePublicKey.pem'), 'utf8'), stored);

    const console = readFileSync(path.join(scratch, 'console-credential.txt'), 'latin1');
    assert.match(console, SUCCESS, console);
    assert.doesNotMatch(console, /Device public key/, 'the credential build must not generate a new key');
    await mosquitto.waitForLog(new RegExp(`New client connected from 127\\.0\\.0\\.1:\\d+ as ${THING} \\(.*u'${THING}'\\)`));
    const hello = await sub.waitFor(`keyprov/${THING}/hello`);
    assert.equal(JSON.parse(hello.payload).thing, THING);
    images.good = path.join(scratch, 'credential-build', 'vboard-firmware');
    images.goodKeep = path.join(work, 'good-image');
    execFileSync('cp', [images.good, images.goodKeep]);
    execFileSync('cp', [path.join(scratch, 'DevicePublicKey.pem'), path.join(work, 'DevicePublicKey.pem')]);
  });

  test('wrong credentials fail the handshake with a clear console line (Mosquitto)', async (t) => {
    assert.ok(existsSync(images.goodKeep ?? ''), 'needs the first test');
    const base = { endpoint: 'localhost', thing: THING, port: mosquitto.port };
    // A certificate from the right CA, for another key.
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'other.key'], work);
    openssl(['ec', '-in', 'other.key', '-pubout', '-out', 'other.pub'], work);
    const otherKeyCert = issue(work, labCa, path.join(work, 'other.pub'), THING, 'other-key-cert');
    // A certificate for the board's key, from another CA.
    const strangerCa = makeCa(work, 'stranger-ca');
    const otherCaCert = issue(work, strangerCa, path.join(work, 'DevicePublicKey.pem'), THING, 'other-ca-cert');
    const builds = await Promise.all([
      buildFirmware(t, { outDir: path.join(work, 'b-other-key'), generatedDir: writeCredentialHeaders(path.join(work, 'h-other-key'), { ...base, certificatePem: otherKeyCert }) }),
      buildFirmware(t, { outDir: path.join(work, 'b-other-ca'), generatedDir: writeCredentialHeaders(path.join(work, 'h-other-ca'), { ...base, certificatePem: otherCaCert, jitrCaPem: readFileSync(strangerCa.pem, 'utf8') }) }),
      buildFirmware(t, { outDir: path.join(work, 'b-no-cert'), generatedDir: writeCredentialHeaders(path.join(work, 'h-no-cert'), base) }),
    ]);
    [images.otherKey, images.otherCa, images.noCert] = builds;
    for (const [name, image] of [['other key', images.otherKey], ['other CA', images.otherCa], ['no certificate', images.noCert]] as const) {
      const con = await board.flashAndBoot(t, image);
      const line = (await con.waitFor(HANDSHAKE_FAILED))[0];
      assert.doesNotMatch(con.text, SUCCESS, `${name}: must not connect`);
      assert.match(line, /failed: -0x[0-9a-f]{4} \S.*/, `${name}: ${line}`);
      t.diagnostic(`${name}: ${line.trim()}`);
      if (name === 'no certificate') assert.match(con.text, /keyCLIENT_CERTIFICATE_PEM is not set/);
      con.close();
    }
    assert.doesNotMatch(mosquitto.log().split(/\n/).filter((l) => /New client connected/.test(l) && l.includes(`as ${THING}`)).slice(1).join('\n'), new RegExp(THING), 'only the good image ever connected');
  });

  test('the same flows against the embedded broker (aedes over Node TLS)', async (t) => {
    assert.ok(images.noCert, 'needs the earlier tests');
    const port = mosquitto.port;
    await mosquitto.stop(); // the images have the port built in: the embedded broker takes it over
    const logLines: string[] = [];
    const broker = await startBroker({
      ca: readFileSync(labCa.pem),
      cert: readFileSync(brokerCa.certFile),
      key: readFileSync(brokerCa.keyFile),
      port,
      host: '127.0.0.1',
      log: (l: string) => logLines.push(l),
    });
    t.after(() => broker.close());
    const sub = await subscribe(work, labCa, brokerCa.caFile, port);
    t.after(() => sub.close());

    const con = await board.flashAndBoot(t, images.goodKeep);
    await con.waitFor(SUCCESS);
    con.close();
    await sub.waitFor(`keyprov/${THING}/hello`);
    assert.ok(broker.clients.some((c: { clientId: string; username: string }) => c.clientId === THING && c.username === THING), JSON.stringify(broker.clients));
    assert.ok(logLines.some((l) => l.includes(`client id "${THING}", certificate CN (username) "${THING}"`)), logLines.join('\n'));

    for (const image of [images.otherKey, images.otherCa, images.noCert]) {
      const c = await board.flashAndBoot(t, image);
      t.diagnostic((await c.waitFor(HANDSHAKE_FAILED))[0].trim());
      assert.doesNotMatch(c.text, SUCCESS);
      c.close();
    }
    assert.equal(broker.clients.filter((c: { clientId: string }) => c.clientId === THING).length, 1, 'only the good image connected');
    assert.ok(logLines.some((l) => /TLS handshake refused/.test(l)), logLines.join('\n'));
  });
});
