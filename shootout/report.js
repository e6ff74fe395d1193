// Writes the shoot-out section (bench/shootout.md) and its timeline SVGs from
// the results of run.js: the compressed (default) run and, when present, the
// last full-schedule run, each labelled.
//
// usage: node report.js --compressed FILE [--full FILE] --md OUT.md --svg-dir DIR
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { timelineSvg } = require('./lib/timeline-svg');
const { backendOf } = require('./lib/clients');
const { clientFigures, DELIVERY_TOLERANCE_MS, ANNOUNCE_WINDOW_MS } = require('./lib/metrics');

function parseArgs() {
  const a = { compressed: '', full: '', md: '', 'svg-dir': '' };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in a)) throw new Error(`unknown option ${argv[i]}`);
    a[key] = argv[i + 1];
  }
  if (!a.md || !a['svg-dir']) throw new Error('--md and --svg-dir are required');
  return a;
}

// min / median / max of values where null means "never" (sorted last).
function spread(values, format) {
  const v = [...values].sort((a, b) => (a ?? Infinity) - (b ?? Infinity));
  const show = (x) => (x === null || x === undefined ? 'never' : format(x));
  if (v.length === 1) return show(v[0]);
  const mid = v.length % 2 ? v[(v.length - 1) / 2] : null;
  const median = v.length % 2 ? mid
    : (v[v.length / 2 - 1] === null || v[v.length / 2] === null ? null : (v[v.length / 2 - 1] + v[v.length / 2]) / 2);
  return `${show(v[0])} / ${show(median)} / ${show(v[v.length - 1])}`;
}

const secs = (ms) => (ms / 1000).toFixed(1);
const int = (n) => String(Math.round(n));

const ROWS = [
  ['final state on screen = server\'s', (runs) => `${runs.filter((f) => f.finalOk).length} of ${runs.length}`],
  ['final state shown, s after the job ended', (runs) => spread(runs.map((f) => f.finalLagMs), secs)],
  ['caught up with the server, s after the last fault', (runs) => spread(runs.map((f) => f.catchUpMs), secs)],
  ['longest time showing stale progress, s', (runs) => spread(runs.map((f) => f.staleMaxMs), secs)],
  ['… of it while the indicator said connected, s', (runs) => spread(runs.map((f) => f.staleShownLiveMaxMs), secs)],
  ['regressions shown (seq or percent going back)', (runs) => spread(runs.map((f) => f.regressions), int)],
  ['WebSockets opened by the page', (runs) => spread(runs.map((f) => f.socketsOpened), int)],
  ['HTTP connections through the proxy (polls)', (runs) => spread(runs.map((f) => f.httpConnections), int)],
  ['faults announced by the indicator (of 5)', (runs) => spread(runs.map((f) => f.faultsAnnounced.length), int)],
];

function describeSchedule(result) {
  const d = result.runs[0].schedule.durations;
  const s = (ms) => `${ms / 1000} s`;
  return `drop all connections; drop again and refuse WebSocket upgrades with 503 for ${s(d.refuse)}; `
    + `stall every connection (open and new, both directions) for ${s(d.stall)}; kill -9 the server process the `
    + `browsers talk to and start it again after ${s(d.restartDown)}; browser offline (CDP) for ${s(d.offline)}, the proxies holding every byte for that time. `
    + `Gaps of ${s(d.gap)} ×[0.75, 1.25) drawn from the seed; the job ends ${s(d.tail)} after the last fault`;
}

function table(result) {
  const keys = result.clients.map((c) => c.key);
  const lines = [`| over ${result.runs.length} run(s), min / median / max | ${result.clients.map((c) => c.name).join(' | ')} |`,
    `|---|${keys.map(() => '---').join('|')}|`];
  for (const [label, cell] of ROWS) {
    lines.push(`| ${label} | ${keys.map((k) => cell(result.runs.map((r) => r.clients[k].figures))).join(' | ')} |`);
  }
  return lines.join('\n');
}

// Which faults each client's indicator missed, over all runs.
function missedFaults(result) {
  return result.clients.map(({ key }) => {
    const missed = {};
    for (const r of result.runs) {
      const f = r.clients[key].figures;
      for (const fault of r.faults.map((x) => x.kind)) if (!f.faultsAnnounced.includes(fault)) missed[fault] = (missed[fault] ?? 0) + 1;
    }
    const list = Object.entries(missed).map(([k, n]) => `${k} ${n}×`).join(', ');
    return `${key}: ${list || 'none'}`;
  }).join('; ');
}

function lastShown(result) {
  return result.clients.map(({ key }) => {
    const shown = result.runs.map((r) => {
      const f = r.clients[key].figures;
      return f.lastShown ? `${f.lastShown.state} seq ${f.lastShown.seq} (server ${f.serverFinal.seq}), "${f.lastShown.indicator}"` : 'nothing';
    });
    return `${key}: ${shown.join('; ')}`;
  }).join('. ');
}

function section(result, label, svgName) {
  const seeds = result.runs.map((r) => r.seed).join(', ');
  const step = result.runs[0];
  return [`### ${label}`, '',
    `${result.runs.length} run(s), seeds ${seeds}; ${result.date.slice(0, 10)}; machine: ${result.machine}; `
    + `load average at start ${result.loadavgAtStart}; Chromium ${result.chromium}. `
    + `Watched until every page showed the final state or ${result.observeMs / 1000} s after the job ended. `
    + `Job: 4 stages × ${step.stepsPerStage} steps of ${step.stepMs} ms (run seed ${step.seed}). Faults: ${describeSchedule(result)}.`,
    '', table(result), '',
    `Faults the indicator did not announce (count over runs): ${missedFaults(result)}.`, '',
    `Last state on screen per run: ${lastShown(result)}.`, '',
    `![Timeline of seed ${step.seed}](${svgName})`, ''].join('\n');
}

// Reads a results file and scores it again from the raw logs, so the report
// always follows the current definitions in lib/metrics.js.
function load(file) {
  const result = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const run of result.runs) {
    for (const [key, c] of Object.entries(run.clients)) {
      const truth = run.truth[backendOf(key)];
      c.figures = clientFigures({ truth, log: c.log, faults: run.faults, t0: run.t0, end: run.end, sockets: c.sockets });
      c.figures.httpConnections = c.proxy.httpConnections;
    }
  }
  return result;
}

function main() {
  const args = parseArgs();
  const parts = ['## 6. Robustness shoot-out', '',
    'The product\'s claim, that the page ends on the truth where other clients get stuck, measured. Four pages in '
    + 'one headless Chromium follow the same job through the same faults at the same time, each through its own '
    + 'TCP fault proxy (`shootout/lib/fault-proxy.js`) that drops, refuses upgrades and stalls identically; the '
    + 'restart kills the server process each page talks to while the job carries on in another process (ours: a '
    + 'second dev server instance sharing the job on Redis; Socket.IO: the job runner pushes each state to the '
    + 'restarted server, which starts from the current state), and offline is CDP '
    + '`Network.emulateNetworkConditions` in every page plus the proxies holding every byte meanwhile (CDP alone left '
    + 'open sockets carrying data). Each library is used with its defaults, as its docs show it: '
    + 'ours is the embed package\'s `mount_upload_progress`; leptos-use\'s `use_websocket` (reconnect limit 3, fixed '
    + '3 s interval, no heartbeat) in a Leptos CSR app; socket.io-client with long-polling then WebSocket against a '
    + 'Socket.IO 4.8 server that emits the same Progress JSON (`bench/socketio/progress.js`); partysocket\'s '
    + 'reconnecting WebSocket with a hand-written view and no polling. The Socket.IO and partysocket views show a status '
    + 'line (connected / not) and close their socket on a terminal state; the leptos-use view shows '
    + '`use_websocket`\'s ready state, as its docs do.', '',
    `How it is measured: every change of what a page shows (seq, percent, state, indicator) is logged in the page `
    + `by a MutationObserver (plus a 200 ms sample), on the same clock as the servers' truth (every state the job `
    + `made, read past the faults). On a 50 ms grid, a page is stale when it shows a lower seq than its server had `
    + `${DELIVERY_TOLERANCE_MS / 1000} s earlier. "Caught up" is the first moment after the last fault when the page `
    + `shows its server's current state; "final" compares the last state shown with the server's completed state. `
    + `A fault is announced when the indicator leaves "connected" between its start and ${ANNOUNCE_WINDOW_MS / 1000} s `
    + `after its end (or the next fault, if sooner). WebSockets are counted by wrapping the page's WebSocket constructor. "never" means it did `
    + 'not happen before the run stopped watching (given per schedule below).', '',
    'Limits of the method: a stall here ends with the held bytes delivered (as the dev server\'s own stall fault '
    + 'does), so a client that never noticed it catches up the moment it ends; a half-open connection that never '
    + 'recovers would leave such a client stale until the next fault, so the stale-while-connected row is the one '
    + 'to read for the stall. Refused upgrades do not refuse plain HTTP, so Socket.IO\'s long-polling and our '
    + 'polling pass. All four pages share one browser and one machine, so load slows them alike.', '',
    `Run it: \`bash scripts/shootout.sh\` (compressed schedule, one seed); \`FULL=1 bash scripts/shootout.sh\` `
    + '(the full schedule of the issue, 3 runs); `SEEDS=1,2,3` chooses the seeds.', ''];
  if (args.compressed && fs.existsSync(args.compressed)) {
    const r = load(args.compressed);
    fs.writeFileSync(path.join(args['svg-dir'], 'shootout.svg'),
      timelineSvg(r, r.runs[0], `Shoot-out, compressed schedule, seed ${r.runs[0].seed}`));
    parts.push(section(r, 'Compressed schedule (the default bench run)', 'bench/shootout.svg'));
  }
  if (args.full && fs.existsSync(args.full)) {
    const r = load(args.full);
    fs.writeFileSync(path.join(args['svg-dir'], 'shootout-full.svg'),
      timelineSvg(r, r.runs[0], `Shoot-out, full schedule, seed ${r.runs[0].seed}`));
    parts.push(section(r, 'Full schedule of the issue (`FULL=1`, last run)', 'bench/shootout-full.svg'));
  }
  fs.writeFileSync(args.md, `${parts.join('\n').trimEnd()}\n`);
}

main();
