#!/usr/bin/env node
// The embedded demo broker: aedes (MQTT) behind a Node TLS server that requests and
// verifies client certificates against the device CA, like Mosquitto with
// `require_certificate true` and `use_identity_as_username true`.
//
//   node broker.mjs --ca deviceCA.pem [--port 8883] [--host 127.0.0.1]
//                   (--cert server.pem --key server.key | --server-dir DIR)
// With --server-dir, a broker CA and a localhost server certificate are created in DIR
// (once); give DIR/broker-ca.pem to the board: vboard serve --root-ca DIR/broker-ca.pem.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Aedes } from 'aedes';

/**
 * @param {{ ca: string|Buffer, cert: string|Buffer, key: string|Buffer, port?: number, host?: string,
 *           log?: (line: string) => void }} options  port 0 picks a free port
 * @returns {Promise<{ port: number, host: string, messages: {topic: string, payload: string, clientId: string}[],
 *           clients: {clientId: string, username: string}[], close: () => Promise<void> }>}
 */
export async function startBroker({ ca, cert, key, port = 8883, host = '127.0.0.1', log = (line) => process.stderr.write(line + '\n') }) {
  const messages = [];
  const clients = [];
  const aedes = await Aedes.createBroker({
    // The certificate's CN is the username (use_identity_as_username).
    authenticate(client, _username, _password, done) {
      const cn = client.conn.getPeerCertificate?.()?.subject?.CN;
      if (!cn) return done(Object.assign(new Error('no client certificate'), { returnCode: 5 }), false);
      client.identity = cn;
      done(null, true);
    },
  });
  aedes.on('client', (client) => {
    clients.push({ clientId: client.id, username: client.identity });
    log(`broker: client connected: client id "${client.id}", certificate CN (username) "${client.identity}"`);
  });
  aedes.on('clientDisconnect', (client) => log(`broker: client disconnected: "${client.id}"`));
  aedes.on('publish', (packet, client) => {
    if (!client) return; // the broker's own $SYS messages
    const payload = packet.payload.toString();
    messages.push({ topic: packet.topic, payload, clientId: client.id });
    log(`broker: PUBLISH from "${client.id}" to ${packet.topic}: ${payload}`);
  });
  // TLS 1.2 as in the Mosquitto test config: a refused client certificate then fails the
  // handshake itself (with TLS 1.3 the client would learn it only after "connecting").
  const server = tls.createServer({ ca, cert, key, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }, aedes.handle);
  server.on('tlsClientError', (err, socket) =>
    log(`broker: TLS handshake refused from ${socket.remoteAddress ?? 'a client'}: ${err.code ?? ''} ${String(err.message).split('\n')[0]}`.trim()),
  );
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const actualPort = server.address().port;
  log(`broker: listening on ${host}:${actualPort} (mutual TLS)`);
  return {
    port: actualPort,
    host,
    messages,
    clients,
    close: () =>
      new Promise((resolve) => {
        server.close(() => aedes.close(() => resolve()));
        for (const c of Object.values(aedes.clients)) c.close();
      }),
  };
}

async function cli(argv) {
  const { values } = parseArgs({
    args: argv,
    options: { ca: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' }, 'server-dir': { type: 'string' }, port: { type: 'string', default: '8883' }, host: { type: 'string', default: '127.0.0.1' } },
  });
  if (!values.ca || !(values['server-dir'] || (values.cert && values.key))) {
    process.stderr.write('usage: broker.mjs --ca DEVICE_CA.pem (--cert FILE --key FILE | --server-dir DIR) [--port 8883] [--host 127.0.0.1]\n');
    process.exitCode = 64;
    return;
  }
  let { cert, key } = values;
  if (values['server-dir']) {
    const { ensureServerCertificate } = await import('./server-cert.mjs');
    const files = await ensureServerCertificate(values['server-dir']);
    ({ certFile: cert, keyFile: key } = files);
    process.stderr.write(`broker: server certificate ${cert}; the board must trust ${files.caFile}\n`);
  }
  const broker = await startBroker({ ca: readFileSync(values.ca), cert: readFileSync(cert), key: readFileSync(key), port: Number(values.port), host: values.host });
  const stop = () => void broker.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await cli(process.argv.slice(2));
