// Fan-out measurement with one load generator for both servers.
//
//   node fanout.js --target ours|socketio|floor|sse|page [--jobs-per-socket K] [--server-bin PATH --server-arg=X ...] [--floor-bin PATH]
//                  [--server-threads N] [--instances 2 --redis-url redis://...] --clients N --per-job 100
//                  --step-ms 250 --steps-per-stage 5 --runs 2 --out FILE.json [--accumulate]
//                  [--server-cpus 0 --generator-cpus 1] [--frames-out PREFIX] [--source-addrs K --source-net 127.0.N]
//
// --server-threads sets our server's tokio worker threads (default one per CPU);
// --server-cpus / --generator-cpus pin the server and the generator's workers
// to CPU lists (taskset), so neither steals the other's CPU. --frames-out
// writes every update's stamp and receipt per run and prints its latency
// by time in the run.
//
// --idle-s S measures idle scale instead of fan-out: no job is started; the
// subscribers connect (to jobs that have not started, one per --per-job, as
// a page opened before its upload), then the server's CPU is read over S
// seconds of silence (pick S above both servers' 25 s ping interval so one
// round of keep-alives falls inside), and every socket must still be open.
// Writes `upload-progress-bench`'s idle JSON. With --redis-url, Redis's own
// CPU over the window and memory (its INFO) are added, and the machine's
// kernel memory for sockets (slab and TCP buffers) before and after connecting.
//
// --source-addrs K (up to 250): subscriber i binds its socket to source
// address NET.(2 + i mod K) before connecting, NET being --source-net
// (default 127.0.0), so each address needs only its share of the ~28 000
// ephemeral ports: 100 000 connections need 4 or more, and with many more
// than that (100) the kernel's search for a free port stays short, which
// it does not with 16 000 ports taken on one address. A fresh --source-net
// per run keeps clear of the previous run's sockets in TIME_WAIT.
//
// --accumulate adds this invocation's runs to those already in FILE.json (same
// server and workload), so a script can alternate the two servers run by run
// and both see the same moments of a noisy machine.
//
// Per run: a fresh server; one worker process per CPU holds the subscribers
// (minimal WebSocket clients from wire.js, subscriber i in worker i mod W, connected in batches);
// then one job per --per-job subscribers is started, the starts spread evenly
// over one step period, so jobs step at different moments as real jobs do;
// the window ends when every subscriber holds its job's final state. Writes
// the same JSON as `upload-progress-bench fanout`.
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { fork, execFileSync } = require('node:child_process');
const { protocol } = require('./protocols');
const { rssKib, cpuSeconds, sum } = require('./procfs');
const { startOurs, startSocketio, startFloor, stopAll } = require('./servers');

const NUMBERS = ['jobs-per-socket', 'idle-s', 'server-threads', 'clients', 'per-job', 'step-ms', 'steps-per-stage', 'runs', 'workers', 'instances', 'ramp-batch', 'source-addrs'];
// A worker that does not answer within this long has hung; the run fails rather than waits.
const ASK_LIMIT_MS = 60000;

function parseArgs(argv) {
  const a = {
    target: null, 'server-bin': null, 'floor-bin': null, 'server-threads': 0, 'server-cpus': null, 'generator-cpus': null, 'frames-out': null, 'server-arg': [], 'redis-url': null, instances: 1,
    clients: 1000, 'per-job': 100, 'step-ms': 250, 'steps-per-stage': 5, runs: 1,
    workers: os.cpus().length, 'ramp-batch': 500, 'source-addrs': 0, 'source-net': '127.0.0', out: null, accumulate: false, 'idle-s': 0, 'jobs-per-socket': 1,
  };
  for (let i = 0; i < argv.length; i += 1) {
    let [key, value] = argv[i].replace(/^--/, '').split(/=(.*)/s);
    if (!(key in a)) throw new Error(`unknown option ${argv[i]}`);
    if (key === 'accumulate') {
      a.accumulate = true;
      continue;
    }
    if (value === undefined) {
      i += 1;
      if (i >= argv.length) throw new Error(`option --${key} needs a value`);
      value = argv[i];
    }
    if (key === 'server-arg') a[key].push(value);
    else if (NUMBERS.includes(key)) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--${key} must be a positive integer, got ${JSON.stringify(value)}`);
      a[key] = n;
    } else a[key] = value;
  }
  if (!a.out) throw new Error('--out FILE is required');
  if (a['source-addrs'] > 250) throw new Error('--source-addrs is at most 250');
  if (!/^127\.\d{1,3}\.\d{1,3}$/.test(a['source-net'])) throw new Error('--source-net must be the first three parts of a loopback address, such as 127.0.1');
  protocol(a.target ?? '');
  if (!['ours', 'sse', 'page'].includes(a.target) && a.instances !== 1) throw new Error('--instances applies to --target ours only');
  return a;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted, q) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1];
}

function ask(worker, message, limitMs = ASK_LIMIT_MS) {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      worker.off('message', onReply);
      worker.off('exit', onExit);
    };
    const onReply = (reply) => {
      done();
      if (reply && reply.error) reject(new Error(`worker ${worker.pid}: ${reply.error}`));
      else resolve(reply);
    };
    // A worker that dies (an exception in a socket callback) fails the run at once.
    const onExit = (code, signal) => {
      done();
      reject(new Error(`worker ${worker.pid} exited (${code ?? signal}) before answering ${message.cmd}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`worker ${worker.pid} gave no answer to ${message.cmd} within ${limitMs} ms`));
    }, limitMs);
    worker.once('message', onReply);
    worker.once('exit', onExit);
    worker.send(message);
  });
}

// The coordinator's HTTP requests share one keep-alive pool, opened before
// the timed phase by `warmUp`. With a cold client (fetch loads its HTTP stack
// on first use, and each request in flight opened a new connection) the
// first job starts left 40-190 ms late and then in bursts of up to 11 jobs
// in one millisecond, instead of spread over the step period.
const START_CONNECTIONS = 16;
const agent = new http.Agent({ keepAlive: true, maxSockets: START_CONNECTIONS });

// Resolves to the parsed JSON body; a status outside 2xx rejects unless
// `anyStatus` (then the raw body). A GET that meets a reset is sent once
// more: a pooled connection idle for longer than the server's keep-alive
// timeout (Node's is 5 s, shorter than a job window) can be closed by the
// server just as the request goes out on it.
function request(method, url, anyStatus = false, retried = false) {
  return new Promise((resolve, reject) => {
    const retryOrReject = (e) => {
      if (method === 'GET' && !retried && e.code === 'ECONNRESET') resolve(request(method, url, anyStatus, true));
      else reject(e);
    };
    const req = http.request(url, { method, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => {
        if (anyStatus) return resolve(body);
        if (res.statusCode < 200 || res.statusCode > 299) return reject(new Error(`${method} ${url} answered ${res.statusCode}`));
        try {
          resolve(JSON.parse(body));
        } catch (e) {
          reject(new Error(`${method} ${url}: body is not JSON (${e.message})`));
        }
      });
    });
    req.on('error', retryOrReject);
    req.end();
  });
}

// Opens the pool's connections (and runs the request code once) with
// requests for a job that does not exist, so the job starts go out on time.
function warmUp(base, proto) {
  const probes = Array.from({ length: START_CONNECTIONS }, () => request('GET', base + proto.progressPath('warm_up'), true));
  return Promise.all(probes);
}

// Starts job j at j * stepMs / jobs after the first, so the jobs' steps are
// spread over the step period instead of all landing in one millisecond.
// The requests all go out at once and each names its start (`start_in_ms`),
// which the server times itself: paced by this process instead, the starts
// followed its event loop, which shares two CPUs with the server and the
// workers and sent them late and in bursts. The first start is START_LEAD_MS
// away, after every request has been answered.
// Resolves to the Date.now() at which each job is due to start.
const START_LEAD_MS = 100;
async function startJobsSpread(base, proto, jobIds, stepMs, steps) {
  const sentAt = Date.now();
  const dueAt = [];
  const started = jobIds.map((id, j) => {
    const startIn = START_LEAD_MS + Math.round((j * stepMs) / jobIds.length);
    dueAt.push(sentAt + startIn);
    return request('POST', base + proto.startPath(id, stepMs, steps, startIn));
  });
  await Promise.all(started);
  const late = Date.now() - sentAt;
  if (late > START_LEAD_MS) process.stderr.write(`warning: the start requests took ${late} ms, more than the ${START_LEAD_MS} ms lead\n`);
  return dueAt;
}

// --frames-out: every live update's [updated_at_ms, receipt, seq, worker] into FILE,
// and its latency by when the update was stamped (250 ms buckets from the
// first job's start) on stderr, which shows where in a run the tail lies.
function writeTimeline(file, frames, t0) {
  fs.writeFileSync(file, JSON.stringify(frames));
  const buckets = new Map();
  for (const [stamp, receipt] of frames) {
    const k = Math.floor((stamp - t0) / 250);
    if (!buckets.has(k)) buckets.set(k, []);
    buckets.get(k).push(receipt - stamp);
  }
  for (const k of [...buckets.keys()].sort((x, y) => x - y)) {
    const v = buckets.get(k).sort((x, y) => x - y);
    process.stderr.write(`  stamped at +${k * 250} ms: ${v.length} updates, p50 ${percentile(v, 0.5)} p99 ${percentile(v, 0.99)} max ${v[v.length - 1]} ms\n`);
  }
}

function startTarget(a, run) {
  if (a.target === 'ours' || a.target === 'sse' || a.target === 'page') {
    return startOurs({ bin: a['server-bin'], args: a['server-arg'], instances: a.instances, redisUrl: a['redis-url'], run, threads: a['server-threads'], cpus: a['server-cpus'] });
  }
  if (a.target === 'floor') return startFloor({ bin: a['floor-bin'], cpus: a['server-cpus'] });
  return startSocketio({ cpus: a['server-cpus'] });
}

// The implementation name written into the results.
function implementation(a) {
  if (a.target === 'ours') return a.instances > 1 ? `upload-progress-server, ${a.instances} instances on Redis` : 'upload-progress-server';
  if (a.target === 'sse') return 'upload-progress-server, event stream';
  if (a.target === 'page') return 'upload-progress-server, page socket';
  return a.target === 'floor' ? 'fan-out floor' : 'socket.io';
}

async function oneRun(a, run) {
  // Other work on the machine competes for the same CPUs; every run records how much there was.
  const load1m = os.loadavg()[0];
  const proto = protocol(a.target);
  const servers = await startTarget(a, run);
  const workers = [];
  try {
    const pids = servers.map((s) => s.pid);
    // Let the server finish its start-up allocations before the baseline.
    await sleep(500);
    const rssBefore = sum(pids, rssKib);
    // --jobs-per-socket K: each connection follows K jobs (a page socket,
    // or a Socket.IO client in K rooms); every job still has --per-job
    // subscriptions. Connection i follows jobs (i + k * jobs / K) mod jobs.
    const perSocket = a['jobs-per-socket'];
    const jobs = Math.ceil((a.clients * perSocket) / a['per-job']);
    if (perSocket > 1 && (jobs % perSocket !== 0 || (a.clients * perSocket) % a['per-job'] !== 0)) {
      throw new Error('with --jobs-per-socket, clients x jobs-per-socket must be a multiple of per-job, and the job count of jobs-per-socket');
    }
    const jobId = (j) => `fan_r${run}_j${j}`;
    const jobsOf = (i) => (perSocket === 1
      ? [jobId(Math.floor(i / a['per-job']))]
      : Array.from({ length: perSocket }, (_, k) => jobId((i + k * (jobs / perSocket)) % jobs)));
    for (let k = 0; k < a.workers; k += 1) workers.push(fork(path.join(__dirname, 'worker.js'), [], { execArgv: ['--expose-gc'] }));
    if (a['generator-cpus']) for (const w of workers) execFileSync('taskset', ['-pc', a['generator-cpus'], String(w.pid)], { stdio: 'ignore' });
    const all = (mk) => Promise.all(workers.map((w, k) => ask(w, mk(k))));
    const sources = a['source-addrs'];
    const localAddress = (i) => (sources > 0 ? `${a['source-net']}.${2 + (i % sources)}` : undefined);
    const kernelBefore = kernelMemory();
    const redisBefore = a['redis-url'] ? redisInfo(a['redis-url']) : null;

    const t0 = Date.now();
    for (let from = 0; from < a.clients; from += a['ramp-batch']) {
      const to = Math.min(a.clients, from + a['ramp-batch']);
      const replies = await all((k) => {
        const urls = [];
        for (let i = from; i < to; i += 1) {
          if (i % workers.length === k) {
            const follows = jobsOf(i);
            urls.push({ url: proto.url(servers[i % servers.length].base, follows.join(',')), jobs: follows, localAddress: localAddress(i) });
          }
        }
        return { cmd: 'connect', target: a.target, urls, withTimeline: Boolean(a['frames-out']) };
      });
      const failed = replies.reduce((t, r) => t + r.failed, 0);
      if (failed > 0) throw new Error(`${failed} of subscribers ${from}..${to} could not connect`);
    }
    const connectMs = Date.now() - t0;
    // Connecting grew each worker's heap; collected now, before the window,
    // its full collection no longer stops a worker for 25-45 ms just after
    // the jobs start (where it delayed every update that worker held).
    await all(() => ({ cmd: 'collect' }));
    await warmUp(servers[0].base, proto);
    await sleep(500);
    const rssAfter = sum(pids, rssKib);

    if (a['idle-s'] > 0) {
      return await idleWindow(a, proto, pids, workers, all, { connectMs, rssBefore, rssAfter, load1m, kernelBefore, redisBefore });
    }

    const workerPids = workers.map((w) => w.pid);
    const cpu0 = sum(pids, cpuSeconds);
    const gen0 = sum(workerPids, cpuSeconds);
    const w0 = performance.now();
    const jobIds = Array.from({ length: jobs }, (_, j) => jobId(j));
    const limitMs = 4 * a['steps-per-stage'] * a['step-ms'] + 20000;
    const finals = all(() => ({ cmd: 'wait', limitMs }));
    const dueAt = await startJobsSpread(servers[0].base, proto, jobIds, a['step-ms'], a['steps-per-stage']);
    await finals;
    const windowS = (performance.now() - w0) / 1000;
    const cpuS = sum(pids, cpuSeconds) - cpu0;
    const genS = sum(workerPids, cpuSeconds) - gen0;

    let seqsSent = 0;
    // How long each job took from its due start to its final state's
    // stamp: a server that falls behind emits late, which its latency alone
    // would not show.
    const jobMs = [];
    for (let j = 0; j < jobs; j += 1) {
      const { progress } = await request('GET', servers[0].base + proto.progressPath(jobId(j)));
      seqsSent += progress.seq * (perSocket === 1 ? Math.min(a['per-job'], a.clients - j * a['per-job']) : a['per-job']);
      jobMs.push(progress.updated_at_ms - dueAt[j]);
    }
    jobMs.sort((x, y) => x - y);
    const parts = await all(() => ({ cmd: 'report' }));
    const lat = parts.flatMap((p) => p.latencies).sort((x, y) => x - y);
    const finalLat = parts.flatMap((p) => p.finalLatencies).sort((x, y) => x - y);
    if (a['frames-out']) writeTimeline(`${a['frames-out']}-run${run}.json`, parts.flatMap((p, k) => p.timeline.map((f) => [...f, k])), dueAt[0]);
    const r = {
      clients: a.clients, jobs, connect_ms: connectMs,
      rss_before_kib: rssBefore, rss_after_kib: rssAfter, cpu_s: cpuS, window_s: windowS, client_cpu_s: genS,
      latency_p50_ms: percentile(lat, 0.5), latency_p99_ms: percentile(lat, 0.99),
      latency_max_ms: lat.length ? lat[lat.length - 1] : null, latency_samples: lat.length,
      final_latency_p50_ms: percentile(finalLat, 0.5), final_latency_p99_ms: percentile(finalLat, 0.99),
      // Counted per subscription: a page socket's ten jobs are ten.
      finals_received: parts.reduce((t, p) => t + p.jobFinals, 0), finals_expected: a.clients * perSocket, jobs_per_socket: perSocket,
      seqs_delivered: parts.reduce((t, p) => t + p.seqs, 0), seqs_sent: seqsSent,
      job_ms_median: percentile(jobMs, 0.5), job_ms_max: jobMs[jobMs.length - 1] ?? null,
      // A raw socket has no fallback; sockets lost before their final state are counted here.
      fell_back: parts.reduce((t, p) => t + p.lost, 0),
      load_1m: load1m,
    };
    process.stderr.write(`${proto.name} x${servers.length} ${a.clients} subscribers run ${run}: `
      + `${rssBefore} -> ${rssAfter} KiB, cpu ${cpuS.toFixed(2)} s / ${windowS.toFixed(2)} s (generator ${genS.toFixed(2)} s), `
      + `p50 ${r.latency_p50_ms} p99 ${r.latency_p99_ms} max ${r.latency_max_ms} ms (final states p50 ${r.final_latency_p50_ms} p99 ${r.final_latency_p99_ms} ms), finals ${r.finals_received}/${r.finals_expected}, `
      + `seqs ${r.seqs_delivered}/${seqsSent}, job time median ${r.job_ms_median} max ${r.job_ms_max} ms\n`);
    return r;
  } finally {
    for (const w of workers) w.kill('SIGKILL');
    agent.destroy();
    stopAll(servers);
  }
}

// The kernel's TCP memory (`/proc/net/sockstat`, pages of socket buffers,
// every socket on the machine, both ends of ours) in KiB.
function kernelTcpKib() {
  const m = fs.readFileSync('/proc/net/sockstat', 'utf8').match(/^TCP:.* mem (\d+)/m);
  return m ? Number(m[1]) * (os.constants.PAGE_SIZE ?? 4096) / 1024 : null;
}

// The slab caches every connected TCP socket takes objects from: the socket
// (`TCP`), its inode (`sock_inode_cache`), the open file (`filp`) and, when
// a poller watches it, its epoll entry (`eventpoll_epi`).
const SOCKET_CACHES = ['TCP', 'sock_inode_cache', 'filp', 'eventpoll_epi'];

// The whole machine's kernel memory that sockets take, KiB: the bytes of
// the socket slab caches in use (/proc/slabinfo, both ends of every loopback
// connection; root only, else null), all of `Slab` in /proc/meminfo (which
// other work on the machine moves too), and the TCP buffer pages of
// /proc/net/sockstat.
function kernelMemory() {
  const m = fs.readFileSync('/proc/meminfo', 'utf8').match(/^Slab:\s+(\d+) kB/m);
  const caches = {};
  try {
    for (const line of fs.readFileSync('/proc/slabinfo', 'utf8').split('\n')) {
      const [name, active, , size] = line.split(/\s+/);
      if (SOCKET_CACHES.includes(name)) caches[name] = (Number(active) * Number(size)) / 1024;
    }
  } catch {
    // Not readable without root: the socket caches stay unknown.
  }
  const known = SOCKET_CACHES.every((c) => c in caches);
  return {
    slab_kib: m ? Number(m[1]) : null,
    socket_slab_kib: known ? SOCKET_CACHES.reduce((t, c) => t + caches[c], 0) : null,
    caches_kib: caches,
    tcp_kib: kernelTcpKib(),
  };
}

// Redis's own figures from INFO (redis-cli): CPU seconds (user + system,
// main thread and children), memory it allocated and its resident size, its clients.
function redisInfo(url) {
  const text = execFileSync('redis-cli', ['-u', url, 'INFO'], { encoding: 'utf8' });
  const v = (key) => {
    const m = text.match(new RegExp(`^${key}:([0-9.]+)`, 'm'));
    return m ? Number(m[1]) : null;
  };
  return {
    cpu_s: v('used_cpu_sys') + v('used_cpu_user'),
    used_memory_kib: v('used_memory') / 1024,
    rss_kib: v('used_memory_rss') / 1024,
    clients: v('connected_clients'),
  };
}

// --idle-s: CPU over a silent window with everyone connected, then checks no socket was lost.
async function idleWindow(a, proto, pids, workers, all, { connectMs, rssBefore, rssAfter, load1m, kernelBefore, redisBefore }) {
  const kernelKib = kernelTcpKib();
  const kernelAfter = kernelMemory();
  const redisStart = a['redis-url'] ? redisInfo(a['redis-url']) : null;
  const workerPids = workers.map((w) => w.pid);
  const cpu0 = sum(pids, cpuSeconds);
  const gen0 = sum(workerPids, cpuSeconds);
  const w0 = performance.now();
  await sleep(a['idle-s'] * 1000);
  const windowS = (performance.now() - w0) / 1000;
  const cpuS = sum(pids, cpuSeconds) - cpu0;
  const genS = sum(workerPids, cpuSeconds) - gen0;
  const rssEnd = sum(pids, rssKib);
  const redisEnd = a['redis-url'] ? redisInfo(a['redis-url']) : null;
  const parts = await all(() => ({ cmd: 'report' }));
  const open = parts.reduce((t, p) => t + p.open, 0);
  const r = {
    clients: a.clients, connect_ms: connectMs, rss_before_kib: rssBefore, rss_after_kib: rssAfter, rss_end_kib: rssEnd,
    cpu_s: cpuS, window_s: windowS, client_cpu_s: genS, open_at_end: open, kernel_tcp_kib: kernelKib, load_1m: load1m,
    instances: pids.length, kernel_before: kernelBefore, kernel_after: kernelAfter,
  };
  if (redisEnd) {
    r.redis = {
      cpu_s: redisEnd.cpu_s - redisStart.cpu_s, used_memory_before_kib: redisBefore.used_memory_kib,
      used_memory_kib: redisEnd.used_memory_kib, rss_kib: redisEnd.rss_kib, clients: redisEnd.clients,
      connect_cpu_s: redisStart.cpu_s - redisBefore.cpu_s,
    };
  }
  process.stderr.write(`${proto.name} idle, ${a.clients} subscribers: connected in ${connectMs} ms, ${rssBefore} -> ${rssAfter} -> ${rssEnd} KiB, `
    + `cpu ${cpuS.toFixed(3)} s over ${windowS.toFixed(1)} s (generator ${genS.toFixed(2)} s), ${open} open at the end, kernel TCP memory ${kernelKib} KiB, `
    + `socket slab ${kernelBefore.socket_slab_kib?.toFixed(0)} -> ${kernelAfter.socket_slab_kib?.toFixed(0)} KiB${r.redis ? `, redis cpu ${r.redis.cpu_s.toFixed(3)} s (connecting ${r.redis.connect_cpu_s.toFixed(3)} s), `
    + `used ${r.redis.used_memory_before_kib.toFixed(0)} -> ${r.redis.used_memory_kib.toFixed(0)} KiB, rss ${r.redis.rss_kib.toFixed(0)} KiB, ${r.redis.clients} clients` : ''}\n`);
  if (open !== a.clients) throw new Error(`${a.clients - open} of ${a.clients} idle sockets closed during the window`);
  return r;
}

// Runs already in `out` from earlier invocations with the same server and workload.
function earlierRuns(a, name) {
  if (!a.accumulate || !fs.existsSync(a.out)) return [];
  const prev = JSON.parse(fs.readFileSync(a.out, 'utf8'));
  const same = prev.implementation === name && (prev.idle_s ?? 0) === a['idle-s'] && prev.per_job === a['per-job'] && prev.step_ms === a['step-ms']
    && prev.steps_per_stage === a['steps-per-stage'];
  if (!same) throw new Error(`${a.out} holds another server or workload; cannot accumulate into it`);
  return prev.runs;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const name = implementation(a);
  const runs = earlierRuns(a, name);
  for (let k = 0; k < a.runs; k += 1) {
    // Job ids carry the run number, so accumulated runs never reuse one.
    const run = runs.length;
    runs.push(await oneRun(a, run));
    // Let the closed sockets leave TIME_WAIT pressure and the CPUs settle between runs.
    await sleep(500);
  }
  const result = {
    implementation: name,
    generator: `bench/loadgen: minimal WebSocket clients in ${a.workers} Node processes`,
    per_job: a['per-job'], step_ms: a['step-ms'], steps_per_stage: a['steps-per-stage'], runs,
  };
  if (a['idle-s'] > 0) result.idle_s = a['idle-s'];
  fs.mkdirSync(path.dirname(path.resolve(a.out)), { recursive: true });
  fs.writeFileSync(a.out, JSON.stringify(result, null, 2));
}

main().then(() => process.exit(0), (e) => {
  process.stderr.write(`fanout: ${e.message}\n`);
  process.exit(1);
});
