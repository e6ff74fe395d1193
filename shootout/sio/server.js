// The Socket.IO 4 server of the shoot-out, with the library's defaults
// (long-polling first, then an upgrade to WebSocket; 25 s pings, 20 s ping
// timeout). Each client joins its job's room (`?job=`), gets a `snapshot`,
// then every `progress` of the job.
//
// The job does not run here: the shoot-out restarts this process mid-job, as
// it restarts the dev server instance the other clients talk to, while the
// job carries on elsewhere. The job's runner pushes each state with
// `POST /push` (JSON Progress); a restarted server starts from the state
// given in the environment (SHOOTOUT_STATE, a JSON list of Progress), so a
// client reconnecting after the restart gets the truth, not `pending`.
// Prints `listening on http://ADDR` first, like upload-progress-server.
'use strict';

const http = require('node:http');
const { Server } = require('socket.io');
const { serveJobRooms, listenOnLoopback } = require('../../bench/socketio/rooms');

const jobs = new Map();
for (const p of JSON.parse(process.env.SHOOTOUT_STATE || '[]')) jobs.set(p.process_id, p);

const httpServer = http.createServer((req, res) => {
  // Socket.IO answers /socket.io/ itself and hands every other request here.
  if (req.method !== 'POST' || req.url !== '/push') { res.writeHead(404).end(); return; }
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    const p = JSON.parse(body);
    const known = jobs.get(p.process_id);
    // Only newer states: a push retried after a newer one must not go back.
    if (!known || known.seq < p.seq) {
      jobs.set(p.process_id, p);
      io.to(p.process_id).emit('progress', { progress: p });
    }
    res.writeHead(204).end();
  });
});

// The pages are served from another origin than this server's proxy.
const io = new Server(httpServer, { cors: { origin: true } });
serveJobRooms(io, jobs);
listenOnLoopback(httpServer, Number(process.argv[2] ?? 0));
