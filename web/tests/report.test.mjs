// `scalekit scale`'s report.html in a real browser: Debian's chromium, driven
// headless by playwright-core (web/package-lock.json). Started by CTest
// (tests/CMakeLists.txt: scale_report_page):
//
//   node web/tests/report.test.mjs --scalekit BUILD/scalekit --artefacts DIR
//
// It runs a small sweep with enough worker counts for the model to be fitted,
// opens DIR/report.html from the disk (a self-contained page: nothing is
// fetched), and holds its tables to results.json; then the same for a short
// service sweep (sort-service under open-loop load), whose page adds latency
// tables and charts. The jobs' page also has the task latency table, held
// to results.json the same way. Exit 0: passed; 1: failed;
// 77: skipped, because chromium or web/node_modules is missing.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { artefacts, check, failures, launch, scalekit, watchFetches, watchProblems } from './harness.mjs';

const dir = mkdtempSync(path.join(tmpdir(), 'scalekit-report-'));
const sweep = spawnSync(scalekit, ['-q', 'scale', 'primes', '--executors', 'threads,processes', '--workers', '1,2,3,4,5,6',
  '--repeat', '1', '--sizes', '2000', '--seed', '3', '--report', dir], { encoding: 'utf8' });
if (sweep.status !== 0) {
  console.error(`the sweep failed (${sweep.status}):\n${sweep.stderr}`);
  process.exit(1);
}
const results = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
const serviceDir = mkdtempSync(path.join(tmpdir(), 'scalekit-service-report-'));

const browser = await launch();
try {
  for (const width of [1280, 375]) {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const problems = watchProblems(page), requests = watchFetches(page);
    await page.goto(pathToFileURL(path.join(dir, 'report.html')).href);
    check(problems.length === 0, `${width} px: no console errors or warnings${problems.length ? `: ${problems.join('; ')}` : ''}`);
    check(requests.length === 0, `${width} px: nothing fetched${requests.length ? `: ${requests.join(', ')}` : ''}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, `${width} px: the page fits the width (tables scroll inside; overflow ${overflow} px)`);
    await page.screenshot({ path: path.join(artefacts, `report-${width}.png`), fullPage: true });
    if (width !== 1280) { await page.close(); continue; }

    const markers = await page.locator('circle.point').count();
    check(markers === results.points.length, `a marker per point on the throughput chart (${markers} of ${results.points.length})`);
    const rows = await page.evaluate(() => [...document.querySelectorAll('#points tbody tr')].map((tr) => ({
      executor: tr.dataset.executor, workers: Number(tr.dataset.workers),
      values: [...tr.querySelectorAll('td[data-value]')].map((td) => Number(td.dataset.value)),
    })));
    const fields = ['throughput', 'throughput_min', 'throughput_max', 'wall_s', 'user_s', 'sys_s', 'voluntary_switches',
      'involuntary_switches', 'peak_pss_kib', 'speedup', 'efficiency', 'karp_flatt'];
    let same = rows.length === results.points.length;
    for (const p of results.points) {
      const row = rows.find((r) => r.executor === p.executor && r.workers === p.workers);
      if (!row) { same = false; continue; }
      fields.forEach((f, i) => {
        const want = p[f] === null || p[f] === undefined ? NaN : p[f];
        if (!(Object.is(row.values[i], want) || row.values[i] === want)) {
          same = false;
          console.log(`  ${p.executor} N=${p.workers} ${f}: page ${row.values[i]}, results.json ${want}`);
        }
      });
    }
    check(same, 'the points table holds exactly the values of results.json');
    const fitted = results.models.filter((m) => m.verdict === 'fitted');
    const lambdas = await page.evaluate(() => [...document.querySelectorAll('#models tbody tr')].map((tr) => {
      const cells = [...tr.querySelectorAll('td[data-value]')];
      return cells.length ? Number(cells[0].dataset.value) : null;
    }).filter((v) => v !== null));
    check(fitted.length > 0 && fitted.every((m) => lambdas.includes(m.lambda)),
      `each fitted model's λ is on the page (${fitted.length} fitted of ${results.models.length})`);
    const curves = await page.locator('polyline.usl').count();
    check(curves >= fitted.length, `a USL curve for each fitted model (${curves})`);

    // The task latency: a row per point holding results.json's numbers, ordered, and its chart's markers.
    const taskRows = await page.evaluate(() => [...document.querySelectorAll('#task-latency tbody tr')].map((tr) => ({
      executor: tr.dataset.executor, workers: Number(tr.dataset.workers),
      values: [...tr.querySelectorAll('td[data-value]')].map((td) => Number(td.dataset.value)),
    })));
    const taskFields = ['tasks', 'task_p50_s', 'task_p99_s', 'task_p999_s', 'task_max_s'];
    let sameTasks = taskRows.length === results.points.length, ordered = true;
    for (const p of results.points) {
      const row = taskRows.find((r) => r.executor === p.executor && r.workers === p.workers);
      if (!row) { sameTasks = false; continue; }
      taskFields.forEach((f, i) => {
        if (row.values[i] !== p[f]) {
          sameTasks = false;
          console.log(`  task latency ${p.executor} N=${p.workers} ${f}: page ${row.values[i]}, results.json ${p[f]}`);
        }
      });
      const [, p50, p99, p999, max] = row.values;
      if (!(p[taskFields[0]] > 0 && p50 > 0 && p50 <= p99 && p99 <= p999 && p999 <= max)) ordered = false;
    }
    check(sameTasks, `the task latency table holds exactly the values of results.json (${taskRows.length} rows)`);
    check(ordered, 'every point timed its tasks, p50 <= p99 <= p99.9 <= max');
    const taskMarks = await page.locator('circle.task-p50').count() + await page.locator('circle.task-p99').count();
    check(taskMarks === 2 * results.points.length, `p50 and p99 task markers for each point (${taskMarks})`);
    const covers = await page.locator('#cpu-covers').textContent();
    check(covers.includes(results.cpu_covers), 'the page says which processes the CPU figures cover');
    await page.close();
  }

  // A service sweep: the latency and load-step tables held to results.json, and the latency charts.
  const service = spawnSync(scalekit, ['-q', 'scale', 'sort-service', '--workers', '1,2', '--arrival', 'constant',
    '--start-rate', '100', '--rate-factor', '2', '--max-rate', '200', '--step', '0.3', '--sizes', '100', '--seed', '3',
    '--report', serviceDir], { encoding: 'utf8' });
  check(service.status === 0, `the service sweep ran${service.status === 0 ? '' : ` (${service.status}): ${service.stderr}`}`);
  if (service.status === 0) {
    const sres = JSON.parse(readFileSync(path.join(serviceDir, 'results.json'), 'utf8'));
    for (const width of [1280, 375]) {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      const problems = watchProblems(page), requests = watchFetches(page);
      await page.goto(pathToFileURL(path.join(serviceDir, 'report.html')).href);
      check(problems.length === 0, `service ${width} px: no console errors or warnings${problems.length ? `: ${problems.join('; ')}` : ''}`);
      check(requests.length === 0, `service ${width} px: nothing fetched${requests.length ? `: ${requests.join(', ')}` : ''}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(overflow <= 0, `service ${width} px: the page fits the width (overflow ${overflow} px)`);
      await page.screenshot({ path: path.join(artefacts, `report-service-${width}.png`), fullPage: true });
      if (width !== 1280) { await page.close(); continue; }
      const table = (id) => page.evaluate((sel) => [...document.querySelectorAll(`${sel} tbody tr`)].map((tr) =>
        [...tr.querySelectorAll('td[data-value]')].map((td) => Number(td.dataset.value))), `#${id}`);
      const same = (rows, records, fields, what) => {
        let ok = rows.length === records.length;
        records.forEach((rec, i) => fields.forEach((f, k) => {
          const want = rec[f] === null || rec[f] === undefined ? NaN : Number(rec[f]);
          const got = rows[i] ? rows[i][k] : undefined;
          if (!(Object.is(got, want) || got === want)) {
            ok = false;
            console.log(`  ${what} row ${i} ${f}: page ${got}, results.json ${want}`);
          }
        }));
        check(ok, `the ${what} table holds exactly the values of results.json (${rows.length} rows)`);
      };
      same(await table('latency'), sres.latency, ['saturation_throughput', 'sustained_rate', 'latency_p50_s',
        'latency_p99_s', 'latency_p999_s', 'latency_max_s', 'server_cpu_s_per_request', 'server_user_s_per_request',
        'server_sys_s_per_request', 'lag_p99_s', 'generator_cpu', 'broker_cpu_s_per_request'], 'latency');
      same(await table('load-steps'), sres.load_steps, ['offered', 'achieved', 'errors', 'timeouts', 'latency_p50_s',
        'latency_p99_s', 'latency_p999_s', 'latency_max_s', 'server_cpu_s_per_request', 'voluntary_switches',
        'involuntary_switches', 'lag_p99_s', 'generator_cpu', 'broker_cpu_s_per_request'], 'load-steps');
      check(await page.locator('#task-latency').count() === 0, 'a service sweep has no task latency table (its latency is per request)');
      const hockey = await page.locator('circle.hockey').count();
      check(hockey === sres.load_steps.filter((s) => s.ok > 0).length, `a hockey-stick marker per answered step (${hockey})`);
      const pct = await page.locator('circle.percentile').count();
      check(pct === 4 * sres.latency.length, `p50, p99, p99.9 and max markers for each N (${pct})`);
      const markers = await page.locator('circle.point').count();
      check(markers === sres.points.length, `a throughput marker per N (${markers} of ${sres.points.length})`);
      await page.close();
    }
  }
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(serviceDir, { recursive: true, force: true });
}
if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
