// Socket.IO side of the fan-out benchmark: starts server.js, connects N
// socket.io-client subscribers (one job per --per-job of them), runs the jobs
// and writes the same JSON as `upload-progress-bench fanout`.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { spawn, execSync } = require('node:child_process');
const { io } = require('socket.io-client');

function args() {
  const a = {
    clients: 1000, 'per-job': 100, 'step-ms': 250, 'steps-per-stage': 5,
    'ramp-batch': 500, runs: 3, out: 'fanout-socketio.json',
  };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in a)) throw new Error(`unknown option ${argv[i]}`);
    a[key] = key === 'out' ? argv[i + 1] : Number(argv[i + 1]);
  }
  return a;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TICKS = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;

function rssKib(pid) {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line.replace(/\D+/g, ''));
}

function cpuTicks(pid) {
  // Fields after the command name's closing parenthesis; utime and stime are fields 14 and 15.
  const rest = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(')').pop().trim().split(/\s+/);
  return Number(rest[11]) + Number(rest[12]);
}

function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'server.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(/listening on (http:\/\/\S+)/);
      if (m) resolve({ child, base: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`server.js exited with ${code}`)));
  });
}

async function request(method, url) {
  const res = await fetch(url, { method });
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status}`);
  return res.json();
}

function percentile(sorted, q) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1];
}

async function oneRun(a, run) {
  const { child, base } = await startServer();
  await sleep(500);
  const pid = child.pid;
  const rssBefore = rssKib(pid);
  const jobs = Math.ceil(a.clients / a['per-job']);
  const jobId = (j) => `fan_r${run}_j${j}`;
  const clients = [];
  let connected = 0;
  const t0 = Date.now();
  for (let i = 0; i < a.clients; i += 1) {
    const c = { lastSeq: 0, seqs: 0, finalSeq: null, latencies: [] };
    // forceNew: without it socket.io-client multiplexes every subscriber over one connection.
    c.socket = io(base, { transports: ['websocket'], forceNew: true, query: { job: jobId(Math.floor(i / a['per-job'])) } });
    c.socket.once('connect', () => { connected += 1; });
    const accept = (p, live) => {
      if (p.seq <= c.lastSeq) return;
      c.lastSeq = p.seq;
      if (p.seq > 0) {
        c.seqs += 1;
        if (live) c.latencies.push(Date.now() - p.updated_at_ms);
      }
      if (['completed', 'failed', 'cancelled'].includes(p.state)) c.finalSeq = p.seq;
    };
    c.socket.on('snapshot', ({ progress }) => accept(progress, false));
    c.socket.on('progress', ({ progress }) => accept(progress, true));
    clients.push(c);
    if ((i + 1) % a['ramp-batch'] === 0 || i + 1 === a.clients) {
      const start = Date.now();
      while (connected < i + 1) {
        if (Date.now() - start > 30000) throw new Error(`only ${connected} of ${i + 1} connected`);
        await sleep(20);
      }
    }
  }
  const connectMs = Date.now() - t0;
  await sleep(500);
  const rssAfter = rssKib(pid);

  const cpu0 = cpuTicks(pid);
  const w0 = Date.now();
  await Promise.all(Array.from({ length: jobs }, (_, j) =>
    request('POST', `${base}/test/${jobId(j)}?step_ms=${a['step-ms']}&steps_per_stage=${a['steps-per-stage']}`)));
  const limit = 4 * a['steps-per-stage'] * a['step-ms'] + 20000;
  while (clients.some((c) => c.finalSeq === null) && Date.now() - w0 < limit) await sleep(20);
  const windowS = (Date.now() - w0) / 1000;
  const cpuS = (cpuTicks(pid) - cpu0) / TICKS;

  let seqsSent = 0;
  for (let j = 0; j < jobs; j += 1) {
    const { progress } = await request('GET', `${base}/progress/${jobId(j)}`);
    seqsSent += progress.seq * Math.min(a['per-job'], a.clients - j * a['per-job']);
  }
  for (const c of clients) c.socket.disconnect();
  child.removeAllListeners('exit');
  child.kill('SIGKILL');

  const lat = clients.flatMap((c) => c.latencies).sort((x, y) => x - y);
  const r = {
    clients: a.clients, jobs, connect_ms: connectMs,
    rss_before_kib: rssBefore, rss_after_kib: rssAfter, cpu_s: cpuS, window_s: windowS,
    latency_p50_ms: percentile(lat, 0.5), latency_p99_ms: percentile(lat, 0.99),
    latency_max_ms: lat.length ? lat[lat.length - 1] : null, latency_samples: lat.length,
    finals_received: clients.filter((c) => c.finalSeq !== null).length, finals_expected: a.clients,
    seqs_delivered: clients.reduce((s, c) => s + c.seqs, 0), seqs_sent: seqsSent, fell_back: 0,
  };
  process.stderr.write(`socket.io ${a.clients} clients run ${run}: ${rssBefore} KiB -> ${rssAfter} KiB, `
    + `cpu ${cpuS.toFixed(2)} s / ${windowS.toFixed(2)} s, p50 ${r.latency_p50_ms} p99 ${r.latency_p99_ms} ms, `
    + `finals ${r.finals_received}/${r.finals_expected}\n`);
  await sleep(500);
  return r;
}

async function main() {
  const a = args();
  const runs = [];
  for (let run = 0; run < a.runs; run += 1) runs.push(await oneRun(a, run));
  const result = {
    implementation: 'socket.io', per_job: a['per-job'], step_ms: a['step-ms'],
    steps_per_stage: a['steps-per-stage'], runs,
  };
  fs.mkdirSync(path.dirname(path.resolve(a.out)), { recursive: true });
  fs.writeFileSync(a.out, JSON.stringify(result, null, 2));
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
