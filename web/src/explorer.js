// The Mandelbrot explorer: a Leaflet map (L.CRS.Simple) whose 256-px tiles
// are serve's /mandelbrot.png?z=&x=&y=&n=. At zoom 0 the one tile is the
// square re [-2.5, 1] × im [-1.75, 1.75]; map units are that tile's pixels
// (lng = x, lat = −y). The view lives in the URL (?re=&im=&z=[&n=][&ex=]);
// ex names the executor the tiles ask for, to compare them on the same view
// (the choices come from /executors: distributed when serve has --broker).
// Each tile says which serve worker answered it (X-Worker-Pid) and which
// processes computed its rows (X-Computed-By: "pid N", or a distributed
// worker's "NAME (pid N)").
'use strict';

(() => {
  const side = 3.5, re0 = -2.5, im0 = -1.75, tile = 256, maxZoom = 44;
  const $ = (id) => document.getElementById(id);
  const message = (text) => { $('message').textContent = text; };
  if (typeof L === 'undefined') {
    message('Leaflet is missing from this build: run scripts/setup (npm ci in web/), then build again.');
    return;
  }

  // The iteration limit: grows with the zoom unless the user set one.
  const autoIterations = (z) => Math.min(20000, Math.round(256 * Math.pow(1.2, z)));
  const toLatLng = (re, im) => L.latLng(-((im - im0) / side) * tile, ((re - re0) / side) * tile);
  const toPlane = (ll) => ({ re: re0 + (ll.lng / tile) * side, im: im0 + (-ll.lat / tile) * side });

  const params = new URLSearchParams(location.search);
  const number = (key, fallback) => {
    const v = Number.parseFloat(params.get(key));
    return Number.isFinite(v) ? v : fallback;
  };
  let fixedIterations = params.has('n') ? Math.max(1, Math.round(number('n', 256))) : null;
  let executorChoice = params.get('ex') || '';

  const world = L.latLngBounds([-tile, 0], [0, tile]);
  const wholeSet = L.latLngBounds(toLatLng(-2.5, -1.25), toLatLng(1, 1.25));  // the first view
  const map = L.map('map', {
    crs: L.CRS.Simple,
    minZoom: 0,
    maxZoom,
    maxBounds: world.pad(1.5),  // room to pan even when the window is wider than the whole set
    zoomSnap: 1,
    keyboard: true,
    attributionControl: false,
  });
  const iterations = () => fixedIterations ?? autoIterations(map.getZoom());

  // Every tile: fetched (so its headers say who computed it), timed, shown.
  const stats = { count: 0, hits: 0, times: [], byWorker: new Map(), byRunner: new Map(), byExecutor: new Map() };
  const recent = $('recent').tBodies[0];
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const record = (coords, ms, pid, cache, executor, computedBy) => {
    stats.count += 1;
    if (cache === 'hit') stats.hits += 1;
    stats.times.push(ms);
    if (stats.times.length > 200) stats.times.shift();
    if (pid) stats.byWorker.set(pid, (stats.byWorker.get(pid) || 0) + 1);
    const runners = (computedBy || '').split(',').filter((r) => r);
    for (const r of runners) stats.byRunner.set(r, (stats.byRunner.get(r) || 0) + 1);
    if (executor && cache !== 'hit') {  // a cached tile says nothing of its executor's speed
      const times = stats.byExecutor.get(executor) || [];
      times.push(ms);
      if (times.length > 200) times.shift();
      stats.byExecutor.set(executor, times);
    }
    const row = recent.insertRow(0);
    for (const text of [`${coords.z}/${coords.x}/${coords.y}`, ms.toFixed(0), runners.join(', ') || pid || '?', cache || '–'])
      row.insertCell().textContent = text;
    while (recent.rows.length > 8) recent.deleteRow(-1);
    $('tile-count').textContent = String(stats.count);
    $('cache-hits').textContent = `${stats.hits} (${Math.round((100 * stats.hits) / stats.count)}%)`;
    $('median-ms').textContent = `${median(stats.times).toFixed(0)} ms`;
    $('workers-seen').textContent = [...stats.byWorker].map(([p, n]) => `${p}: ${n}`).join(', ');
    $('computed-by').textContent = [...stats.byRunner].map(([r, n]) => `${r}: ${n}`).join(', ') || '–';
    $('executor').textContent = [...stats.byExecutor]
      .map(([name, times]) => `${name}: ${median(times).toFixed(0)} ms (${times.length})`).join(', ');
  };

  // Each tile twice: a coarse one (64 px, a sixteenth of the work) shown at once,
  // then the full one over it. The full one is the one timed and counted.
  const coarse = 64;
  const fetchTile = async (url) => {
    const t0 = performance.now();
    const r = await fetch(url);
    if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
    const blob = await r.blob();
    const h = (name) => r.headers.get(name);
    return {
      blob, ms: performance.now() - t0, pid: h('X-Worker-Pid'), cache: h('X-Cache'), executor: h('X-Executor'),
      computedBy: h('X-Computed-By'),
    };
  };
  const show = (img, blob) => new Promise((resolve, reject) => {
    const url = URL.createObjectURL(blob);
    img.onload = () => { URL.revokeObjectURL(url); resolve(); };
    img.onerror = () => { URL.revokeObjectURL(url); reject(new Error('a tile that is not an image')); };
    img.src = url;
  });
  const Tiles = L.GridLayer.extend({
    createTile(coords, done) {
      const img = document.createElement('img');
      img.alt = '';
      img.setAttribute('role', 'presentation');
      const url = `/mandelbrot.png?z=${coords.z}&x=${coords.x}&y=${coords.y}&n=${iterations()}` +
        (executorChoice ? `&executor=${executorChoice}` : '');
      const full = fetchTile(url);
      full.catch(() => {});  // handled below, after the coarse tile: not an unhandled rejection meanwhile
      fetchTile(`${url}&w=${coarse}&h=${coarse}`)
        .then((c) => show(img, c.blob))
        .then(() => done(null, img), () => {})  // no coarse tile: the full one says why, below
        .then(() => full)
        .then(async (f) => {
          await show(img, f.blob);
          img.dataset.full = '1';
          record(coords, f.ms, f.pid, f.cache, f.executor, f.computedBy);
          if (!img.classList.contains('leaflet-tile-loaded')) done(null, img);
        })
        .catch((e) => { message(String(e.message || e)); done(e, img); });
      return img;
    },
  });
  let layer = new Tiles({ tileSize: tile, bounds: world, maxNativeZoom: maxZoom, keepBuffer: 2 });
  layer.addTo(map);

  // The view <-> the URL: each move is a history entry; back and forward move the map.
  const showView = () => {
    const c = toPlane(map.getCenter());
    $('zoom').textContent = String(map.getZoom());
    $('centre').textContent = `${c.re.toPrecision(8)} ${c.im < 0 ? '−' : '+'} ${Math.abs(c.im).toPrecision(8)}i`;
    const n = $('iterations');
    if (document.activeElement !== n) n.value = String(iterations());
    $('auto-iterations').checked = fixedIterations === null;
    $('executor-choice').value = executorChoice;
  };
  const viewQuery = () => {
    const c = toPlane(map.getCenter());
    const digits = Math.max(6, Math.ceil(map.getZoom() * 0.31) + 4);
    const q = new URLSearchParams({ re: c.re.toPrecision(digits), im: c.im.toPrecision(digits), z: String(map.getZoom()) });
    if (fixedIterations !== null) q.set('n', String(fixedIterations));
    if (executorChoice) q.set('ex', executorChoice);
    return `?${q}`;
  };
  let restoring = false;
  map.on('moveend', () => {
    showView();
    if (restoring) return;
    const q = viewQuery();
    if (q !== location.search) history.pushState(null, '', q);
  });
  const restore = () => {
    const p = new URLSearchParams(location.search);
    const re = Number.parseFloat(p.get('re')), im = Number.parseFloat(p.get('im')), z = Number.parseInt(p.get('z'), 10);
    const n = Number.parseInt(p.get('n'), 10);
    const newFixed = Number.isFinite(n) && n > 0 ? n : null;
    const newExecutor = p.get('ex') || '';
    if (newFixed !== fixedIterations || newExecutor !== executorChoice) {
      fixedIterations = newFixed;
      executorChoice = newExecutor;
      layer.redraw();
    }
    restoring = true;  // without animation, the move's events fire now: none of them is a new history entry
    if (Number.isFinite(re) && Number.isFinite(im) && Number.isFinite(z))
      map.setView(toLatLng(re, im), Math.min(maxZoom, Math.max(0, z)), { animate: false });
    else
      map.fitBounds(wholeSet, { animate: false });
    restoring = false;
    showView();
  };
  window.addEventListener('popstate', restore);
  restore();

  // The iteration limit, shown and adjustable.
  $('iterations').addEventListener('change', (e) => {
    const v = Math.round(Number(e.target.value));
    if (!Number.isFinite(v) || v < 1) return;
    fixedIterations = Math.min(100000, v);
    layer.redraw();
    history.pushState(null, '', viewQuery());
    showView();
  });
  $('auto-iterations').addEventListener('change', (e) => {
    fixedIterations = e.target.checked ? null : iterations();
    layer.redraw();
    history.pushState(null, '', viewQuery());
    showView();
  });
  $('executor-choice').addEventListener('change', (e) => {
    executorChoice = e.target.value;
    layer.redraw();
    history.pushState(null, '', viewQuery());
    showView();
  });
  // The executors this server offers: its own first, distributed when it has a broker.
  fetch('/executors').then((r) => (r.ok ? r.json() : null)).then((offer) => {
    if (!offer) return;
    const select = $('executor-choice');
    select.options[0].textContent = `${offer.default} (the server's own)`;
    const listed = new Set([...select.options].map((o) => o.value));
    for (const name of offer.choices) {
      if (listed.has(name)) continue;
      select.add(new Option(name, name));
    }
    for (const o of [...select.options]) if (o.value && !offer.choices.includes(o.value)) o.remove();
    select.value = executorChoice;
  }).catch(() => {});
  map.getContainer().focus({ preventScroll: true });
  window.scalekitExplorer = { map, stats };  // for the browser tests
})();
