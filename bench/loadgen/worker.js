// One load-generator process: owns a share of the subscribers, each a
// minimal WebSocket client (wire.js), and answers the coordinator (fanout.js) over the fork IPC
// channel. One such process runs per CPU for either server, so both are read
// by the same process model.
'use strict';

const wire = require('./wire');
const sse = require('./sse');
const { protocol } = require('./protocols');

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

const subscribers = [];
// Receipt time minus `updated_at_ms` of every live update, all subscribers of this process.
const latencies = [];
// The same for final states alone: they come in a burst as jobs end, with the closes.
const finalLatencies = [];
// With `timeline` asked for: [updated_at_ms, receipt, seq] of every live update.
const timeline = [];
let keepTimeline = false;
let finalsLeft = 0;
let onAllFinals = null;

function subscribe(proto, url) {
  return new Promise((resolve) => {
    const s = { lastSeq: 0, seqs: 0, final: false, ready: false, lost: false, closed: false };
    const onText = (text, now) => {
      const got = proto.read(text, (reply) => s.socket.sendText(reply));
      if (!got) return;
      const p = got.progress;
      if (!s.ready) {
        s.ready = true;
        resolve(true);
      }
      if (p.seq <= s.lastSeq) return;
      s.lastSeq = p.seq;
      s.seqs += 1;
      // `now` was read when the bytes arrived, before any parsing.
      const last = TERMINAL.has(p.state);
      if (got.live) {
        latencies.push(now - p.updated_at_ms);
        if (keepTimeline) timeline.push([p.updated_at_ms, now, p.seq]);
        if (last) finalLatencies.push(now - p.updated_at_ms);
      }
      if (last && !s.final) {
        s.final = true;
        finalsLeft -= 1;
        if (finalsLeft === 0) {
          wire.flushCloses();
          if (onAllFinals) onAllFinals();
        }
      }
    };
    const onClose = () => {
      s.closed = true;
      if (!s.final) s.lost = true;
      if (!s.ready) resolve(false);
    };
    s.socket = (proto.transport === 'sse' ? sse : wire).open(url, { onText, onClose });
    subscribers.push(s);
  });
}

async function connect({ target, urls, withTimeline }) {
  keepTimeline = Boolean(withTimeline);
  const proto = protocol(target);
  finalsLeft += urls.length;
  const ready = await Promise.all(urls.map((url) => subscribe(proto, url)));
  const failed = ready.filter((ok) => !ok).length;
  return { ready: ready.length - failed, failed };
}

function waitFinals({ limitMs }) {
  return new Promise((resolve) => {
    if (finalsLeft === 0) return resolve({ ok: true });
    const timer = setTimeout(() => {
      onAllFinals = null;
      resolve({ ok: false });
    }, limitMs);
    onAllFinals = () => {
      clearTimeout(timer);
      onAllFinals = null;
      resolve({ ok: true });
    };
  });
}

function report() {
  const r = {
    latencies,
    finalLatencies,
    seqs: subscribers.reduce((t, s) => t + s.seqs, 0),
    finals: subscribers.filter((s) => s.final).length,
    lost: subscribers.filter((s) => s.lost).length,
    open: subscribers.filter((s) => s.ready && !s.closed).length,
    timeline,
  };
  for (const s of subscribers) s.socket.terminate();
  return r;
}

process.on('message', async (m) => {
  try {
    if (m.cmd === 'connect') process.send(await connect(m));
    else if (m.cmd === 'wait') process.send(await waitFinals(m));
    else if (m.cmd === 'report') process.send(report());
    else if (m.cmd === 'collect') {
      // A full collection (the coordinator forks workers with --expose-gc).
      if (global.gc) global.gc();
      process.send({ collected: Boolean(global.gc) });
    }
    else process.send({ error: `unknown command ${JSON.stringify(m.cmd)}` });
  } catch (e) {
    process.send({ error: String(e && e.stack ? e.stack : e) });
  }
});
