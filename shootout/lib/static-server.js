// Serves the four harness pages and what they load, from an origin of their
// own: the pages load outside the faults, only their sockets and polls go
// through the fault proxies.
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm',
  '.css': 'text/css', '.json': 'application/json' };

// `routes` maps a URL prefix (e.g. "/embed/") or an exact path to a directory or file.
function startStaticServer(routes) {
  const entries = Object.entries(routes).sort((a, b) => b[0].length - a[0].length);
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const hit = entries.find(([prefix]) => urlPath === prefix || (prefix.endsWith('/') && urlPath.startsWith(prefix)));
    if (!hit || urlPath.includes('..')) { res.writeHead(404).end(); return; }
    const [prefix, target] = hit;
    const file = urlPath === prefix && !prefix.endsWith('/') ? target : path.join(target, urlPath.slice(prefix.length));
    fs.readFile(file, (err, body) => {
      if (err) { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` }));
  });
}

module.exports = { startStaticServer };
