// The two server sides of the shoot-out. In both, the job runs in a process
// the faults never touch, and the process the browsers talk to (through a
// fault proxy) is the one the restart fault kills, so a client that comes
// back after the restart can be shown the truth by every server.
//  - DevServerBackend: two upload-progress-server instances sharing jobs on
//    Redis; `runner` runs the job, `front` serves the browsers.
//  - SocketIoBackend: the job runs in this process (bench/socketio's script,
//    the same stages and timing) and is pushed to a Socket.IO server.
// Each records the server's truth: every state with the time it was made.
'use strict';

const path = require('node:path');
const WebSocket = require('ws');
const { runJob } = require('../../bench/socketio/progress');
const { freePort, startListening, kill } = require('./processes');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const truthEntry = (p) => ({ t: Date.now(), seq: p.seq, state: p.state, percent: p.percent });

class DevServerBackend {
  constructor({ serverBin, redisUrl }) {
    this.serverBin = serverBin;
    this.redisUrl = redisUrl;
    this.truth = [];
  }

  args(port) {
    // Limits raised: every proxied connection comes from 127.0.0.1.
    return ['--addr', `127.0.0.1:${port}`, '--allow-loopback-origins', '--redis-url', this.redisUrl,
      '--max-connections', '1000', '--max-per-ip', '1000', '--grace-ms', '600000', '--rate-limit', '100000'];
  }

  async start() {
    this.runner = await startListening('dev server (runner)', this.serverBin, this.args(0));
    this.frontPort = await freePort();
    this.front = await startListening('dev server (front)', this.serverBin, this.args(this.frontPort));
    return this.frontPort;
  }

  async startJob(id, stepMs, stepsPerStage) {
    await this.tap(id);
    const res = await fetch(`${this.runner.url}/ws/test/${id}?step_ms=${stepMs}&steps_per_stage=${stepsPerStage}`,
      { method: 'POST' });
    if (res.status !== 202) throw new Error(`starting job ${id}: ${res.status} ${await res.text()}`);
  }

  // A socket straight to the runner, past every fault: the server's truth.
  tap(id) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${this.runner.url.replace('http', 'ws')}/ws/progress/${id}`);
      ws.on('message', (data) => {
        const m = JSON.parse(data);
        if (m.progress && m.progress.seq > 0) this.truth.push(truthEntry(m.progress));
      });
      ws.on('open', resolve);
      ws.on('error', reject);
    });
  }

  async restart(downMs) {
    await kill(this.front.child);
    await sleep(downMs);
    this.front = await startListening('dev server (front)', this.serverBin, this.args(this.frontPort));
  }

  async stop() {
    await kill(this.front.child);
    await kill(this.runner.child);
  }
}

class SocketIoBackend {
  constructor() {
    this.truth = [];
    this.latest = null;
    this.unsent = null;
  }

  async start() {
    this.port = await freePort();
    await this.launch();
    return this.port;
  }

  launch() {
    const state = this.latest ? [this.latest] : [];
    return startListening('Socket.IO server', process.execPath, [path.join(__dirname, '../sio/server.js'), String(this.port)],
      { SHOOTOUT_STATE: JSON.stringify(state) }).then((s) => { this.server = s; });
  }

  startJob(id, stepMs, stepsPerStage) {
    this.done = runJob(id, stepMs, stepsPerStage, (p) => {
      this.truth.push(truthEntry(p));
      this.latest = JSON.parse(JSON.stringify(p));
      this.unsent = this.latest;
      this.push();
    });
  }

  // Sends the newest state; while the server is down, retries every 250 ms
  // (a newer state replaces the one waiting).
  async push() {
    if (this.pushing) return;
    this.pushing = true;
    while (this.unsent) {
      const p = this.unsent;
      try {
        await fetch(`http://127.0.0.1:${this.port}/push`, { method: 'POST', body: JSON.stringify(p) });
        if (this.unsent === p) this.unsent = null;
      } catch {
        await sleep(250);
      }
    }
    this.pushing = false;
  }

  async restart(downMs) {
    await kill(this.server.child);
    await sleep(downMs);
    await this.launch();
    if (this.unsent) this.push();
  }

  async stop() {
    await kill(this.server.child);
  }
}

module.exports = { DevServerBackend, SocketIoBackend };
