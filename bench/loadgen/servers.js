// Starts the server under test (ours or the Socket.IO peer) and waits for its
// `listening on http://ADDR` line, which both print first.
'use strict';

const path = require('node:path');
const { spawn } = require('node:child_process');

const START_LIMIT_MS = 20000;

// `cpus` (a taskset list such as "0") pins the server to those CPUs.
function start(cmd, args, env = process.env, cpus = null) {
  return new Promise((resolve, reject) => {
    const [file, argv] = cpus ? ['taskset', ['-c', cpus, cmd, ...args]] : [cmd, args];
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'ignore'], env });
    let buf = '';
    let listening = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} did not print its address within ${START_LIMIT_MS} ms`));
    }, START_LIMIT_MS);
    // Keeps draining stdout after the first line so a chatty server never blocks on a full pipe.
    child.stdout.on('data', (d) => {
      if (listening) return;
      buf += d;
      const m = buf.match(/listening on (http:\/\/[^\s]+)/);
      if (m) {
        listening = true;
        clearTimeout(timer);
        resolve({ child, pid: child.pid, base: m[1] });
      }
    });
    child.on('error', (e) => { clearTimeout(timer); reject(new Error(`starting ${cmd}: ${e.message}`)); });
    child.on('exit', (code, signal) => {
      if (!listening) {
        clearTimeout(timer);
        reject(new Error(`${cmd} exited (${code ?? signal}) before listening`));
      }
    });
  });
}

// One or two instances of `upload-progress-server`; two share jobs through Redis.
// `threads` > 0 sets the number of tokio worker threads (default: one per CPU).
async function startOurs({ bin, args, instances, redisUrl, run, threads = 0, cpus = null }) {
  if (!bin) throw new Error('--server-bin is required for --target ours');
  const extra = [];
  if (instances > 1) {
    if (!redisUrl) throw new Error('--instances above 1 needs --redis-url');
    // A prefix of their own per run, so runs never see each other's jobs.
    extra.push(`--redis-url=${redisUrl}`, `--redis-prefix=bench:${Date.now()}:${run}:`);
  }
  const out = [];
  const env = threads > 0 ? { ...process.env, TOKIO_WORKER_THREADS: String(threads) } : process.env;
  for (let i = 0; i < instances; i += 1) out.push(await start(bin, ['--addr', '127.0.0.1:0', ...args, ...extra], env, cpus));
  return out;
}

async function startSocketio({ cpus = null } = {}) {
  return [await start(process.execPath, [path.join(__dirname, '..', 'socketio', 'server.js')], process.env, cpus)];
}

// The fan-out floor: `fanout-floor`, a plain TCP writer with our wire format.
async function startFloor({ bin, cpus = null }) {
  if (!bin) throw new Error('--floor-bin is required for --target floor');
  return [await start(bin, ['--addr', '127.0.0.1:0'], process.env, cpus)];
}

function stopAll(servers) {
  for (const s of servers) {
    s.child.removeAllListeners('exit');
    s.child.kill('SIGKILL');
  }
}

module.exports = { startOurs, startSocketio, startFloor, stopAll };
