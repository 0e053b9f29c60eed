// What the browser tests share: their arguments (--scalekit PATH [--artefacts
// DIR]), the skip (exit 77) when Debian's chromium or web/node_modules is
// missing, the launch of chromium headless through playwright-core, the
// checks they report, and the servers they start (scalekit serve, a private
// redis-server, scalekit workers), each stopped by its pid.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const requireWeb = createRequire(path.join(here, '..', 'package.json'));

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const chromium = process.env.SCALEKIT_CHROMIUM || '/usr/bin/chromium';
const skip = (why) => { console.log(`SKIP: ${why}`); process.exit(77); };
if (!existsSync(chromium)) skip(`no ${chromium} (Debian's chromium: scripts/setup installs it)`);
let playwright;
try {
  playwright = requireWeb('playwright-core');
} catch {
  skip('web/node_modules has no playwright-core (scripts/setup runs npm ci in web/)');
}
export const scalekit = args.scalekit;
export const artefacts = args.artefacts || path.join(tmpdir(), 'scalekit-web-artefacts');
if (!scalekit || !existsSync(scalekit)) {
  console.error(`usage: ${path.basename(process.argv[1])} --scalekit PATH [--artefacts DIR]`);
  process.exit(2);
}
mkdirSync(artefacts, { recursive: true });

export const failures = [];
export const check = (ok, what) => {
  console.log(`${ok ? 'ok' : 'FAILED'}: ${what}`);
  if (!ok) failures.push(what);
};

// What a page says is wrong: its console errors and warnings, and uncaught
// exceptions, collected into the array returned as they come.
export function watchProblems(page) {
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`exception: ${e.message}`));
  return problems;
}

// The URLs a page built from a file fetches from anywhere but files (a
// self-contained report fetches none).
export function watchFetches(page) {
  const requests = [];
  page.on('request', (r) => { if (!r.url().startsWith('file:')) requests.push(r.url()); });
  return requests;
}

// Chromium headless, with no background traffic (this machine's network is closed).
export const launch = () => playwright.chromium.launch({
  executablePath: chromium,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});

// A child process whose stderr is kept; resolves when `ready` matches it.
function startLogged(command, args, ready, what) {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${log}`)), 20000);
    child.stderr.on('data', (d) => {
      log += d;
      const m = ready.exec(log);
      if (m) { clearTimeout(timer); resolve({ child, match: m, log: () => log }); }
    });
    child.on('exit', (code) => reject(new Error(`${what} exited (${code}):\n${log}`)));
  });
}

// scalekit serve with two workers (and `args`) on a port of its choosing; resolves when both accept.
export async function startServe(args = []) {
  const s = await startLogged(scalekit, ['serve', '--listen', '127.0.0.1:0', '--workers', '2', '--threads', '2',
    '--grace', '2', ...args], /listening on 127\.0\.0\.1:(\d+)[^]*2 workers ready/, 'serve');
  return { ...s, base: `http://127.0.0.1:${s.match[1]}` };
}

// SIGTERM, then SIGKILL after 5 s; resolves when the process is gone.
export function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.on('exit', () => { clearTimeout(kill); resolve(); });
    child.kill('SIGTERM');
  });
}

// A free loopback port (the kernel's choice, released for the caller).
const freePort = () => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

// A private redis-server on a free loopback port, nothing saved; `url` is its broker URL.
export async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' });
  for (let i = 0; i < 200; i += 1) {
    const up = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.end(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (up) return { child, url: `redis://127.0.0.1:${port}/0` };
    await new Promise((r) => setTimeout(r, 25));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not start on port ${port}`);
}

// `scalekit worker` on `broker` (and `args`); resolves when it consumes.
export const startWorker = (broker, args = []) =>
  startLogged(scalekit, ['worker', '--broker', broker, ...args], /consuming/, 'scalekit worker');
