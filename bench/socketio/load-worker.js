// One load-generator process: owns a share of the socket.io-client subscribers
// and answers the coordinator (load.js) over the fork IPC channel. Several of
// these run side by side so the Node client side is not one event loop doing
// everything, which would measure the client rather than the server.
'use strict';

const { io } = require('socket.io-client');

const clients = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function connect({ base, jobs }) {
  return new Promise((resolve) => {
    let pending = jobs.length;
    if (pending === 0) resolve();
    for (const job of jobs) {
      const c = { lastSeq: 0, seqs: 0, finalSeq: null, latencies: [] };
      // forceNew: without it socket.io-client multiplexes every subscriber over one connection.
      c.socket = io(base, { transports: ['websocket'], forceNew: true, query: { job } });
      c.socket.once('connect', () => { pending -= 1; if (pending === 0) resolve(); });
      const accept = (p, live) => {
        if (p.seq <= c.lastSeq) return;
        c.lastSeq = p.seq;
        if (p.seq > 0) {
          c.seqs += 1;
          if (live) c.latencies.push(Date.now() - p.updated_at_ms);
        }
        if (['completed', 'failed', 'cancelled'].includes(p.state)) c.finalSeq = p.seq;
      };
      c.socket.on('snapshot', ({ progress }) => accept(progress, false));
      c.socket.on('progress', ({ progress }) => accept(progress, true));
      clients.push(c);
    }
  });
}

async function waitFinals({ limitMs }) {
  const start = Date.now();
  while (clients.some((c) => c.finalSeq === null) && Date.now() - start < limitMs) await sleep(20);
}

function report() {
  const r = {
    latencies: clients.flatMap((c) => c.latencies),
    seqs: clients.reduce((s, c) => s + c.seqs, 0),
    finals: clients.filter((c) => c.finalSeq !== null).length,
  };
  for (const c of clients) c.socket.disconnect();
  return r;
}

process.on('message', async (m) => {
  if (m.cmd === 'connect') { await connect(m); process.send({ ok: true }); }
  if (m.cmd === 'cpu') { const u = process.cpuUsage(); process.send({ cpuS: (u.user + u.system) / 1e6 }); }
  if (m.cmd === 'wait') { await waitFinals(m); process.send({ ok: true }); }
  if (m.cmd === 'report') { process.send(report()); }
});
