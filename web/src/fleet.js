// The live dashboard: Server-Sent Events from /fleet/events (a snapshot of
// serve's scoreboard every 500 ms, the history of the last minutes when it
// connects), drawn as cards, a table of workers, uPlot charts and a log of
// the workers the master replaced. With `serve --broker`, each snapshot has
// the distributed workers too (what `scalekit worker --status` knows).
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const keepSeconds = 300;
  const series = { t: [], rps: [], p50: [], p99: [] };
  let lastSampleT = 0;

  const addSample = (s) => {
    if (s.t <= lastSampleT) return false;
    lastSampleT = s.t;
    series.t.push(s.t / 1000);
    series.rps.push(s.rps);
    series.p50.push(s.p50_ms);
    series.p99.push(s.p99_ms);
    while (series.t.length && series.t[0] < s.t / 1000 - keepSeconds) for (const k in series) series[k].shift();
    return true;
  };

  // Charts: uPlot when this build has it; otherwise the numbers above still live.
  const charts = [];
  const makeChart = (id, lines) => {
    if (typeof uPlot === 'undefined') return;
    const el = $(id);
    const opts = {
      width: el.clientWidth || 320,
      height: 180,
      legend: { show: true },
      scales: { y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [{ stroke: '#c9d1d9', grid: { stroke: '#2a3140' } }, { stroke: '#c9d1d9', grid: { stroke: '#2a3140' } }],
      series: [{}, ...lines.map(([label, stroke]) => ({ label, stroke, width: 2 }))],
    };
    charts.push({ plot: new uPlot(opts, [[]].concat(lines.map(() => [])), el), el, lines });
  };
  makeChart('chart-rps', [['requests/s', '#7fd1ff']]);
  makeChart('chart-latency', [['p50', '#9be39b'], ['p99', '#ffb86b']]);
  const redraw = () => {
    if (charts.length < 2) return;
    charts[0].plot.setData([series.t, series.rps]);
    charts[1].plot.setData([series.t, series.p50, series.p99]);
  };
  // The distributed workers' pace (serve --broker), one point a second from the live readings.
  const tasks = { t: [], rate: [] };
  let tasksChart = null;
  const addTasks = (rate) => {
    const now = Date.now() / 1000;
    if (tasks.t.length && now - tasks.t[tasks.t.length - 1] < 1) return;
    tasks.t.push(now);
    tasks.rate.push(rate);
    while (tasks.t.length && tasks.t[0] < now - keepSeconds) { tasks.t.shift(); tasks.rate.shift(); }
    if (typeof uPlot === 'undefined') return;
    if (!tasksChart) {
      $('tasks-figure').hidden = false;
      makeChart('chart-tasks', [['tasks/s', '#d2a8ff']]);
      tasksChart = charts[charts.length - 1];
    }
    tasksChart.plot.setData([tasks.t, tasks.rate]);
  };
  new ResizeObserver(() => {
    for (const c of charts) c.plot.setSize({ width: c.el.clientWidth || 320, height: 180 });
  }).observe(document.body);

  // The restart log: a worker that left (its pid gone) and what replaced it.
  let previous = null;
  const log = (text) => {
    const li = document.createElement('li');
    li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
    $('restart-log').prepend(li);
    while ($('restart-log').children.length > 50) $('restart-log').lastChild.remove();
  };
  const noteRestarts = (snap) => {
    if (previous) {
      const grew = Object.keys(snap.restarts).filter((c) => snap.restarts[c] > (previous.restarts[c] || 0));
      const now = new Map(snap.workers.map((w) => [w.pid, w]));
      const before = new Map(previous.workers.map((w) => [w.pid, w]));
      const fresh = snap.workers.filter((w) => !before.has(w.pid));
      for (const old of previous.workers) {
        if (now.has(old.pid)) continue;
        const heir = fresh.find((w) => w.slot === old.slot) || fresh[0];
        const cause = grew.length ? grew.join(', ') : 'stopped';
        log(`worker ${old.slot}: pid ${old.pid} gone (${cause})` + (heir ? `, replaced by pid ${heir.pid}` : ''));
      }
    }
    previous = snap;
  };

  const age = (s) => (s < 90 ? `${s.toFixed(0)} s` : s < 5400 ? `${(s / 60).toFixed(0)} min` : `${(s / 3600).toFixed(1)} h`);
  const show = (snap) => {
    const ready = snap.workers.filter((w) => w.state === 'ready').length;
    $('workers-ready').textContent = `${ready} / ${snap.workers_wanted}`;
    $('accept-queue').textContent = String(snap.accept_queue);
    $('shed').textContent = String(snap.shed);
    const lookups = snap.cache_hits + snap.cache_misses;
    $('hit-rate').textContent = lookups ? `${((100 * snap.cache_hits) / lookups).toFixed(1)}%` : '–';
    const causes = Object.entries(snap.restarts).filter(([, n]) => n > 0);
    $('restarts').textContent = causes.length ? causes.map(([c, n]) => `${c} ${n}`).join(', ') : 'none';
    $('master').textContent = `pid ${snap.master_pid}, up ${age(snap.uptime_s)}`;
    if (snap.sample) {
      $('rps').textContent = snap.sample.rps.toFixed(1);
      $('latency').textContent = `${snap.sample.p50_ms.toFixed(1)} / ${snap.sample.p99_ms.toFixed(1)} ms`;
    }
    const body = $('workers').tBodies[0];
    body.replaceChildren();
    for (const w of snap.workers) {
      const row = body.insertRow();
      row.dataset.pid = String(w.pid);
      for (const text of [w.slot, w.pid, w.activity, w.requests, w.in_flight, w.rss_mib.toFixed(1), age(w.age_s), w.generation])
        row.insertCell().textContent = String(text);
      if (w.pid === snap.served_by) row.cells[1].textContent += ' (this feed)';
    }
    $('live').textContent = `live from pid ${snap.served_by}`;
    if (snap.broker) showBroker(snap.broker);
  };

  // The distributed workers, their queue and their pace.
  const showBroker = (b) => {
    $('broker').hidden = false;
    $('broker-url').textContent = `${b.broker || '?'} (${b.queue || '?'})`;
    if (!b.ok) {
      $('broker-verdict').textContent = b.error || 'no answer';
      return;
    }
    $('broker-verdict').textContent = b.verdict;
    $('broker-waiting').textContent = String(b.waiting);
    $('broker-unacked').textContent = String(b.unacked);
    $('broker-rate').textContent = b.tasks_per_s.toFixed(1);
    addTasks(b.tasks_per_s);
    $('broker-dead').textContent = String(b.dead_letters);
    const body = $('broker-workers').tBodies[0];
    body.replaceChildren();
    for (const w of b.workers) {
      const row = body.insertRow();
      row.dataset.name = w.name;
      const fetched = w.last_fetch_age_s < 0 ? 'never' : `${w.last_fetch_age_s.toFixed(1)} s ago`;
      for (const text of [w.name, `${w.pool} × ${w.concurrency}`, w.active, w.processed, w.failed, fetched])
        row.insertCell().textContent = String(text);
    }
  };

  const connect = () => {
    const events = new EventSource('/fleet/events');
    events.addEventListener('history', (e) => {
      for (const s of JSON.parse(e.data)) addSample(s);
      redraw();
    });
    events.addEventListener('fleet', (e) => {
      const snap = JSON.parse(e.data);
      if (snap.sample && addSample(snap.sample)) redraw();
      noteRestarts(snap);
      show(snap);
    });
    // The browser reconnects by itself (the stream says after 300 ms), to any worker.
    events.addEventListener('error', () => { $('live').textContent = 'reconnecting…'; });
  };
  connect();
})();
