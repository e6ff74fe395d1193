// Functions evaluated inside the harness pages (playwright serialises each,
// so each is self-contained). Times are epoch ms
// (performance.timeOrigin + performance.now()), the clock the servers' truth
// is recorded on.
'use strict';

// Init script, before any page script: counts every WebSocket the page
// constructs, whichever library asks (the wasm glue looks the global up at
// call time, so it goes through this too).
function countSockets() {
  const now = () => performance.timeOrigin + performance.now();
  window.shootoutSockets = [];
  const Native = window.WebSocket;
  window.WebSocket = new Proxy(Native, {
    construct(target, args, newTarget) {
      window.shootoutSockets.push(now());
      return Reflect.construct(target, args, newTarget);
    },
  });
  // Every fetch the page starts and how it ends (polls, for the record).
  window.shootoutFetches = [];
  const nativeFetch = window.fetch;
  window.fetch = function shootoutFetch(...args) {
    const entry = { t: now(), url: String(args[0] && args[0].url ? args[0].url : args[0]) };
    window.shootoutFetches.push(entry);
    const done = nativeFetch.apply(this, args);
    done.then((r) => { entry.end = now(); entry.status = r.status; },
      (e) => { entry.end = now(); entry.error = String(e); });
    return done;
  };
}

// Records every change of what the page shows (window.shootoutRead(), set by
// each harness page) into window.shootoutLog. A mutation observer catches
// changes as they render; the 200 ms sample is a safety net.
function watchScreen() {
  const now = () => performance.timeOrigin + performance.now();
  window.shootoutLog = [];
  const record = () => {
    const log = window.shootoutLog;
    let v = window.shootoutRead && window.shootoutRead();
    // A view that vanishes after showing something shows nothing: that is logged too.
    if (!v && log.length === 0) return;
    if (!v) v = { seq: 0, percent: 0, state: '', indicator: '(nothing shown)', live: false };
    const last = log[log.length - 1];
    if (last && last.seq === v.seq && last.percent === v.percent && last.state === v.state
      && last.live === v.live && last.indicator === v.indicator) return;
    log.push({ t: now(), ...v });
  };
  new MutationObserver(record).observe(document.body,
    { subtree: true, childList: true, attributes: true, characterData: true });
  setInterval(record, 200);
  record();
}

module.exports = { countSockets, watchScreen };
