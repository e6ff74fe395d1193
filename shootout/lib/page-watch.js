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
}

// Records every change of what the page shows (window.shootoutRead(), set by
// each harness page) into window.shootoutLog. A mutation observer catches
// changes as they render; the 200 ms sample is a safety net.
function watchScreen() {
  const now = () => performance.timeOrigin + performance.now();
  window.shootoutLog = [];
  const record = () => {
    const v = window.shootoutRead && window.shootoutRead();
    if (!v) return;
    const log = window.shootoutLog;
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
