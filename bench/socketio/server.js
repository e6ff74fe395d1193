// Socket.IO 4 peer of the dev server: each client joins its job's room (from
// the handshake query), gets a snapshot, then every progress update of the job.
// Prints `listening on http://ADDR` first, like upload-progress-server.
'use strict';

const http = require('node:http');
const { Server } = require('socket.io');
const { pending, runJob } = require('./progress');
const { serveJobRooms, listenOnLoopback } = require('./rooms');

const jobs = new Map();

const httpServer = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const m = url.pathname.match(/^\/(test|progress)\/([A-Za-z0-9_-]{1,128})$/);
  if (!m) { res.writeHead(404).end(); return; }
  const [, route, id] = m;
  if (route === 'test' && req.method === 'POST') {
    const stepMs = Number(url.searchParams.get('step_ms') ?? 400);
    const steps = Number(url.searchParams.get('steps_per_stage') ?? 5);
    // As on our server: a start this server times itself, from the request.
    const startInMs = Number(url.searchParams.get('start_in_ms') ?? 0);
    const start = () => runJob(id, stepMs, steps, (p) => {
      jobs.set(id, p);
      io.to(id).emit('progress', { progress: p });
    });
    if (startInMs > 0) setTimeout(start, startInMs);
    else start();
    res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ process_id: id }));
  } else if (route === 'progress' && req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ progress: jobs.get(id) ?? pending(id) }));
  } else {
    res.writeHead(405).end();
  }
});

// WebSocket only and no compression, like our server: the comparison is socket against socket.
const io = new Server(httpServer, { transports: ['websocket'], perMessageDeflate: false });
serveJobRooms(io, jobs);
listenOnLoopback(httpServer, Number(process.argv[2] ?? 0));
