// The control channel between `vboard` commands and the `vboard serve` process that
// owns the board: one JSON request per connection, one JSON reply.
import net from 'node:net';

export function request(socketPath, message, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`no answer from the board within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    socket.on('connect', () => socket.end(JSON.stringify(message) + '\n'));
    socket.on('data', (chunk) => (reply += chunk));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (!reply) return reject(Object.assign(new Error('the board closed the connection'), { code: 'ECONNRESET' }));
      try {
        resolve(JSON.parse(reply));
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** True when a `vboard serve` process answers for the board. */
export async function isServed(socketPath) {
  try {
    const reply = await request(socketPath, { cmd: 'ping' }, 2000);
    return reply.ok === true;
  } catch {
    return false;
  }
}

export function listen(socketPath, handler) {
  // allowHalfOpen: the client ends its side after the request; the reply comes later.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    let body = '';
    socket.on('data', (chunk) => {
      body += chunk;
      if (!body.includes('\n')) return;
      let message;
      try {
        message = JSON.parse(body);
      } catch {
        socket.end(JSON.stringify({ ok: false, error: 'bad request' }));
        return;
      }
      Promise.resolve()
        .then(() => handler(message))
        .then(
          (result) => socket.end(JSON.stringify({ ok: true, ...result })),
          (err) => socket.end(JSON.stringify({ ok: false, error: err.message })),
        );
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve(server));
  });
}
