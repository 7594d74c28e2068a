// Debian's Mosquitto with mutual TLS, started by a test on a free port with its own
// config and log file: require_certificate + use_identity_as_username, `cafile` = the
// device CA, server certificate from a separate broker CA (made here with openssl).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const MOSQUITTO_BIN = '/usr/sbin/mosquitto';

export interface BrokerCa {
  /** The CA the board must trust (give it to `vboard serve --root-ca`). */
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** A free TCP port on 127.0.0.1 (closed again; tiny race accepted). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A broker CA and a server certificate for localhost/127.0.0.1, in `dir`. */
export function makeBrokerCertificate(dir: string): BrokerCa {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'broker-ca.key'], dir);
  openssl(['req', '-x509', '-new', '-key', 'broker-ca.key', '-subj', '/CN=test broker CA', '-days', '2', '-sha256', '-out', 'broker-ca.pem'], dir);
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.key'], dir);
  openssl(['req', '-new', '-key', 'server.key', '-subj', '/CN=localhost', '-out', 'server.csr'], dir);
  writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'broker-ca.pem', '-CAkey', 'broker-ca.key', '-CAcreateserial', '-days', '2', '-sha256', '-extfile', 'server.ext', '-out', 'server.pem'], dir);
  return { caFile: path.join(dir, 'broker-ca.pem'), certFile: path.join(dir, 'server.pem'), keyFile: path.join(dir, 'server.key') };
}

export interface Mosquitto {
  port: number;
  dir: string;
  logFile: string;
  broker: BrokerCa;
  log(): string;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

export interface MosquittoOptions {
  /** PEM file of the CA that issues device certificates. */
  deviceCaFile: string;
  /** Reuse a broker CA/server certificate (e.g. so the board's root CA stays the same). */
  broker?: BrokerCa;
  port?: number;
}

export async function startMosquitto(t: { after(fn: () => unknown): void }, opts: MosquittoOptions): Promise<Mosquitto> {
  // Mosquitto drops to the `mosquitto` user when started as root: its folder and files
  // must be readable by that user, and the log file writable.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyprov-mosquitto-'));
  chmodSync(dir, 0o755);
  const broker = opts.broker ?? makeBrokerCertificate(dir);
  const files = {
    ca: path.join(dir, 'device-ca.pem'),
    cert: path.join(dir, 'broker-server.pem'),
    key: path.join(dir, 'broker-server.key'),
  };
  writeFileSync(files.ca, readFileSync(opts.deviceCaFile));
  writeFileSync(files.cert, readFileSync(broker.certFile));
  writeFileSync(files.key, readFileSync(broker.keyFile));
  for (const f of Object.values(files)) chmodSync(f, 0o644); // throwaway test key
  const logFile = path.join(dir, 'mosquitto.log');
  writeFileSync(logFile, '');
  chmodSync(logFile, 0o666);
  const port = opts.port ?? (await freePort());
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      'persistence false',
      `log_dest file ${logFile}`,
      'log_type all',
      'connection_messages true',
      `listener ${port} 127.0.0.1`,
      `cafile ${files.ca}`,
      `certfile ${files.cert}`,
      `keyfile ${files.key}`,
      'tls_version tlsv1.2',
      'require_certificate true',
      'use_identity_as_username true',
      '',
    ].join('\n'),
  );
  chmodSync(conf, 0o644);
  const child: ChildProcess = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(3000).then(() => child.kill('SIGKILL'))]);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  t.after(stop);
  const log = () => readFileSync(logFile, 'utf8');
  const waitForLog = async (pattern: RegExp, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = log().match(pattern);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`mosquitto log did not match ${pattern} within ${timeoutMs} ms:\n${log()}`);
      if (child.exitCode !== null) throw new Error(`mosquitto exited (${child.exitCode}): ${stderr}\n${log()}`);
      await sleep(50);
    }
  };
  await waitForLog(/mosquitto version \S+ running/);
  return { port, dir, logFile, broker, log, waitForLog, stop };
}
