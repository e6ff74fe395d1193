// Browser-side figures of the component in headless Chromium:
//  - server update -> DOM (data-seq) latency;
//  - time to detect a stalled socket (stall fault);
//  - time from the first refused upgrade to HTTP polling (refuse fault);
//  - main-thread cost of 100 updates per second.
// Starts its own dev server (faults on) over the release build and writes
// the ClientResult JSON that `upload-progress-bench report` reads.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { chromium } = require('playwright-core');
const { watchWidget, tapJob } = require('./page-probes');

const ADMIN = 'bench-admin';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];
// Short heartbeat for the stall figure so a run takes seconds, not the default 30 s + 10 s.
const STALL_OPTS = { heartbeatIntervalMs: 5000, pongTimeoutMs: 2000 };

function args() {
  // --only cost (or dom, stall, refuse, comma separated) measures a subset;
  // the others are written with no values.
  const a = { server: '', dist: '', runs: 3, out: 'client.json', only: 'dom,stall,refuse,cost' };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in a)) throw new Error(`unknown option ${argv[i]}`);
    a[key] = key === 'runs' ? Number(argv[i + 1]) : argv[i + 1];
  }
  if (!a.server || !a.dist) throw new Error('usage: run.js --server BIN --dist DIR [--runs N] [--out FILE] [--only cost,...]');
  a.only = new Set(a.only.split(','));
  return a;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (v) => { const s = [...v].sort((x, y) => x - y); const n = s.length; return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : NaN; };
const pct = (v, q) => { const s = [...v].sort((x, y) => x - y); return s.length ? s[Math.min(s.length, Math.max(1, Math.ceil(q * s.length))) - 1] : NaN; };

function startServer(bin, dist) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['--addr', '127.0.0.1:0', '--dist', dist, '--allow-loopback-origins', '--faults',
      '--admin-token', ADMIN, '--max-connections', '1000', '--max-per-ip', '1000', '--grace-ms', '600000'],
    { stdio: ['ignore', 'pipe', 'ignore'] });
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(/listening on (http:\/\/\S+)/);
      if (m) resolve({ child, base: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

async function post(base, p, body) {
  const res = await fetch(base + p, {
    method: 'POST',
    headers: body ? { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`POST ${p}: ${res.status} ${await res.text()}`);
  return res.json();
}
const fault = (base, body) => post(base, '/ws/admin/faults', body);
const startJob = (base, id, stepMs, steps) => post(base, `/ws/test/${id}?step_ms=${stepMs}&steps_per_stage=${steps}`);

async function openPage(browser, base) {
  const page = await browser.newPage();
  await page.goto(`${base}/bench-client/index.html`);
  await page.waitForFunction(() => window.uprReady === true, null, { timeout: 30000 });
  await page.evaluate(watchWidget);
  return page;
}

const log = (page) => page.evaluate(() => window.uprLog);
async function waitFor(page, pred, what, timeoutMs = 60000) {
  const start = Date.now();
  for (;;) {
    const entries = await log(page);
    const hit = entries.find(pred);
    if (hit) return hit;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

// Server update -> widget's data-seq, for every update of a 10 updates/s job.
async function updateToDom(browser, base, run) {
  const page = await openPage(browser, base);
  const id = `cl_dom_${run}_${Date.now()}`;
  await page.evaluate(tapJob, id);
  await page.evaluate((pid) => { window.h = window.uprMount(pid, {}); }, id);
  await waitFor(page, (e) => e.connection === 'connected', 'connected');
  await startJob(base, id, 100, 10);
  await waitFor(page, (e) => e.state === 'completed', 'completed');
  const [entries, stamps] = await Promise.all([log(page), page.evaluate(() => window.uprStamps)]);
  await page.close();
  const lat = entries.filter((e) => e.seq > 0 && stamps[e.seq] !== undefined).map((e) => e.t - stamps[e.seq]);
  return { p50: median(lat), p99: pct(lat, 0.99), n: lat.length };
}

// Stall fault on a live socket -> widget leaves `connected`.
async function stallDetect(browser, base, run) {
  const page = await openPage(browser, base);
  const id = `cl_stall_${run}_${Date.now()}`;
  await startJob(base, id, 1000, 1000);
  await page.evaluate(([pid, o]) => { window.h = window.uprMount(pid, o); }, [id, STALL_OPTS]);
  await waitFor(page, (e) => e.connection === 'connected', 'connected');
  await sleep(300);
  const t0 = Date.now();
  await fault(base, { action: 'stall_sockets', duration_ms: 30000 });
  const hit = await waitFor(page, (e) => e.t >= t0 && e.connection !== 'connected', 'stall detected');
  await fault(base, { action: 'clear' });
  await page.close();
  return hit.t - t0;
}

// Refuse every upgrade, drop the socket: time from the first refused attempt to polling.
async function refuseToPolling(browser, base, run) {
  const page = await openPage(browser, base);
  const id = `cl_refuse_${run}_${Date.now()}`;
  await startJob(base, id, 1000, 1000);
  await page.evaluate((pid) => { window.h = window.uprMount(pid, {}); }, id);
  await waitFor(page, (e) => e.connection === 'connected', 'connected');
  await fault(base, { action: 'refuse_upgrades', fraction: 1.0, duration_ms: 60000 });
  const t0 = Date.now();
  await fault(base, { action: 'drop_sockets' });
  const polling = await waitFor(page, (e) => e.t >= t0 && e.mode === 'http_polling', 'polling');
  const entries = await log(page);
  const firstAttempt = entries.find((e) => e.t >= t0 && e.connection === 'connecting');
  await fault(base, { action: 'clear' });
  await page.close();
  return { fromDrop: polling.t - t0, fromFirstRefused: firstAttempt ? polling.t - firstAttempt.t : NaN };
}

// Main-thread busy time (CDP Performance.getMetrics TaskDuration) over a window,
// with a job stepping every `stepMs` (10 ms: 100 updates/s), minus the same
// window with the widget idle. With `bare` ('socket' or 'drawn'), the page
// follows the job with a plain WebSocket instead of the widget, drawing
// nothing (the floor any client pays) or the percent and message per message.
async function mainThreadCost(browser, base, run, stepMs, bare = null) {
  const page = await openPage(browser, base);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const busy = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return metrics.find((m) => m.name === 'TaskDuration').value * 1000;
  };
  const id = `cl_cpu_${stepMs}_${run}_${bare ? `${bare}_` : ''}${Date.now()}`;
  if (bare) await page.evaluate(([pid, draw]) => { window.h = window.uprBare(pid, draw); }, [id, bare === 'drawn']);
  else await page.evaluate((pid) => { window.h = window.uprMount(pid, {}); }, id);
  await waitFor(page, (e) => e.connection === 'connected', 'connected');
  const windowMs = 2000;
  let b0 = await busy(); let w0 = Date.now();
  await sleep(windowMs);
  const idle = (await busy() - b0) / (Date.now() - w0);
  // Enough steps that the job outlasts the window at either rate.
  await startJob(base, id, stepMs, 200);
  await sleep(500);
  const seq0 = (await log(page)).at(-1).seq;
  b0 = await busy(); w0 = Date.now();
  await sleep(windowMs);
  const loaded = (await busy() - b0) / (Date.now() - w0);
  const seq1 = (await log(page)).at(-1).seq;
  await page.close();
  const elapsed = windowMs / 1000;
  return { msPerS: (loaded - idle) * 1000, updatesPerS: (seq1 - seq0) / elapsed, idleMsPerS: idle * 1000 };
}

async function main() {
  const a = args();
  const dist = path.resolve(a.dist);
  fs.mkdirSync(path.join(dist, 'bench-client'), { recursive: true });
  fs.copyFileSync(path.join(__dirname, 'page.html'), path.join(dist, 'bench-client', 'index.html'));
  const { child, base } = await startServer(a.server, dist);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const version = browser.version();
  const f = { domP50: [], domP99: [], stall: [], refuseFirst: [], refuseDrop: [], cpu: [], cpuIdle: [], rate: [], cpu10: [], rate10: [],
    bare: [], bare10: [], over: [], over10: [], drawn: [], drawn10: [] };
  try {
    for (let run = 0; run < a.runs; run += 1) {
      const d = a.only.has('dom') ? await updateToDom(browser, base, run) : { p50: NaN, p99: NaN, n: 0 };
      if (a.only.has('dom')) { f.domP50.push(d.p50); f.domP99.push(d.p99); }
      if (a.only.has('stall')) f.stall.push(await stallDetect(browser, base, run));
      const r = a.only.has('refuse') ? await refuseToPolling(browser, base, run) : { fromFirstRefused: NaN, fromDrop: NaN };
      if (a.only.has('refuse')) { f.refuseFirst.push(r.fromFirstRefused); f.refuseDrop.push(r.fromDrop); }
      const none = { msPerS: NaN, updatesPerS: NaN, idleMsPerS: NaN };
      const cost = (stepMs, bare) => (a.only.has('cost') ? mainThreadCost(browser, base, run, stepMs, bare) : none);
      const c = await cost(10);
      const slow = await cost(100);
      const bare = await cost(10, 'socket');
      const bareSlow = await cost(100, 'socket');
      const drawn = await cost(10, 'drawn');
      const drawnSlow = await cost(100, 'drawn');
      if (a.only.has('cost')) {
        f.cpu.push(c.msPerS); f.cpuIdle.push(c.idleMsPerS); f.rate.push(c.updatesPerS);
        f.cpu10.push(slow.msPerS); f.rate10.push(slow.updatesPerS);
        f.bare.push(bare.msPerS); f.bare10.push(bareSlow.msPerS);
        f.over.push(c.msPerS - bare.msPerS); f.over10.push(slow.msPerS - bareSlow.msPerS);
        f.drawn.push(drawn.msPerS); f.drawn10.push(drawnSlow.msPerS);
      }
      process.stderr.write(`browser run ${run}: dom p50 ${d.p50.toFixed(1)} ms (${d.n} updates), stall ${f.stall.at(-1)} ms, `
        + `refuse->polling ${r.fromFirstRefused.toFixed(0)} ms, main thread ${c.msPerS.toFixed(1)} ms/s at ${c.updatesPerS.toFixed(0)} updates/s, `
        + `${slow.msPerS.toFixed(1)} ms/s at ${slow.updatesPerS.toFixed(0)} updates/s (idle ${c.idleMsPerS.toFixed(1)} ms/s); `
        + `bare socket ${bare.msPerS.toFixed(1)} ms/s at ${bare.updatesPerS.toFixed(0)} updates/s, ${bareSlow.msPerS.toFixed(1)} ms/s at ${bareSlow.updatesPerS.toFixed(0)} updates/s; `
        + `hand-drawn ${drawn.msPerS.toFixed(1)} ms/s, ${drawnSlow.msPerS.toFixed(1)} ms/s\n`);
    }
  } finally {
    await browser.close();
    child.removeAllListeners('exit');
    child.kill('SIGKILL');
  }
  const figures = [
    { name: 'server update to DOM, p50 per run', unit: 'ms', values: f.domP50,
      method: 'job at 10 updates/s; `updated_at_ms` of each seq (seen by a raw tap socket in the page) to the MutationObserver callback that sees the widget\'s `data-seq` change' },
    { name: 'server update to DOM, p99 per run', unit: 'ms', values: f.domP99, method: 'as above, 99th percentile of the run\'s updates' },
    { name: 'stalled socket detected', unit: 'ms', values: f.stall,
      method: `\`stall_sockets\` fault on a live socket to \`data-connection\` leaving \`connected\`; heartbeat ${STALL_OPTS.heartbeatIntervalMs} ms, pong timeout ${STALL_OPTS.pongTimeoutMs} ms (bound: their sum; defaults 30 000 + 10 000)` },
    { name: 'first refused upgrade to HTTP polling', unit: 'ms', values: f.refuseFirst,
      method: '`refuse_upgrades` (fraction 1) then `drop_sockets`; first `data-connection=connecting` after the drop to `data-mode=http_polling`; default backoff (2 s, 4 s, full jitter, 3 retries)' },
    { name: 'socket dropped to HTTP polling', unit: 'ms', values: f.refuseDrop, method: 'same runs, from the `drop_sockets` call' },
    { name: 'main-thread cost at 100 updates/s', unit: 'ms per s', values: f.cpu,
      method: 'CDP `Performance.getMetrics` TaskDuration over 2 s with a job stepping every 10 ms, minus the same window idle' },
    { name: 'updates rendered per second in that window', unit: '1/s', values: f.rate, method: 'change of `data-seq` over the window' },
    { name: 'main-thread cost at 10 updates/s', unit: 'ms per s', values: f.cpu10,
      method: 'as at 100 updates/s, with the job stepping every 100 ms' },
    { name: 'updates rendered per second in that window (10/s)', unit: '1/s', values: f.rate10, method: 'change of `data-seq` over the window' },
    { name: 'a bare socket at 100 updates/s', unit: 'ms per s', values: f.bare,
      method: 'as the widget at 100 updates/s, with the page following the job by a plain `WebSocket`, `JSON.parse` and one `data-seq` write per message instead of the widget: the floor any client pays' },
    { name: 'a bare socket at 10 updates/s', unit: 'ms per s', values: f.bare10, method: 'as above, job stepping every 100 ms' },
    { name: 'the widget over a bare socket at 100 updates/s', unit: 'ms per s', values: f.over,
      method: 'per run: the widget\'s figure minus the bare socket\'s' },
    { name: 'the widget over a bare socket at 10 updates/s', unit: 'ms per s', values: f.over10, method: 'as above, at 10 updates/s' },
    { name: 'a hand-drawn view at 100 updates/s', unit: 'ms per s', values: f.drawn,
      method: 'the bare socket that also writes the percent and the message into two elements on every message, as a hand-written view does' },
    { name: 'a hand-drawn view at 10 updates/s', unit: 'ms per s', values: f.drawn10, method: 'as above, job stepping every 100 ms' },
    { name: 'main-thread time while idle and connected', unit: 'ms per s', values: f.cpuIdle, method: 'TaskDuration over 2 s, widget mounted, no updates' },
  ];
  fs.mkdirSync(path.dirname(path.resolve(a.out)), { recursive: true });
  fs.writeFileSync(a.out, JSON.stringify({ browser: `Chromium ${version} (headless)`, figures }, null, 2));
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
