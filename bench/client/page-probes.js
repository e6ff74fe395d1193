// Functions evaluated inside the page. Each is self-contained (playwright
// serialises it) and reports times on the epoch clock the server stamps
// `updated_at_ms` with: performance.timeOrigin + performance.now().
'use strict';

// Records every change of the widget's data-* attributes with a timestamp;
// the log lives in window.uprLog.
function watchWidget() {
  window.uprLog = [];
  const now = () => performance.timeOrigin + performance.now();
  const snap = (s) => ({
    t: now(), seq: Number(s.dataset.seq), connection: s.dataset.connection,
    mode: s.dataset.mode, state: s.dataset.state,
  });
  const root = document.getElementById('root');
  const mo = new MutationObserver(() => {
    const s = root.querySelector('section.upr');
    if (!s) return;
    const e = snap(s);
    const last = window.uprLog[window.uprLog.length - 1];
    if (!last || last.seq !== e.seq || last.connection !== e.connection || last.mode !== e.mode) window.uprLog.push(e);
  });
  mo.observe(root, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-seq', 'data-connection', 'data-mode'] });
}

// A raw socket on the same job: remembers the server's `updated_at_ms` per seq.
function tapJob(id) {
  window.uprStamps = {};
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${location.host}/ws/progress/${id}`);
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (m.progress) window.uprStamps[m.progress.seq] = m.progress.updated_at_ms;
    };
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error('tap socket failed'));
  });
}

module.exports = { watchWidget, tapJob };
