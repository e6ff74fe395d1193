// The four clients of the shoot-out: which server side each talks to and the
// page URL that points it at its fault proxy.
'use strict';

const CLIENTS = [
  {
    key: 'ours',
    name: 'UploadProgressRobust (embed package)',
    backend: 'dev',
    page: (port, job) => `/ours.html?job=${job}&ws=ws://127.0.0.1:${port}&http=http://127.0.0.1:${port}`,
  },
  {
    key: 'leptos-use',
    name: 'leptos-use-websocket 0.20 `use_websocket`',
    backend: 'dev',
    page: (port, job) => `/leptos-use.html?ws=ws://127.0.0.1:${port}/ws/progress/${job}`,
  },
  {
    key: 'socketio',
    name: 'socket.io-client 4.8.4',
    backend: 'sio',
    page: (port, job) => `/socketio.html?job=${job}&url=http://127.0.0.1:${port}`,
  },
  {
    key: 'partysocket',
    name: 'partysocket 1.3.0 (hand-written view)',
    backend: 'dev',
    page: (port, job) => `/partysocket.html?job=${job}&ws=ws://127.0.0.1:${port}`,
  },
];

// The server side ('dev' or 'sio') a client talks to; results keep each side's truth under that name.
const backendOf = (key) => CLIENTS.find((c) => c.key === key).backend;

module.exports = { CLIENTS, backendOf };
