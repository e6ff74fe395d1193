// A minimal RFC 6455 WebSocket client over a plain TCP socket: the upgrade,
// unmasked frames from the server (text kept, binary ignored, fragments
// joined), ping answered with pong, close answered with close. It does no
// more than a subscriber needs, so the generator spends its CPU on reading
// frames, not on a library's machinery, and reads both servers identically.
'use strict';

const net = require('node:net');
const crypto = require('node:crypto');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 };

// Masking keys come from one pool of random bytes refilled when used up,
// rather than one call into the CSPRNG per frame.
const maskPool = Buffer.alloc(4096);
let maskAt = maskPool.length;
function maskKey() {
  if (maskAt === maskPool.length) {
    crypto.randomFillSync(maskPool);
    maskAt = 0;
  }
  maskAt += 4;
  return maskPool.subarray(maskAt - 4, maskAt);
}

// A client frame: FIN set, masked as RFC 6455 requires of clients.
function clientFrame(opcode, payload) {
  const len = payload.length;
  const head = len < 126 ? 2 : 4;
  const frame = Buffer.allocUnsafe(head + 4 + len);
  frame[0] = 0x80 | opcode;
  if (len < 126) frame[1] = 0x80 | len;
  else {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(len, 2);
  }
  const mask = maskKey();
  mask.copy(frame, head);
  for (let i = 0; i < len; i += 1) frame[head + 4 + i] = payload[i] ^ mask[i & 3];
  return frame;
}

// Close replies wait here. Answering a close costs this process a write and
// a shutdown (about a quarter of a millisecond each on a busy machine), and
// here thousands of sockets close within the same few hundred milliseconds,
// where in real use each browser closes its own: answered at once, they would
// delay reading the other sockets' final frames and charge that to the
// server's latency. They are answered once the caller calls flushCloses()
// (when it holds every final state it waits for) or after CLOSE_DEFER_MS,
// within the 1 s a server waits for the reply.
const CLOSE_DEFER_MS = 800;
let deferredCloses = [];
let closeTimer = null;

function closeLater(reply) {
  deferredCloses.push(reply);
  if (!closeTimer) closeTimer = setTimeout(flushCloses, CLOSE_DEFER_MS);
}

function flushCloses() {
  clearTimeout(closeTimer);
  closeTimer = null;
  const replies = deferredCloses;
  deferredCloses = [];
  for (const reply of replies) reply();
}

// Opens `url` (ws://host:port/path?query). `onText(text, receivedAtMs)` gets
// every text message with the time its bytes were handed to us; `onClose(err)`
// is called once, with an Error unless the server closed normally.
// `onOpen()`, if given, is called once the upgrade is accepted.
// `localAddress`, if given, is the source address the socket binds before it
// connects (a loopback host has 28 000 ephemeral ports per source address).
function open(url, { onText, onClose, onOpen, localAddress }) {
  const u = new URL(url);
  if (u.protocol !== 'ws:') throw new Error(`only ws:// URLs are supported, got ${url}`);
  const key = crypto.randomBytes(16).toString('base64');
  const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
  const socket = net.connect({ host: u.hostname, port: Number(u.port || 80), noDelay: true, localAddress });
  let upgraded = false;
  let pending = null;
  let fragments = null;
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
  const send = (opcode, payload) => {
    if (!socket.destroyed) socket.write(clientFrame(opcode, payload));
  };

  socket.on('connect', () => {
    socket.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\n`
      + `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  });
  socket.on('data', (chunk) => {
    const now = Date.now();
    let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = null;
    if (!upgraded) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        pending = buf;
        return;
      }
      const head = buf.toString('latin1', 0, end);
      if (!/^HTTP\/1\.1 101 /.test(head)) return fail(`upgrade refused: ${head.split('\r\n')[0]}`);
      if (!head.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)) return fail('bad Sec-WebSocket-Accept');
      upgraded = true;
      buf = buf.subarray(end + 4);
      if (onOpen) onOpen();
    }
    let at = 0;
    while (buf.length - at >= 2) {
      const b0 = buf[at];
      const b1 = buf[at + 1];
      if (b1 & 0x80) return fail('the server sent a masked frame');
      let len = b1 & 0x7f;
      let head = 2;
      if (len === 126) {
        if (buf.length - at < 4) break;
        len = buf.readUInt16BE(at + 2);
        head = 4;
      } else if (len === 127) {
        if (buf.length - at < 10) break;
        len = Number(buf.readBigUInt64BE(at + 2));
        head = 10;
      }
      if (buf.length - at < head + len) break;
      const payload = buf.subarray(at + head, at + head + len);
      at += head + len;
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      if (opcode === OP.text || (opcode === OP.continuation && fragments)) {
        if (!fin) {
          fragments = (fragments ?? []).concat([Buffer.from(payload)]);
          continue;
        }
        const whole = fragments ? Buffer.concat([...fragments, payload]) : payload;
        fragments = null;
        onText(whole.toString('utf8'), now);
      } else if (opcode === OP.ping) {
        send(OP.pong, payload);
      } else if (opcode === OP.close) {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        if (code !== 1000) failure = new Error(`closed by the server with ${code} ${payload.subarray(2).toString()}`);
        const echo = Buffer.from(payload.subarray(0, 2));
        closeLater(() => {
          send(OP.close, echo);
          socket.end();
        });
        return;
      }
    }
    if (at < buf.length) pending = Buffer.from(buf.subarray(at));
  });
  socket.on('error', (e) => { failure = failure ?? e; });
  socket.on('close', finish);
  return {
    sendText: (text) => send(OP.text, Buffer.from(text)),
    terminate: () => socket.destroy(),
  };
}

module.exports = { open, flushCloses };
