// A byte relay between TCP and a unix socket, one process per side of a network namespace
// boundary (test/harness/node.ts): a unix socket is a file, so it joins two namespaces that share
// no network. Bytes pass through unchanged (TLS stays end to end).
//
//   node relay.mjs unix-to-tcp <socket path> <host:port>          listen on the socket, dial TCP
//   node relay.mjs tcp-to-unix <host:port>[,<host:port>...] <socket path>
//
// Prints "ready" once every listener is bound; exits on SIGTERM.
import { connect, createServer } from 'node:net';
import { rmSync } from 'node:fs';

const [mode, from, to] = process.argv.slice(2);

function hostPort(text) {
  const at = text.lastIndexOf(':');
  return { host: text.slice(0, at), port: Number(text.slice(at + 1)) };
}

const open = new Set();

/** Pipes each accepted connection to a new one made by `dial`; either side closing closes both. */
function relayServer(dial) {
  return createServer((client) => {
    const upstream = dial();
    open.add(client).add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
}

function listen(server, ...where) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(...where, () => resolve(server));
  });
}

let servers;
if (mode === 'unix-to-tcp' && from && to) {
  const target = hostPort(to);
  rmSync(from, { force: true });
  servers = [
    await listen(
      relayServer(() => connect(target.port, target.host)),
      from,
    ),
  ];
} else if (mode === 'tcp-to-unix' && from && to) {
  servers = await Promise.all(
    from.split(',').map((address) => {
      const { host, port } = hostPort(address);
      return listen(
        relayServer(() => connect(to)),
        port,
        host,
      );
    }),
  );
} else {
  console.error('usage: relay.mjs unix-to-tcp <socket> <host:port> | tcp-to-unix <host:port>[,...] <socket>');
  process.exitCode = 2;
}
if (servers) {
  console.log('ready');
  process.on('SIGTERM', () => {
    for (const server of servers) server.close();
    // Open connections (watches) would keep the process alive.
    for (const socket of open) socket.destroy();
  });
}
