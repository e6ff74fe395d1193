// Draws one run as an SVG timeline: per client, the percent its page showed
// (coloured) over its server's percent (grey), the indicator underneath
// (green: says connected or finished; red: says it is not), and the fault
// windows shaded across all lanes.
'use strict';

const { backendOf } = require('./clients');

const WIDTH = 960;
const LEFT = 200;
const RIGHT = 20;
const TOP = 40;
const LANE = 78;
const PLOT = 52;
const BAND = 8;
const FAULT_COLOURS = { drop: '#d62728', refuse: '#ff7f0e', stall: '#9467bd', restart: '#8c564b', offline: '#7f7f7f' };

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

// Points of a step line through (t, value) entries, held to `end`.
function steps(entries, x, y, end) {
  const pts = [];
  let prev = null;
  for (const e of entries) {
    if (prev !== null) pts.push(`${x(e.t).toFixed(1)},${y(prev).toFixed(1)}`);
    pts.push(`${x(e.t).toFixed(1)},${y(e.value).toFixed(1)}`);
    prev = e.value;
  }
  if (prev !== null) pts.push(`${x(end).toFixed(1)},${y(prev).toFixed(1)}`);
  return pts.join(' ');
}

function timelineSvg(result, run, title) {
  const { t0, end } = run;
  const lanes = result.clients;
  const height = TOP + lanes.length * LANE + 40;
  // What happened before the job started (pages connecting) is drawn at 0.
  const x = (t) => LEFT + ((Math.max(t, t0) - t0) / (end - t0)) * (WIDTH - LEFT - RIGHT);
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${WIDTH}" height="${height}" fill="white"/>`);
  out.push(`<text x="${LEFT}" y="16" font-size="13" font-weight="bold">${esc(title)}</text>`);
  for (const f of run.faults) {
    const x1 = x(f.at);
    const w = Math.max(2, x(f.until) - x1);
    out.push(`<rect x="${x1.toFixed(1)}" y="${TOP - 12}" width="${w.toFixed(1)}" height="${lanes.length * LANE + 12}" fill="${FAULT_COLOURS[f.kind]}" opacity="0.15"/>`);
    out.push(`<text x="${x1.toFixed(1)}" y="${TOP - 2}" fill="${FAULT_COLOURS[f.kind]}">${f.kind}</text>`);
  }
  lanes.forEach(({ key, name }, i) => {
    const top = TOP + i * LANE;
    const y = (pct) => top + PLOT - (pct / 100) * PLOT;
    const c = run.clients[key];
    const truth = run.truth[backendOf(key)];
    out.push(`<text x="4" y="${top + 20}" font-weight="bold">${esc(key)}</text>`);
    out.push(`<text x="4" y="${top + 34}" fill="#555" font-size="10">${esc(name.replace(/`/g, '').replace(/ \(.*\)$/, '')).slice(0, 34)}</text>`);
    out.push(`<text x="4" y="${top + 48}" fill="#555">final ${c.figures.finalOk ? 'right' : 'WRONG'}, ${c.figures.socketsOpened} sockets</text>`);
    out.push(`<rect x="${LEFT}" y="${top}" width="${WIDTH - LEFT - RIGHT}" height="${PLOT}" fill="none" stroke="#ddd"/>`);
    out.push(`<polyline fill="none" stroke="#aaa" stroke-width="3" points="${steps(truth.map((e) => ({ t: e.t, value: e.percent })), x, y, end)}"/>`);
    out.push(`<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${steps(c.log.map((e) => ({ t: e.t, value: e.percent })), x, y, end)}"/>`);
    const bandY = top + PLOT + 3;
    c.log.forEach((e, j) => {
      const next = j + 1 < c.log.length ? c.log[j + 1].t : end;
      const x1 = x(Math.max(e.t, t0));
      const w = x(next) - x1;
      if (w > 0) out.push(`<rect x="${x1.toFixed(1)}" y="${bandY}" width="${w.toFixed(1)}" height="${BAND}" fill="${e.live ? '#2ca02c' : '#d62728'}"/>`);
    });
  });
  const axisY = TOP + lanes.length * LANE + 4;
  const seconds = (end - t0) / 1000;
  const stepS = seconds > 120 ? 20 : 10;
  for (let s = 0; s <= seconds; s += stepS) {
    const xs = x(t0 + s * 1000).toFixed(1);
    out.push(`<line x1="${xs}" y1="${axisY}" x2="${xs}" y2="${axisY + 4}" stroke="black"/>`);
    out.push(`<text x="${xs}" y="${axisY + 16}" text-anchor="middle">${s} s</text>`);
  }
  out.push(`<text x="4" y="${axisY + 30}" fill="#555">grey: server's percent; blue: percent on screen; band: indicator (green says connected or finished, red says not)</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

module.exports = { timelineSvg };
