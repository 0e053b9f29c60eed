// The pages of `scalekit serve` in a real browser: Debian's chromium, driven
// headless by playwright-core (web/package-lock.json). Started by CTest
// (tests/CMakeLists.txt: web_pages):
//
//   node web/tests/pages.test.mjs --scalekit BUILD/scalekit --artefacts DIR
//
// It starts its own `scalekit serve` on a free loopback port and stops it.
// Exit 0: passed; 1: failed (the reason on stderr); 77: skipped, because
// chromium or web/node_modules is missing (scripts/setup installs both).
// Screenshots of both pages at desktop and phone sizes go to DIR.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { artefacts, check, failures, launch, requireWeb, scalekit, startServe, stopProcess, watchProblems } from './harness.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The window of tile (z, x, y), computed as include/scalekit/serve/web/tile.h does.
const tileWindow = (z, x, y) => {
  const side = 3.5 / 2 ** z;
  return [-2.5 + side * x, -1.75 + side * y, -2.5 + side * (x + 1), -1.75 + side * (y + 1)];
};

// axe-core's WCAG 2.1 A and AA rules (labels, contrast, keyboard access, ...), run in the page.
async function accessible(page, what) {
  await page.addScriptTag({ path: requireWeb.resolve('axe-core/axe.min.js') });
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => `${v.id} (${v.help}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  check(found.length === 0, `${what} passes axe-core's WCAG 2.1 A/AA checks${found.length ? `:\n  ${found.join('\n  ')}` : ''}`);
}

async function explorer(browser, base) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems = watchProblems(page);
  const tiles = [];
  page.on('request', (r) => { if (r.url().includes('/mandelbrot.png?')) tiles.push(new URL(r.url()).searchParams); });

  const t0 = Date.now();
  await page.goto(`${base}/`);
  await page.waitForFunction(() => document.querySelectorAll('img.leaflet-tile-loaded').length >= 1);
  console.log(`measured: the explorer's first (coarse) tile drawn ${Date.now() - t0} ms after navigation`);
  await page.waitForFunction(() => {
    const tiles = [...document.querySelectorAll('img.leaflet-tile')];
    return tiles.length > 0 && tiles.every((i) => i.dataset.full === '1');
  });
  console.log(`measured: every tile of the first view at full resolution ${Date.now() - t0} ms after navigation`);
  const drawn = await page.$$eval('img.leaflet-tile-loaded', (imgs) => imgs.map((i) => [i.naturalWidth, i.naturalHeight]));
  check(drawn.length >= 1 && drawn.every(([w, h]) => w === 256 && h === 256), `tiles drawn, 256 × 256 each (${drawn.length})`);
  const coarseFirst = tiles.findIndex((p) => p.get('w') === '64');
  check(coarseFirst >= 0, 'a coarse tile (64 px) is asked for besides the full ones');
  const panel = await page.textContent('#workers-seen');
  check(/^\d+: \d+/.test(panel), `the panel names the worker pids that computed the tiles ("${panel}")`);
  const executor = await page.textContent('#executor');
  check(executor.startsWith('threads: '), `the panel names the executor and its median ("${executor}")`);

  // A tile's pixels equal what `scalekit mandelbrot` writes for the same region.
  const [z, x, y, n] = [1, 1, 0, 200];
  const w = tileWindow(z, x, y);
  const dir = mkdtempSync(path.join(tmpdir(), 'scalekit-web-'));
  const file = path.join(dir, 'tile.png');
  const made = spawnSync(scalekit, ['mandelbrot', '-W', '256', '-H', '256', '-n', String(n), '--region', w.join(','), '-o', file]);
  check(made.status === 0, `scalekit mandelbrot --region ${w.join(',')} ran${made.status ? `: ${made.stderr}` : ''}`);
  const expected = `data:image/png;base64,${readFileSync(file).toString('base64')}`;
  rmSync(dir, { recursive: true, force: true });
  const differing = await page.evaluate(async ([url, expectedUrl]) => {
    const pixels = async (src) => {
      const img = new Image();
      img.src = src;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.naturalWidth;
      c.height = img.naturalHeight;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0);
      return g.getImageData(0, 0, c.width, c.height).data;
    };
    const blob = await (await fetch(url)).blob();
    const a = await pixels(URL.createObjectURL(blob)), b = await pixels(expectedUrl);
    if (a.length !== b.length) return -1;
    let diff = 0;
    for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) diff += 1;
    return diff;
  }, [`/mandelbrot.png?z=${z}&x=${x}&y=${y}&n=${n}`, expected]);
  check(differing === 0, `tile ${z}/${x}/${y} (n=${n}) has the pixels of scalekit mandelbrot (${differing} bytes differ)`);

  // The executor switch: the same view again, computed serially.
  await page.selectOption('#executor-choice', 'serial');
  await page.waitForFunction(() => /serial: \d+ ms/.test(document.getElementById('executor').textContent));
  await page.waitForLoadState('networkidle');
  const both = await page.textContent('#executor');
  check(/threads: \d+ ms \(\d+\), serial: \d+ ms \(\d+\)/.test(both) && /ex=serial/.test(page.url()) &&
        tiles.some((p) => p.get('executor') === 'serial'), `the executor switch compares them on the same view ("${both}")`);
  await page.selectOption('#executor-choice', '');

  // Dragging and the arrow keys pan: the centre moves and the URL follows.
  const centreOf = () => page.evaluate(() => window.scalekitExplorer.map.getCenter());
  const first = page.url(), start = await centreOf();
  const box = await page.locator('#map').boundingBox();
  await page.mouse.move(box.x + box.width / 3, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 3 + 120, box.y + box.height / 2 + 40, { steps: 8 });
  await page.mouse.up();
  await page.waitForFunction((u) => location.href !== u, first);
  const dragged = await centreOf();
  check(dragged.lng < start.lng - 1 && /re=/.test(page.url()), `dragging pans the view and changes the URL (${page.url()})`);
  const beforeKey = page.url();
  await page.focus('#map');
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction((u) => location.href !== u, beforeKey);
  check((await centreOf()).lng > dragged.lng, `the arrow keys pan (${page.url()})`);
  const zoomBefore = await page.evaluate(() => window.scalekitExplorer.map.getZoom());
  await page.keyboard.press('+');
  await page.waitForFunction((z0) => new URLSearchParams(location.search).get('z') === String(z0 + 1), zoomBefore);
  await page.waitForFunction(() => document.querySelectorAll('img.leaflet-tile-loaded').length >= 1);
  await page.waitForLoadState('networkidle');
  const deeper = tiles.filter((p) => Number(p.get('z')) === zoomBefore + 1).length;
  check(deeper > 0, `zooming in fetches tiles of zoom ${zoomBefore + 1} (${deeper})`);
  const zoomedUrl = page.url();
  const centre = await page.evaluate(() => window.scalekitExplorer.map.getCenter());

  // Reloading that URL shows the same view; back returns to the one before.
  await page.reload();
  await page.waitForFunction(() => window.scalekitExplorer && window.scalekitExplorer.map.getZoom() !== undefined);
  const again = await page.evaluate(() => ({ z: window.scalekitExplorer.map.getZoom(), c: window.scalekitExplorer.map.getCenter() }));
  check(page.url() === zoomedUrl && again.z === zoomBefore + 1 && Math.abs(again.c.lng - centre.lng) < 1e-3 &&
        Math.abs(again.c.lat - centre.lat) < 1e-3, `reloading ${zoomedUrl} shows the same view`);
  await page.goBack();
  await page.waitForFunction((z0) => window.scalekitExplorer.map.getZoom() === z0, zoomBefore);
  check(true, 'back returns to the view before the zoom');
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: path.join(artefacts, 'explorer-desktop.png') });
  await page.setViewportSize({ width: 375, height: 740 });
  await page.waitForLoadState('networkidle');
  await sleep(300);
  await page.screenshot({ path: path.join(artefacts, 'explorer-phone.png') });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `at 375 px nothing overflows sideways (${overflow} px)`);
  await accessible(page, 'the explorer at 375 px');
  await page.setViewportSize({ width: 1280, height: 800 });
  await accessible(page, 'the explorer at 1280 px');
  check(problems.length === 0, `the explorer logs no console errors or warnings${problems.length ? `:\n  ${problems.join('\n  ')}` : ''}`);
  await page.close();
}

// A pinch on a touch screen zooms, as Leaflet's touch zoom should: two
// touch points (Chromium's own touch events, through the DevTools protocol)
// move apart, and the zoom and the URL follow.
async function pinch(browser, base) {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 }, hasTouch: true, isMobile: true });
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(`${base}/?re=-0.75&im=0.1&z=2`);
  await page.waitForFunction(() => document.querySelectorAll('img.leaflet-tile-loaded').length >= 1);
  const z0 = await page.evaluate(() => window.scalekitExplorer.map.getZoom());
  const box = await page.locator('#map').boundingBox();
  const [cx, cy] = [box.x + box.width / 2, box.y + box.height / 4];  // above the panel, which covers the bottom
  const cdp = await context.newCDPSession(page);
  const touch = (type, spread) => cdp.send('Input.dispatchTouchEvent', {
    type,
    touchPoints: spread === null ? [] : [{ x: cx - spread, y: cy, id: 1 }, { x: cx + spread, y: cy, id: 2 }],
  });
  await touch('touchStart', 20);
  for (let step = 1; step <= 12; step += 1) {
    await touch('touchMove', 20 + step * 6);  // 40 px apart to 184 px: about 4.6 times closer
    await sleep(20);
  }
  await touch('touchEnd', null);
  let zoomed = true;
  try {
    await page.waitForFunction((z) => Number(new URLSearchParams(location.search).get('z')) > z, z0, { timeout: 5000 });
  } catch { zoomed = false; }
  const z1 = await page.evaluate(() => window.scalekitExplorer.map.getZoom());
  check(zoomed && z1 >= z0 + 2, `a pinch zooms in (zoom ${z0} → ${z1}, ${page.url()})`);
  await page.waitForFunction((z) => document.querySelectorAll(`img.leaflet-tile-loaded`).length >= 1 &&
    window.scalekitExplorer.map.getZoom() === z, z1);
  check(problems.length === 0, `the pinch logs no console errors or warnings${problems.length ? `:\n  ${problems.join('\n  ')}` : ''}`);
  await context.close();
}

async function fleet(browser, base) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = watchProblems(page);
  await page.goto(`${base}/fleet`);
  await page.waitForFunction(() => document.querySelectorAll('#workers tbody tr').length === 2);
  const rows = await page.$$eval('#workers tbody tr', (trs) => trs.map((tr) => ({ pid: Number(tr.dataset.pid), text: tr.textContent })));
  check(rows.length === 2 && rows.every((r) => r.pid > 0), `the dashboard lists the 2 workers (${rows.map((r) => r.pid).join(', ')})`);
  // Some traffic for the charts, then a screenshot.
  for (let i = 0; i < 40; i += 1) await page.evaluate((u) => fetch(u).then((r) => r.blob()), `/mandelbrot.png?z=3&x=${i % 8}&y=${Math.floor(i / 8)}&n=100`);
  await sleep(2200);
  await page.screenshot({ path: path.join(artefacts, 'fleet-desktop.png'), fullPage: true });
  await accessible(page, 'the dashboard at 1280 px');
  check(problems.length === 0, `the dashboard logs no console errors or warnings${problems.length ? `:\n  ${problems.join('\n  ')}` : ''}`);

  // A worker killed with SIGKILL shows as restarted within two seconds. The
  // one not feeding this page: the feed's own end would be the browser's
  // network error, not the page's.
  const feed = Number(/pid (\d+)/.exec(await page.textContent('#live'))[1]);
  const victim = rows.map((r) => r.pid).find((p) => p !== feed);
  const killedAt = Date.now();
  process.kill(victim, 'SIGKILL');
  let shown = true;
  try {
    await page.waitForFunction((pid) => document.getElementById('restart-log').textContent.includes(`pid ${pid} gone (crash)`), victim, { timeout: 2000 });
  } catch { shown = false; }
  console.log(`measured: the SIGKILL of pid ${victim} shown ${Date.now() - killedAt} ms later`);
  check(shown, `the restart of pid ${victim} (SIGKILL) shows within 2 s: "${await page.textContent('#restart-log')}"`);
  await page.waitForFunction((pid) => {
    const pids = [...document.querySelectorAll('#workers tbody tr')].map((tr) => Number(tr.dataset.pid));
    return pids.length === 2 && !pids.includes(pid);
  }, victim, { timeout: 10000 });
  check(/crash 1/.test(await page.textContent('#restarts')), 'the restarts card counts the crash');
  await page.setViewportSize({ width: 375, height: 740 });
  await sleep(600);
  await page.screenshot({ path: path.join(artefacts, 'fleet-phone.png'), fullPage: true });
  await accessible(page, 'the dashboard at 375 px');
  await page.close();
}

const serve = await startServe();
const browser = await launch();
try {
  await explorer(browser, serve.base);
  await pinch(browser, serve.base);
  await fleet(browser, serve.base);
} catch (e) {
  failures.push(String(e.stack || e));
  console.error(e);
} finally {
  await browser.close();
  await stopProcess(serve.child);
}
console.log(`screenshots: ${artefacts}`);
if (failures.length) {
  console.error(`${failures.length} failed:\n- ${failures.join('\n- ')}\nserve's log:\n${serve.log()}`);
  process.exit(1);
}
