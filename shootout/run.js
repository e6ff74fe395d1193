// Robustness shoot-out: four browser clients follow the same job through the
// same fault schedule, at the same time, in headless Chromium; each run
// records what every page showed against what its server had, and the
// results go to a JSON file that report.js turns into bench/shootout.md.
//
// usage: node run.js --server-bin BIN --redis-url URL --embed DIR --leptos-use DIR
//                    [--profile compressed|full] [--seeds 1,2] [--clients ours,socketio,..] --out FILE
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { buildSchedule } = require('./lib/schedule');
const { FaultProxy } = require('./lib/fault-proxy');
const { DevServerBackend, SocketIoBackend } = require('./lib/backends');
const { startStaticServer } = require('./lib/static-server');
const { countSockets, watchScreen } = require('./lib/page-watch');
const { clientFigures } = require('./lib/metrics');
const { CLIENTS } = require('./lib/clients');

const CHROMIUM = process.env.SHOOTOUT_CHROMIUM || '/usr/bin/chromium';
// Headless flags, plus no throttling of timers in pages the browser thinks
// are in the background: four pages run at once and all must keep time.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows'];
// Four stages of this many steps; the step length stretches the job past the faults.
const STEPS_PER_STAGE = 10;
// After the job ends (or the faults, whichever is later), how long a client
// gets to show the final state before the run stops watching.
const OBSERVE_MS = { compressed: 10000, full: 30000 };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function parseArgs() {
  const a = { 'server-bin': '', 'redis-url': '', embed: '', 'leptos-use': '', profile: 'compressed', seeds: '1', out: '',
    clients: CLIENTS.map((c) => c.key).join(',') };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in a)) throw new Error(`unknown option ${argv[i]}`);
    a[key] = argv[i + 1];
  }
  for (const k of ['server-bin', 'redis-url', 'embed', 'leptos-use', 'out']) if (!a[k]) throw new Error(`--${k} is required`);
  a.seeds = a.seeds.split(',').map(Number);
  a.clients = CLIENTS.filter((c) => a.clients.split(',').includes(c.key));
  return a;
}

async function openClient(browser, staticUrl, client, port, job) {
  const context = await browser.newContext();
  await context.addInitScript(countSockets);
  const page = await context.newPage();
  // Errors a page logs or throws are kept with its results, to explain a stuck client.
  const errors = [];
  page.on('pageerror', (e) => errors.push({ t: Date.now(), text: String(e) }));
  page.on('console', (m) => { if (m.type() === 'error') errors.push({ t: Date.now(), text: m.text() }); });
  const cdp = await context.newCDPSession(page);
  await page.goto(staticUrl + client.page(port, job));
  await page.waitForFunction(() => window.shootoutRead && window.shootoutRead() !== null, null, { timeout: 60000 });
  await page.evaluate(watchScreen);
  return { client, context, page, cdp, errors };
}

const setOffline = (open, offline) => Promise.all(open.map(({ cdp }) => cdp.send('Network.emulateNetworkConditions',
  { offline, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })));

// Applies one fault to every client at once; resolves when it is over, with
// its real start and end (a restart ends when both servers are back).
async function applyFault(fault, { proxies, dev, sio, open }) {
  const start = Date.now();
  const duration = fault.until - fault.at;
  switch (fault.kind) {
    case 'drop':
      proxies.forEach((p) => p.drop());
      break;
    case 'refuse':
      proxies.forEach((p) => { p.refuse(duration); p.drop(); });
      await sleep(duration);
      break;
    case 'stall':
      proxies.forEach((p) => p.stall(duration));
      await sleep(duration);
      break;
    case 'restart':
      await Promise.all([dev.restart(duration), sio.restart(duration)]);
      break;
    case 'offline':
      // CDP offline fails new requests and fires `offline`, but leaves open
      // sockets carrying data; a network that is gone carries nothing, so the
      // proxies hold every byte for the same time.
      proxies.forEach((p) => p.stall(duration));
      await setOffline(open, true);
      await sleep(duration);
      await setOffline(open, false);
      break;
    default:
      throw new Error(`unknown fault ${fault.kind}`);
  }
  return { kind: fault.kind, at: start, until: Date.now() };
}

const truthDone = (truth) => truth.length > 0 && ['completed', 'failed', 'cancelled'].includes(truth[truth.length - 1].state);

async function oneRun(args, browser, staticUrl, seed) {
  const schedule = buildSchedule(args.profile, seed);
  const stepMs = Math.ceil(schedule.jobEnd / (4 * STEPS_PER_STAGE));
  const dev = new DevServerBackend({ serverBin: args['server-bin'], redisUrl: args['redis-url'] });
  const sio = new SocketIoBackend();
  const ports = { dev: await dev.start(), sio: await sio.start() };
  const proxies = await Promise.all(args.clients.map(async (c) => {
    const p = new FaultProxy(c.key, ports[c.backend]);
    await p.listen();
    return p;
  }));
  const job = `shootout_${seed}_${Date.now()}`;
  const open = [];
  try {
    for (const [i, c] of args.clients.entries()) open.push(await openClient(browser, staticUrl, c, proxies[i].port, job));
    const t0 = Date.now();
    await Promise.all([dev.startJob(job, stepMs, STEPS_PER_STAGE), sio.startJob(job, stepMs, STEPS_PER_STAGE)]);
    const faults = [];
    for (const f of schedule.faults) {
      await sleep(Math.max(0, t0 + f.at - Date.now()));
      faults.push(await applyFault(f, { proxies, dev, sio, open }));
      process.stderr.write(`  seed ${seed}: ${f.kind} ${((faults.at(-1).until - t0) / 1000).toFixed(1)} s\n`);
    }
    // Watch until every page shows its server's final state, or time is up.
    const faultsEnd = faults.at(-1).until;
    for (;;) {
      const jobsDone = truthDone(dev.truth) && truthDone(sio.truth);
      const end = Math.max(faultsEnd, jobsDone ? Math.max(dev.truth.at(-1).t, sio.truth.at(-1).t) : Infinity);
      if (Date.now() > end + OBSERVE_MS[args.profile]) break;
      if (jobsDone) {
        const shown = await Promise.all(open.map(({ page }) => page.evaluate(() => window.shootoutRead())));
        const truthOf = (c) => (c.backend === 'dev' ? dev.truth : sio.truth).at(-1);
        if (shown.every((v, i) => v && v.seq === truthOf(args.clients[i]).seq && v.state === truthOf(args.clients[i]).state)) break;
      }
      await sleep(500);
    }
    await sleep(1000);
    const end = Date.now();
    const clients = {};
    for (const { client, page, errors } of open) {
      const { log, sockets, events, fetches } = await page.evaluate(() => ({
        log: window.shootoutLog, sockets: window.shootoutSockets, events: window.shootoutEvents, fetches: window.shootoutFetches,
      }));
      const truth = client.backend === 'dev' ? dev.truth : sio.truth;
      const proxy = proxies[args.clients.indexOf(client)].counts;
      const figures = clientFigures({ truth, log, faults, t0, end, sockets });
      // Polls and Socket.IO's long-polling are plain HTTP connections at the proxy.
      figures.httpConnections = proxy.httpConnections;
      clients[client.key] = { figures, proxy, log, sockets, events, errors, fetches };
    }
    return { seed, t0, end, stepMs, stepsPerStage: STEPS_PER_STAGE, schedule, faults,
      truth: { dev: dev.truth, sio: sio.truth }, clients };
  } finally {
    await Promise.all(open.map(({ context }) => context.close().catch(() => {})));
    await Promise.all(proxies.map((p) => p.close()));
    await dev.stop();
    await sio.stop();
  }
}

async function main() {
  const args = parseArgs();
  const here = __dirname;
  const nm = path.join(here, 'node_modules');
  const statics = await startStaticServer({
    '/ours.html': path.join(here, 'pages/ours.html'),
    '/leptos-use.html': path.join(here, 'pages/leptos-use.html'),
    '/socketio.html': path.join(here, 'pages/socketio.html'),
    '/partysocket.html': path.join(here, 'pages/partysocket.html'),
    '/view.js': path.join(here, 'pages/view.js'),
    '/vendor/socket.io.esm.min.js': path.join(nm, 'socket.io-client/dist/socket.io.esm.min.js'),
    '/vendor/partysocket-ws.js': path.join(nm, 'partysocket/dist/ws.js'),
    '/embed/': args.embed,
    '/leptos-use/': args['leptos-use'],
  });
  const loadavg = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const chromiumVersion = browser.version();
  const runs = [];
  try {
    for (const seed of args.seeds) {
      process.stderr.write(`shoot-out run, profile ${args.profile}, seed ${seed}\n`);
      runs.push(await oneRun(args, browser, statics.url, seed));
    }
  } finally {
    await browser.close();
    statics.server.close();
  }
  const machine = `${os.cpus().length} × ${os.cpus()[0].model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`;
  const result = { profile: args.profile, observeMs: OBSERVE_MS[args.profile], date: new Date().toISOString(), machine, loadavgAtStart: loadavg,
    chromium: chromiumVersion, clients: args.clients.map(({ key, name }) => ({ key, name })), runs };
  fs.mkdirSync(path.dirname(args.out), { recursive: true });
  fs.writeFileSync(args.out, JSON.stringify(result));
  for (const run of runs) {
    for (const [key, c] of Object.entries(run.clients)) {
      const f = c.figures;
      process.stderr.write(`  seed ${run.seed} ${key}: final ${f.finalOk ? 'ok' : 'WRONG'} lag ${f.finalLagMs} catch-up ${f.catchUpMs} `
        + `stale ${f.staleMaxMs} stale-live ${f.staleShownLiveMaxMs} regressions ${f.regressions} sockets ${f.socketsOpened} `
        + `announced ${f.faultsAnnounced.length}/${f.faultCount}\n`);
    }
  }
}

main().catch((e) => {
  process.stderr.write(`${e.stack}\n`);
  process.exit(1);
});
