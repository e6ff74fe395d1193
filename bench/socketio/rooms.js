// The wiring both Socket.IO servers share (the fan-out peer and the
// shoot-out's): job rooms with a snapshot on join, and a loopback listener
// that announces itself the way upload-progress-server does.
'use strict';

const { pending } = require('./progress');

// Each client joins its job's room (`?job=` in the handshake; several jobs
// comma-separated, as a page following several) and gets each job's current
// state (or `pending`) as a `snapshot`.
function serveJobRooms(io, jobs) {
  io.on('connection', (socket) => {
    for (const id of String(socket.handshake.query.job ?? '').split(',')) {
      socket.join(id);
      socket.emit('snapshot', { progress: jobs.get(id) ?? pending(id) });
    }
  });
}

// Listens on 127.0.0.1:`port` (0: any) and prints `listening on http://ADDR`.
function listenOnLoopback(httpServer, port) {
  httpServer.listen(port, '127.0.0.1', () => {
    const a = httpServer.address();
    process.stdout.write(`listening on http://${a.address}:${a.port}\n`);
  });
}

module.exports = { serveJobRooms, listenOnLoopback };
