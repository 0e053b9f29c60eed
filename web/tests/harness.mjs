// What the browser tests share: their arguments (--scalekit PATH [--artefacts
// DIR]), the skip (exit 77) when Debian's chromium or web/node_modules is
// missing, the launch of chromium headless through playwright-core, and the
// checks they report.

import { existsSync, mkdirSync } from 'node:fs';
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

// Chromium headless, with no background traffic (this machine's network is closed).
export const launch = () => playwright.chromium.launch({
  executablePath: chromium,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
