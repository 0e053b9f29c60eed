// The pages of `scalekit serve --broker` in a real browser: a private
// redis-server on a free loopback port, a real `scalekit worker` on it, and
// serve sending its tiles there. Started by CTest (tests/CMakeLists.txt:
// web_broker):
//
//   node web/tests/broker.test.mjs --scalekit BUILD/scalekit --artefacts DIR
//
// Exit 0: passed; 1: failed; 77: skipped (no chromium or web/node_modules).
// Screenshots of both pages with the distributed workers go to DIR.

import path from 'node:path';

import {
  artefacts, check, failures, launch, requireWeb, startRedis, startServe, startWorker, stopProcess, watchProblems,
} from './harness.mjs';

async function accessible(page, what) {
  await page.addScriptTag({ path: requireWeb.resolve('axe-core/axe.min.js') });
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => `${v.id} (${v.help}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  check(found.length === 0, `${what} passes axe-core's WCAG 2.1 A/AA checks${found.length ? `:\n  ${found.join('\n  ')}` : ''}`);
}

// The explorer's tiles come from the distributed worker, which the panel names;
// its switch offers the local executors too, and compares them on the same view.
async function explorer(browser, base, workerLabel) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems = watchProblems(page);
  await page.goto(`${base}/?re=-0.75&im=0&z=2`);
  await page.waitForFunction(() => {
    const tiles = [...document.querySelectorAll('img.leaflet-tile')];
    return tiles.length > 0 && tiles.every((i) => i.dataset.full === '1');
  });
  const offered = await page.$$eval('#executor-choice option', (os) => os.map((o) => [o.value, o.textContent]));
  check(offered.some(([v]) => v === 'distributed') && offered.some(([v]) => v === 'processes') &&
        offered[0][1] === "distributed (the server's own)", `the switch offers distributed and the local executors (${offered.map(([v]) => v || 'own').join(', ')})`);
  const executor = await page.textContent('#executor');
  check(/^distributed: \d+ ms \(\d+\)$/.test(executor), `the tiles ran on the distributed executor ("${executor}")`);
  const computed = await page.textContent('#computed-by');
  check(computed.startsWith(`${workerLabel}: `), `the panel names the distributed worker that computed them ("${computed}")`);
  const row = await page.textContent('#recent tbody tr');
  check(row.includes(workerLabel), `the latest tiles say who computed each ("${row}")`);

  await page.selectOption('#executor-choice', 'threads');
  await page.waitForFunction(() => /threads: \d+ ms/.test(document.getElementById('executor').textContent));
  await page.waitForLoadState('networkidle');
  const both = await page.textContent('#executor');
  check(/distributed: \d+ ms \(\d+\), threads: \d+ ms \(\d+\)/.test(both), `the switch compares distributed and threads ("${both}")`);
  const local = await page.textContent('#computed-by');
  check(/pid \d+: \d+/.test(local), `tiles on threads are computed by the serve worker ("${local}")`);
  await page.selectOption('#executor-choice', '');
  await page.waitForLoadState('networkidle');
  await new Promise((r) => setTimeout(r, 500));  // Leaflet's fade-in
  await page.screenshot({ path: path.join(artefacts, 'explorer-broker-desktop.png') });
  await accessible(page, 'the explorer with a broker');
  check(problems.length === 0, `the explorer logs no console errors or warnings${problems.length ? `:\n  ${problems.join('\n  ')}` : ''}`);
  await page.close();
}

// The dashboard lists the distributed worker, its queue and its pace.
async function fleet(browser, base, workerLabel) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const problems = watchProblems(page);
  await page.goto(`${base}/fleet`);
  await page.waitForFunction((name) => [...document.querySelectorAll('#broker-workers tbody tr')]
    .some((tr) => tr.dataset.name === name && Number(tr.cells[3].textContent) > 0), workerLabel, { timeout: 10000 });
  const visible = await page.isVisible('#broker');
  const cells = await page.$$eval('#broker-workers tbody tr td', (tds) => tds.map((td) => td.textContent));
  check(visible && cells[0] === workerLabel && cells[1] === 'threads × 2' && Number(cells[3]) > 0,
    `the dashboard lists the distributed worker and what it did (${cells.join(' | ')})`);
  const verdict = await page.textContent('#broker-verdict'), waiting = await page.textContent('#broker-waiting');
  check(/^(idle|ok)$/.test(verdict) && /^\d+$/.test(waiting), `it shows the queue's health and length (${verdict}, ${waiting})`);
  // Tiles computed meanwhile (new ones: no cache hit) show as tasks per second.
  const busy = page.evaluate(async () => {
    for (let i = 0; i < 64; i += 1) await fetch(`/mandelbrot.png?z=6&x=${i % 64}&y=${32 + (i >> 6)}&n=3000`).then((r) => r.blob());
  });
  let paced = true;
  try {
    await page.waitForFunction(() => Number(document.getElementById('broker-rate').textContent) > 0, null, { timeout: 10000 });
  } catch { paced = false; }
  const rate = await page.textContent('#broker-rate');
  check(paced && /^\d+\.\d$/.test(rate), `it shows the tasks the workers finish per second (${rate})`);
  await busy;
  check(await page.isVisible('#tasks-figure .uplot'), 'a chart draws the tasks per second');
  await page.screenshot({ path: path.join(artefacts, 'fleet-broker-desktop.png'), fullPage: true });
  await page.setViewportSize({ width: 375, height: 740 });
  await page.screenshot({ path: path.join(artefacts, 'fleet-broker-phone.png'), fullPage: true });
  await accessible(page, 'the dashboard with a broker at 375 px');
  check(problems.length === 0, `the dashboard logs no console errors or warnings${problems.length ? `:\n  ${problems.join('\n  ')}` : ''}`);
  await page.close();
}

const children = [];
let serve;
try {
  const redis = await startRedis();
  children.push(redis.child);
  const worker = await startWorker(redis.url, ['-c', '2', '--pool', 'threads', '-n', 'browser@test']);
  children.push(worker.child);
  serve = await startServe(['--broker', redis.url]);
  children.push(serve.child);
  const workerLabel = `browser@test (pid ${worker.child.pid})`;
  const browser = await launch();
  try {
    await explorer(browser, serve.base, workerLabel);
    await fleet(browser, serve.base, workerLabel);
  } finally {
    await browser.close();
  }
} catch (e) {
  failures.push(String(e.stack || e));
  console.error(e);
} finally {
  for (const child of children.reverse()) await stopProcess(child);
}
console.log(`screenshots: ${artefacts}`);
if (failures.length) {
  console.error(`${failures.length} failed:\n- ${failures.join('\n- ')}${serve ? `\nserve's log:\n${serve.log()}` : ''}`);
  process.exit(1);
}
