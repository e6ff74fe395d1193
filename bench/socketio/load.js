// Socket.IO side of the fan-out benchmark: starts server.js, connects N
// socket.io-client subscribers (one job per --per-job of them) spread over
// --workers processes (load-worker.js), runs the jobs and writes the same JSON
// as `upload-progress-bench fanout`.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const { spawn, fork, execSync } = require('node:child_process');

function args() {
  const a = {
    clients: 1000, 'per-job': 100, 'step-ms': 250, 'steps-per-stage': 5,
    'ramp-batch': 500, runs: 3, out: 'fanout-socketio.json', workers: os.cpus().length,
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
  const workers = Array.from({ length: Math.max(1, a.workers) }, () => fork(path.join(__dirname, 'load-worker.js')));
  const ask = (w, m) => new Promise((resolve) => { w.once('message', resolve); w.send(m); });
  const all = (mk) => Promise.all(workers.map((w, k) => ask(w, mk(k))));
  const t0 = Date.now();
  for (let from = 0; from < a.clients; from += a['ramp-batch']) {
    const to = Math.min(a.clients, from + a['ramp-batch']);
    // Subscriber i goes to worker i mod W; each batch is fully connected before the next starts.
    await all((k) => {
      const mine = [];
      for (let i = from; i < to; i += 1) if (i % workers.length === k) mine.push(jobId(Math.floor(i / a['per-job'])));
      return { cmd: 'connect', base, jobs: mine };
    });
  }
  const connectMs = Date.now() - t0;
  await sleep(500);
  const rssAfter = rssKib(pid);

  const cpu0 = cpuTicks(pid);
  const clientCpu = async () => (await all(() => ({ cmd: 'cpu' }))).reduce((t, r) => t + r.cpuS, 0);
  const own0 = await clientCpu();
  const w0 = Date.now();
  await Promise.all(Array.from({ length: jobs }, (_, j) =>
    request('POST', `${base}/test/${jobId(j)}?step_ms=${a['step-ms']}&steps_per_stage=${a['steps-per-stage']}`)));
  const limit = 4 * a['steps-per-stage'] * a['step-ms'] + 20000;
  await all(() => ({ cmd: 'wait', limitMs: limit }));
  const windowS = (Date.now() - w0) / 1000;
  const cpuS = (cpuTicks(pid) - cpu0) / TICKS;
  const clientCpuS = (await clientCpu()) - own0;

  let seqsSent = 0;
  for (let j = 0; j < jobs; j += 1) {
    const { progress } = await request('GET', `${base}/progress/${jobId(j)}`);
    seqsSent += progress.seq * Math.min(a['per-job'], a.clients - j * a['per-job']);
  }
  const parts = await all(() => ({ cmd: 'report' }));
  for (const w of workers) w.kill('SIGKILL');
  child.removeAllListeners('exit');
  child.kill('SIGKILL');

  const lat = parts.flatMap((p) => p.latencies).sort((x, y) => x - y);
  const r = {
    clients: a.clients, jobs, connect_ms: connectMs,
    rss_before_kib: rssBefore, rss_after_kib: rssAfter, cpu_s: cpuS, window_s: windowS, client_cpu_s: clientCpuS,
    latency_p50_ms: percentile(lat, 0.5), latency_p99_ms: percentile(lat, 0.99),
    latency_max_ms: lat.length ? lat[lat.length - 1] : null, latency_samples: lat.length,
    finals_received: parts.reduce((s, p) => s + p.finals, 0), finals_expected: a.clients,
    seqs_delivered: parts.reduce((s, p) => s + p.seqs, 0), seqs_sent: seqsSent, fell_back: 0,
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
