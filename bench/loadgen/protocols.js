// The two wire dialects the load generator speaks over the same minimal
// WebSocket client (wire.js). Each turns a text frame into what the subscriber
// needs (seq, state, updated_at_ms, and whether it is the first snapshot) and
// answers the protocol's own keep-alives. Both dialects read the three fields
// with the same scan of the text instead of a full JSON.parse: the generator's
// cost per frame is what limits it on a small machine, and the servers, not
// a client's parser, are under test.
'use strict';

// The value after `"key":` in `text` from `from` on: a number, or a string's contents.
function field(text, key, from) {
  const at = text.indexOf(`"${key}":`, from);
  if (at < 0) throw new Error(`frame without ${key}: ${text.slice(0, 120)}`);
  const start = at + key.length + 3;
  if (text[start] === '"') return text.slice(start + 1, text.indexOf('"', start + 1));
  return parseFloat(text.slice(start, start + 24));
}

// The fields of the `Progress` object starting at `from`.
function progressAt(text, from) {
  return {
    process_id: field(text, 'process_id', from),
    seq: field(text, 'seq', from),
    state: field(text, 'state', from),
    updated_at_ms: field(text, 'updated_at_ms', from),
  };
}

// upload-progress-server: `GET /ws/progress/{id}`, frames
// `{"type":"snapshot"|"progress","progress":{...}}`; pings are WebSocket
// control frames, which wire.js answers.
const ours = {
  name: 'upload-progress-server',
  url: (base, job) => `${base.replace(/^http/, 'ws')}/ws/progress/${job}`,
  startPath: (job, stepMs, steps, startInMs) => `/ws/test/${job}?step_ms=${stepMs}&steps_per_stage=${steps}&start_in_ms=${startInMs}`,
  progressPath: (job) => `/ws/progress/${job}`,
  read(text) {
    const type = field(text, 'type', 0);
    if (type !== 'snapshot' && type !== 'progress') return null;
    return { progress: progressAt(text, text.indexOf('"progress":{')), live: type === 'progress' };
  },
};

// Socket.IO 4 over its WebSocket transport (Engine.IO v4): the server opens
// with `0{...}`, the client joins the default namespace with `40`, events come
// as `42["name",payload]`, and the server's `2` pings need a `3` back.
const socketio = {
  name: 'socket.io',
  url: (base, job) => `${base.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket&job=${job}`,
  startPath: (job, stepMs, steps, startInMs) => `/test/${job}?step_ms=${stepMs}&steps_per_stage=${steps}&start_in_ms=${startInMs}`,
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
    if (!text.startsWith('42["')) return null;
    const name = text.slice(4, text.indexOf('"', 4));
    if (name !== 'snapshot' && name !== 'progress') return null;
    return { progress: progressAt(text, text.indexOf('"progress":{')), live: name === 'progress' };
  },
};

// The fan-out floor (`fanout-floor`, bench/src/floor): our paths and frames,
// written by a minimal program, read exactly as ours are.
const floor = { ...ours, name: 'fan-out floor' };

// Our event stream (`GET /ws/page/events?ids=JOB`, read by sse.js): the
// same frames as the page socket, one job per stream here.
const sse = {
  ...ours,
  name: 'upload-progress-server, event stream',
  transport: 'sse',
  url: (base, job) => `${base}/ws/page/events?ids=${job}`,
};

// Our page socket (`GET /ws/page`): one socket follows several jobs, named
// in a `subscribe` sent once the upgrade is done; frames as on ours.
const page = {
  ...ours,
  name: 'upload-progress-server, page socket',
  url: (base) => `${base.replace(/^http/, 'ws')}/ws/page`,
  hello: (jobs) => JSON.stringify({ type: 'subscribe', jobs: jobs.map((id) => ({ process_id: id })) }),
};

const PROTOCOLS = { ours, socketio, floor, sse, page };

function protocol(name) {
  const p = PROTOCOLS[name];
  if (!p) throw new Error(`unknown target ${JSON.stringify(name)}; expected one of ${Object.keys(PROTOCOLS).join(', ')}`);
  return p;
}

module.exports = { protocol };
