// A TCP proxy in front of one backend that can misbehave on command, so every
// client in the shoot-out meets exactly the same faults whatever its library:
//  - drop():           closes every proxied connection (the browser sees 1006);
//  - refuse(ms):       answers new WebSocket upgrades with 503 for that long
//                      (plain HTTP requests, e.g. polling, still pass);
//  - stall(ms):        forwards nothing, in either direction, on any connection
//                      (open or new) for that long; the sockets stay open and
//                      silent, then carry on with what was held back, as the
//                      dev server's own stall fault does.
// It works on bytes: only the first request head of a connection is read, to
// tell an upgrade from a plain request.
'use strict';

const net = require('node:net');

const REFUSAL_BODY = JSON.stringify({ error: { code: 'upgrade_refused', message: 'refused by the fault proxy' } });
const REFUSAL = 'HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n'
  + `Content-Length: ${Buffer.byteLength(REFUSAL_BODY)}\r\nConnection: close\r\n\r\n${REFUSAL_BODY}`;
const HEAD_END = '\r\n\r\n';
const MAX_HEAD_BYTES = 64 * 1024;

class FaultProxy {
  constructor(name, backendPort) {
    this.name = name;
    this.backendPort = backendPort;
    this.links = new Set();
    this.refuseUntil = 0;
    this.stallUntil = 0;
    this.counts = { connections: 0, upgrades: 0, refusedUpgrades: 0, httpConnections: 0, dropped: 0, backendDown: 0 };
    this.server = net.createServer((client) => this.accept(client));
  }

  listen() {
    return new Promise((resolve) => {
      this.server.listen(0, '127.0.0.1', () => {
        this.port = this.server.address().port;
        resolve(this.port);
      });
    });
  }

  close() {
    for (const link of this.links) link.destroy(true);
    return new Promise((resolve) => this.server.close(resolve));
  }

  stalled() {
    return Date.now() < this.stallUntil;
  }

  drop() {
    const n = this.links.size;
    for (const link of [...this.links]) link.destroy(true);
    this.counts.dropped += n;
    return n;
  }

  refuse(ms) {
    this.refuseUntil = Date.now() + ms;
  }

  // Holds every link until the stall ends, then lets them all carry on.
  stall(ms) {
    this.stallUntil = Date.now() + ms;
    for (const link of this.links) link.pause();
    clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => {
      for (const link of this.links) link.resume();
    }, ms);
  }

  accept(client) {
    this.counts.connections += 1;
    const link = new Link(this, client);
    this.links.add(link);
    client.on('close', () => this.links.delete(link));
    if (this.stalled()) link.pause();
  }
}

// One client connection and, once its first request head is read, its
// backend connection.
class Link {
  constructor(proxy, client) {
    this.proxy = proxy;
    this.client = client;
    this.backend = null;
    this.head = Buffer.alloc(0);
    this.paused = false;
    client.on('error', () => this.destroy());
    client.on('close', () => this.destroy());
    this.onHeadData = (chunk) => this.readHead(chunk);
    client.on('data', this.onHeadData);
  }

  readHead(chunk) {
    this.head = Buffer.concat([this.head, chunk]);
    const end = this.head.indexOf(HEAD_END);
    if (end < 0) {
      if (this.head.length > MAX_HEAD_BYTES) this.destroy();
      return;
    }
    this.client.off('data', this.onHeadData);
    const head = this.head.subarray(0, end).toString('latin1');
    const upgrade = /^upgrade:\s*websocket\s*$/im.test(head);
    const counts = this.proxy.counts;
    if (upgrade) counts.upgrades += 1; else counts.httpConnections += 1;
    if (upgrade && Date.now() < this.proxy.refuseUntil) {
      counts.refusedUpgrades += 1;
      this.client.end(REFUSAL);
      return;
    }
    this.connectBackend();
  }

  connectBackend() {
    const backend = net.connect(this.proxy.backendPort, '127.0.0.1');
    this.backend = backend;
    backend.on('connect', () => {
      backend.write(this.head);
      this.head = null;
      this.client.pipe(backend);
      backend.pipe(this.client);
      // pipe() starts the flow; a link that connected during a stall waits.
      if (this.paused) this.pause();
    });
    backend.on('error', (e) => {
      if (e.code === 'ECONNREFUSED') this.proxy.counts.backendDown += 1;
      this.destroy();
    });
    backend.on('close', () => this.destroy());
    if (this.paused) backend.pause();
  }

  pause() {
    this.paused = true;
    this.client.pause();
    if (this.backend) this.backend.pause();
  }

  resume() {
    this.paused = false;
    this.client.resume();
    if (this.backend) this.backend.resume();
  }

  // Closes both sides. A close that happens during a stall (a peer giving up,
  // an idle timeout) is held back like the bytes are, and delivered after it;
  // a drop (`force`) closes at once.
  destroy(force = false) {
    if (this.destroyed) return;
    if (!force && this.proxy.stalled()) {
      clearTimeout(this.heldClose);
      this.heldClose = setTimeout(() => this.destroy(), this.proxy.stallUntil - Date.now() + 1);
      return;
    }
    this.destroyed = true;
    clearTimeout(this.heldClose);
    this.client.destroy();
    if (this.backend) this.backend.destroy();
  }
}

module.exports = { FaultProxy };
