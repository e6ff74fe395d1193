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
let finalsTotal = 0;
let onAllFinals = null;

// One connection following `jobs` (one job, or a page's several): per job
// the last seq and whether its final state came; ready once every job's
// first frame (its snapshot) arrived.
function subscribe(proto, url, jobs, localAddress) {
  return new Promise((resolve) => {
    const perJob = new Map(jobs.map((id) => [id, { lastSeq: 0, seen: false, final: false }]));
    let unseen = jobs.length;
    let finalsHere = 0;
    const s = { seqs: 0, final: false, ready: false, lost: false, closed: false };
    const onText = (text, now) => {
      const got = proto.read(text, (reply) => s.socket.sendText(reply));
      if (!got) return;
      const p = got.progress;
      // One job per connection: its frames need not name it.
      const j = jobs.length === 1 ? perJob.get(jobs[0]) : perJob.get(p.process_id);
      if (!j) return;
      if (!j.seen) {
        j.seen = true;
        unseen -= 1;
        if (unseen === 0 && !s.ready) {
          s.ready = true;
          resolve(true);
        }
      }
      if (p.seq <= j.lastSeq) return;
      j.lastSeq = p.seq;
      s.seqs += 1;
      // `now` was read when the bytes arrived, before any parsing.
      const last = TERMINAL.has(p.state);
      if (got.live) {
        latencies.push(now - p.updated_at_ms);
        if (keepTimeline) timeline.push([p.updated_at_ms, now, p.seq]);
        if (last) finalLatencies.push(now - p.updated_at_ms);
      }
      if (last && !j.final) {
        j.final = true;
        finalsHere += 1;
        s.final = finalsHere === jobs.length;
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
    const onOpen = proto.hello ? () => s.socket.sendText(proto.hello(jobs)) : undefined;
    s.socket = (proto.transport === 'sse' ? sse : wire).open(url, { onText, onClose, onOpen, localAddress });
    subscribers.push(s);
  });
}

async function connect({ target, urls, withTimeline }) {
  keepTimeline = Boolean(withTimeline);
  finalsTotal += urls.reduce((t, u) => t + u.jobs.length, 0);
  const proto = protocol(target);
  // Each entry: { url, jobs, localAddress } (the jobs that connection
  // follows; the source address to bind, or none).
  finalsLeft += urls.reduce((t, u) => t + u.jobs.length, 0);
  const ready = await Promise.all(urls.map((u) => subscribe(proto, u.url, u.jobs, u.localAddress)));
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
    jobFinals: finalsTotal - finalsLeft,
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
