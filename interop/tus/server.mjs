// The reference tus server (@tus/server with @tus/file-store) on a loopback
// port. Usage: node server.mjs <directory>. Prints {"port": N} once listening;
// stops on SIGTERM.
import http from 'node:http';
import { Server } from '@tus/server';
import { FileStore } from '@tus/file-store';

const directory = process.argv[2];
if (!directory) {
  console.error('usage: node server.mjs <directory>');
  process.exit(2);
}

const tus = new Server({ path: '/files', datastore: new FileStore({ directory }) });
const listener = http.createServer((req, res) => {
  tus.handle(req, res);
});
listener.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: listener.address().port }));
});
process.on('SIGTERM', () => listener.close(() => process.exit(0)));
