// `scalekit scale tables`' tables.html in a real browser: Debian's chromium,
// driven headless by playwright-core (web/package-lock.json). Started by CTest
// (tests/CMakeLists.txt: scale_tables_page):
//
//   node web/tests/tables.test.mjs --scalekit BUILD/scalekit --artefacts DIR
//
// It runs the tables at --quick sizes, opens DIR/tables.html from the disk (a
// self-contained page: nothing is fetched), and holds every figure on it to
// tables.json. Exit 0: passed; 1: failed; 77: skipped, because chromium or
// web/node_modules is missing.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { artefacts, check, failures, launch, scalekit, watchFetches, watchProblems } from './harness.mjs';

const dir = mkdtempSync(path.join(tmpdir(), 'scalekit-tables-'));
const run = spawnSync(scalekit, ['-q', 'scale', 'tables', '--quick', '--report', dir], { encoding: 'utf8' });
if (run.status !== 0) {
  console.error(`scale tables failed (${run.status}):\n${run.stderr}`);
  process.exit(1);
}
const results = JSON.parse(readFileSync(path.join(dir, 'tables.json'), 'utf8'));
const same = (a, b) => Object.is(a, b) || a === b;
const value = (v) => (v === null || v === undefined ? NaN : v);

const browser = await launch();
try {
  for (const width of [1280, 375]) {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const problems = watchProblems(page), requests = watchFetches(page);
    await page.goto(pathToFileURL(path.join(dir, 'tables.html')).href);
    check(problems.length === 0, `${width} px: no console errors or warnings${problems.length ? `: ${problems.join('; ')}` : ''}`);
    check(requests.length === 0, `${width} px: nothing fetched${requests.length ? `: ${requests.join(', ')}` : ''}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, `${width} px: the page fits the width (tables scroll inside; overflow ${overflow} px)`);
    await page.screenshot({ path: path.join(artefacts, `tables-${width}.png`), fullPage: true });
    if (width !== 1280) { await page.close(); continue; }

    const ids = await page.evaluate(() => [...document.querySelectorAll('main table')].map((t) => t.id));
    check(JSON.stringify(ids) === JSON.stringify(results.tables.map((t) => t.id)),
      `a table per chapter table, in order (${ids.join(', ')})`);
    for (const t of results.tables) {
      const rows = await page.evaluate((id) => [...document.querySelectorAll(`table#${id} tbody tr`)].map((tr) => ({
        labels: [...tr.querySelectorAll('td.label')].map((td) => td.textContent),
        runAt: Number(tr.querySelector('td.run-at').dataset.value),
        chapter: [...tr.querySelectorAll('td.chapter')].map((td) => Number(td.dataset.value)),
        scalekit: [...tr.querySelectorAll('td.scalekit')].map((td) => Number(td.dataset.value)),
      })), t.id);
      const heads = await page.evaluate((id) => document.querySelectorAll(`table#${id} thead th`).length, t.id);
      const columns = t.columns.filter((c) => c.kind === 'label').length + 1 + 2 * t.columns.filter((c) => c.kind === 'value').length;
      let ok = rows.length === t.rows.length && heads === columns;
      t.rows.forEach((want, i) => {
        const got = rows[i];
        if (!got) return;
        ok &&= JSON.stringify(got.labels) === JSON.stringify(want.labels.map((l) => l.value)) && got.runAt === want.run_at;
        want.cells.forEach((c, k) => {
          if (!same(got.scalekit[k], value(c.scalekit_s)) || !same(got.chapter[k], value(c.chapter_s))) {
            ok = false;
            console.log(`  ${t.id} row ${i} cell ${k}: page ${got.chapter[k]}/${got.scalekit[k]}, tables.json ${c.chapter_s}/${c.scalekit_s}`);
          }
        });
      });
      check(ok, `${t.id}: the chapter's rows and columns, every figure exactly that of tables.json`);
    }
    await page.close();
  }
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
