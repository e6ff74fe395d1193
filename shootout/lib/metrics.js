// Turns one client's screen log and its server's truth into the shoot-out's
// figures. Everything is computed from what the page showed, sampled on a
// 50 ms grid, against what the server had at that moment.
'use strict';

const SAMPLE_MS = 50;
// A state the server made less than this long ago does not count as missed
// yet: delivery and rendering take a few ms, and a sample may fall between.
const DELIVERY_TOLERANCE_MS = 1000;
// A fault counts as announced if the indicator leaves "live" between its
// start and this long after its end (a client may need a moment to notice),
// or the next fault's start if that comes first.
const ANNOUNCE_WINDOW_MS = 5000;

// The entry of `entries` (sorted by t) in force at time t, or null.
function at(entries, t) {
  let found = null;
  for (const e of entries) {
    if (e.t > t) break;
    found = e;
  }
  return found;
}

// Longest run of consecutive grid samples in [from, to) for which pred holds, in ms.
function longestRun(from, to, pred) {
  let best = 0;
  let start = null;
  for (let t = from; t < to; t += SAMPLE_MS) {
    if (pred(t)) {
      if (start === null) start = t;
      best = Math.max(best, t + SAMPLE_MS - start);
    } else {
      start = null;
    }
  }
  return best;
}

// truth: [{t, seq, state, percent}] from the server; log: [{t, seq, percent,
// state, live, indicator}] from the page; faults: [{kind, at, until}] in
// epoch ms; t0/end: the run's window in epoch ms.
function clientFigures({ truth, log, faults, t0, end, sockets }) {
  const final = truth[truth.length - 1];
  const shownAt = (t) => at(log, t);
  const shownSeq = (t) => (shownAt(t) ? shownAt(t).seq : 0);
  const owedSeq = (t) => (at(truth, t - DELIVERY_TOLERANCE_MS) || { seq: 0 }).seq;
  const stale = (t) => shownSeq(t) < owedSeq(t);
  const faultsEnd = Math.max(...faults.map((f) => f.until));

  const last = log[log.length - 1];
  const finalShown = log.find((e) => e.seq >= final.seq && e.state === final.state);
  let caughtUp = null;
  for (let t = faultsEnd; t < end; t += SAMPLE_MS) {
    if (!stale(t) && shownSeq(t) >= (at(truth, t) || { seq: 0 }).seq) { caughtUp = t; break; }
  }
  let regressions = 0;
  for (let i = 1; i < log.length; i += 1) {
    const [a, b] = [log[i - 1], log[i]];
    if (a.seq > 0 && (b.seq < a.seq || b.percent < a.percent)) regressions += 1;
  }
  // The window closes early at the next fault, so one fault's warning is not
  // credited to the one before.
  const windowEnd = (f) => Math.min(f.until + ANNOUNCE_WINDOW_MS, ...faults.filter((g) => g.at > f.at).map((g) => g.at));
  const notLiveDuring = (f) => {
    const inForce = shownAt(f.at);
    return (inForce && !inForce.live) || log.some((e) => !e.live && e.t >= f.at && e.t <= windowEnd(f));
  };
  const announced = faults.filter(notLiveDuring);

  return {
    finalOk: Boolean(last && last.seq === final.seq && last.state === final.state),
    finalLagMs: finalShown ? Math.max(0, Math.round(finalShown.t - final.t)) : null,
    catchUpMs: caughtUp === null ? null : Math.round(caughtUp - faultsEnd),
    staleMaxMs: longestRun(t0, end, stale),
    staleShownLiveMaxMs: longestRun(t0, end, (t) => stale(t) && Boolean(shownAt(t) && shownAt(t).live)),
    regressions,
    socketsOpened: sockets.length,
    faultsAnnounced: announced.map((f) => f.kind),
    faultCount: faults.length,
    lastShown: last ? { seq: last.seq, state: last.state, indicator: last.indicator } : null,
    serverFinal: { seq: final.seq, state: final.state },
  };
}

module.exports = { clientFigures, DELIVERY_TOLERANCE_MS, ANNOUNCE_WINDOW_MS };
