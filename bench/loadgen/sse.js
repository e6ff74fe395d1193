// A minimal Server-Sent Events reader over a plain TCP socket, the rung
// below the page socket (`GET /ws/page/events`): one request, a 200 head,
// then a chunked body of `data: ...` events. It does no more than a
// subscriber needs, like wire.js does for WebSocket, so both transports are
// read at the same cost per event.
'use strict';

const net = require('node:net');

// Opens `url` (http://host:port/path?query). `onText(data, receivedAtMs)` gets
// each event's data; `onClose(err)` is called once, with an Error unless the
// server ended the stream after a 200. `localAddress`: as in wire.js.
function open(url, { onText, onClose, localAddress }) {
  const u = new URL(url);
  if (u.protocol !== 'http:') throw new Error(`only http:// URLs are supported, got ${url}`);
  const socket = net.connect({ host: u.hostname, port: Number(u.port || 80), noDelay: true, localAddress });
  let head = true;
  let chunked = false;
  // Raw bytes not yet de-chunked, and de-chunked text not yet split into events.
  let raw = Buffer.alloc(0);
  let text = '';
  let closed = false;
  let failure = null;

  const finish = () => {
    if (closed) return;
    closed = true;
    onClose(failure);
  };
  const fail = (message) => {
    failure = failure ?? new Error(message);
    socket.destroy();
  };
  // Moves whole chunks from `raw` to `text`; a body without chunking passes as is.
  const dechunk = () => {
    if (!chunked) {
      text += raw.toString('utf8');
      raw = Buffer.alloc(0);
      return;
    }
    for (;;) {
      const line = raw.indexOf('\r\n');
      if (line < 0) return;
      const size = parseInt(raw.toString('latin1', 0, line), 16);
      if (Number.isNaN(size)) return fail('bad chunk size');
      if (size === 0) {
        socket.end();
        return;
      }
      if (raw.length < line + 2 + size + 2) return;
      text += raw.toString('utf8', line + 2, line + 2 + size);
      raw = raw.subarray(line + 2 + size + 2);
    }
  };

  socket.on('connect', () => {
    socket.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nAccept: text/event-stream\r\n\r\n`);
  });
  socket.on('data', (chunk) => {
    const now = Date.now();
    raw = raw.length ? Buffer.concat([raw, chunk]) : chunk;
    if (head) {
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) return;
      const h = raw.toString('latin1', 0, end);
      if (!/^HTTP\/1\.1 200 /.test(h)) return fail(`event stream refused: ${h.split('\r\n')[0]}`);
      chunked = /\r\ntransfer-encoding:\s*chunked/i.test(h);
      head = false;
      raw = raw.subarray(end + 4);
    }
    dechunk();
    // Events end with a blank line; only their `data:` lines matter here.
    let cut = text.indexOf('\n\n');
    while (cut >= 0) {
      const event = text.slice(0, cut);
      text = text.slice(cut + 2);
      const data = event.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
      if (data) onText(data, now);
      cut = text.indexOf('\n\n');
    }
  });
  socket.on('error', (e) => { failure = failure ?? e; });
  socket.on('close', finish);
  return {
    sendText: () => { throw new Error('an event stream has no client messages'); },
    terminate: () => socket.destroy(),
  };
}

module.exports = { open };
