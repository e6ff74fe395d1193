// The two wire dialects the load generator speaks over the same minimal
// WebSocket client (wire.js). Each turns a text frame into what the subscriber needs (a progress
// state, and whether it is the first snapshot) and answers the protocol's own
// keep-alives, so both servers are read with the same code path: one
// JSON.parse per frame, receipt time taken before anything else.
'use strict';

// upload-progress-server: `GET /ws/progress/{id}`, frames
// `{"type":"snapshot"|"progress","progress":{...}}`; pings are WebSocket
// control frames, which wire.js answers.
const ours = {
  name: 'upload-progress-server',
  url: (base, job) => `${base.replace(/^http/, 'ws')}/ws/progress/${job}`,
  startPath: (job, stepMs, steps) => `/ws/test/${job}?step_ms=${stepMs}&steps_per_stage=${steps}`,
  progressPath: (job) => `/ws/progress/${job}`,
  read(text) {
    const m = JSON.parse(text);
    if (m.type === 'snapshot') return { progress: m.progress, live: false };
    if (m.type === 'progress') return { progress: m.progress, live: true };
    return null;
  },
};

// Socket.IO 4 over its WebSocket transport (Engine.IO v4): the server opens
// with `0{...}`, the client joins the default namespace with `40`, events come
// as `42["name",payload]`, and the server's `2` pings need a `3` back.
const socketio = {
  name: 'socket.io',
  url: (base, job) => `${base.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket&job=${job}`,
  startPath: (job, stepMs, steps) => `/test/${job}?step_ms=${stepMs}&steps_per_stage=${steps}`,
  progressPath: (job) => `/progress/${job}`,
  read(text, reply) {
    if (text === '2') {
      reply('3');
      return null;
    }
    if (text.startsWith('0')) {
      reply('40');
      return null;
    }
    if (!text.startsWith('42')) return null;
    const [name, payload] = JSON.parse(text.slice(2));
    if (name === 'snapshot') return { progress: payload.progress, live: false };
    if (name === 'progress') return { progress: payload.progress, live: true };
    return null;
  },
};

const PROTOCOLS = { ours, socketio };

function protocol(name) {
  const p = PROTOCOLS[name];
  if (!p) throw new Error(`unknown target ${JSON.stringify(name)}; expected one of ${Object.keys(PROTOCOLS).join(', ')}`);
  return p;
}

module.exports = { protocol };
