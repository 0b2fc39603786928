// metron's live dashboard. Plain JavaScript and canvas, no library, nothing fetched
// but this origin's /events stream (Server-Sent Events, one JSON object per monitor
// tick; the shape is documented in metron/prometheus/dashboard.hpp).
//
// The page keeps what it has seen for at most 15 minutes (per histogram: the tick's
// p50/p90/p99/max and its heatmap columns; per counter its rate; per gauge its value)
// and redraws once per animation frame after new data. Every name and label comes
// from the monitored process (or a remote node): they are only ever set as text,
// never parsed as HTML.
// Assets must stay ASCII (embed_assets.cmake): write other characters as \u escapes.
"use strict";
(function () {
  const KEEP_MS = 15 * 60 * 1000; // the longest history offered
  const LINE_H = 140, HEAT_H = 140, SPARK_W = 180, SPARK_H = 28;
  const $ = (id) => document.getElementById(id);

  const state = {
    windowMs: 5 * 60 * 1000,
    filter: "",
    series: new Map(), // key -> entry
    layout: { min_exp: -40, per_binade: 8 },
    lastSeq: 0,
    events: 0,
    skipped: 0,
    lastWall: 0,
    lastArrival: 0,
    intervalMs: 100, // the monitor's tick interval, as last reported
    dirty: false,
  };

  // -- formatting --------------------------------------------------------------------
  const MICRO = "\u00b5";
  function sig(v, digits) {
    return Number(v.toPrecision(digits)).toString();
  }
  function fmtSI(v, digits = 3) {
    if (v === null || v === undefined || !isFinite(v)) return "\u2013";
    const a = Math.abs(v);
    if (a >= 1e12) return sig(v / 1e12, digits) + "T";
    if (a >= 1e9) return sig(v / 1e9, digits) + "G";
    if (a >= 1e6) return sig(v / 1e6, digits) + "M";
    if (a >= 1e4) return sig(v / 1e3, digits) + "k";
    if (a === 0 || a >= 0.01) return sig(v, digits);
    return v.toExponential(digits - 1);
  }
  function fmtDur(s, digits = 3) {
    if (s === null || s === undefined || !isFinite(s)) return "\u2013";
    const a = Math.abs(s);
    if (a === 0) return "0";
    if (a < 1e-6) return sig(s * 1e9, digits) + " ns";
    if (a < 1e-3) return sig(s * 1e6, digits) + " " + MICRO + "s";
    if (a < 1) return sig(s * 1e3, digits) + " ms";
    return sig(s, digits) + " s";
  }
  const isDuration = (name) => /_seconds$/.test(name);
  const fmtValue = (name, v, digits) => (isDuration(name) ? fmtDur(v, digits) : fmtSI(v, digits));
  function fmtTime(ms) {
    const d = new Date(ms);
    const p = (n, w = 2) => String(n).padStart(w, "0");
    return p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds()) + "." + p(d.getMilliseconds(), 3);
  }
  function labelText(l) {
    const ks = Object.keys(l);
    return ks.length ? "{" + ks.map((k) => k + '="' + l[k] + '"').join(", ") + "}" : "";
  }
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  // A table cell showing v formatted, the exact value on hover and in data-value.
  function setCell(td, v, name) {
    td.textContent = fmtValue(name, v);
    const exact = v === null || v === undefined ? "" : String(v);
    if (td.dataset.value !== exact) {
      td.dataset.value = exact;
      td.title = exact;
    }
  }

  // -- the heatmap's groups (dashboard.hpp: 1/8 binade each) ---------------------------
  function lowerOf(k) {
    const per = state.layout.per_binade;
    if (k < 0) return Math.pow(2, state.layout.min_exp - 1); // [0, 2^min_exp): drawn below
    return Math.pow(2, state.layout.min_exp + Math.floor(k / per)) * (1 + (k % per) / per);
  }
  function groupOf(v) { // the group holding v (v > 0)
    const per = state.layout.per_binade;
    const e = Math.floor(Math.log2(v));
    const m = Math.floor((v / Math.pow(2, e) - 1) * per);
    return (e - state.layout.min_exp) * per + Math.min(per - 1, Math.max(0, m));
  }

  // Colours: a perceptual ramp (dark blue, purple, orange, yellow), log of the count.
  const RAMP = (() => {
    const stops = [[13, 8, 135], [126, 3, 168], [204, 71, 120], [248, 149, 64], [240, 249, 33]];
    const out = [];
    for (let i = 0; i < 256; i++) {
      const x = (i / 255) * (stops.length - 1), j = Math.min(stops.length - 2, Math.floor(x)), f = x - j;
      out.push(stops[j].map((c, n) => Math.round(c + (stops[j + 1][n] - c) * f)));
    }
    return out;
  })();

  // -- tooltip ---------------------------------------------------------------------------
  const tip = $("tooltip");
  function showTip(ev, text) {
    tip.textContent = text;
    tip.hidden = false;
    const x = Math.min(ev.clientX + 14, window.innerWidth - tip.offsetWidth - 4);
    tip.style.left = x + "px";
    tip.style.top = ev.clientY + 14 + "px";
  }
  function hideTip() { tip.hidden = true; }

  // -- time series helpers -------------------------------------------------------------------
  function trim(arr, cutoff) {
    let i = 0;
    while (i < arr.length && arr[i].t < cutoff) i++;
    if (i) arr.splice(0, i);
  }
  function nearest(arr, t) { // index of the point closest in time to t
    let lo = 0, hi = arr.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (arr[mid].t < t) lo = mid + 1; else hi = mid;
    }
    if (lo > 0 && Math.abs(arr[lo - 1].t - t) < Math.abs(arr[lo].t - t)) lo--;
    return lo;
  }
  function sizeCanvas(c, h) {
    const w = Math.max(200, Math.floor(c.parentElement.clientWidth));
    const dpr = window.devicePixelRatio || 1;
    if (c.width !== Math.floor(w * dpr) || c.height !== Math.floor(h * dpr)) {
      c.width = Math.floor(w * dpr);
      c.height = Math.floor(h * dpr);
      c.style.width = w + "px";
      c.style.height = h + "px";
    }
    const g = c.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    return { g, w, h };
  }
  const xOf = (t, w) => w - ((state.lastWall - t) / state.windowMs) * w;
  const tOf = (x, w) => state.lastWall - ((w - x) / w) * state.windowMs;

  // -- histograms -------------------------------------------------------------------------------
  function makeHistogram(key, h) {
    const root = el("div", { class: "hist", "data-name": h.n, "data-labels": JSON.stringify(h.l) });
    const title = el("h3", {}, h.n + " ");
    title.appendChild(el("span", { class: "labels" }, labelText(h.l)));
    root.appendChild(title);
    const table = el("table", { class: "figures" });
    const head = el("tr");
    head.appendChild(el("th", {}, ""));
    head.appendChild(el("th", {}, "rate"));
    head.appendChild(el("th", {}, "count"));
    for (const [q] of h.q) head.appendChild(el("th", {}, "p" + sig(q * 100, 4)));
    head.appendChild(el("th", {}, "max"));
    table.appendChild(head);
    const rows = {};
    const addRow = (id, label, quantiles) => {
      const tr = el("tr", { "data-row": id });
      tr.appendChild(el("td", {}, label));
      const cells = { rate: el("td", { "data-f": "rate" }), count: el("td", { "data-f": "count" }), q: {} };
      tr.appendChild(cells.rate);
      tr.appendChild(cells.count);
      for (const [q] of quantiles) {
        cells.q[q] = el("td", { "data-q": String(q) });
        tr.appendChild(cells.q[q]);
      }
      cells.max = el("td", { "data-f": "max" });
      tr.appendChild(cells.max);
      table.appendChild(tr);
      rows[id] = cells;
    };
    addRow("all", "since start", h.q);
    for (const w of h.w) addRow(String(w.len), "last " + (w.len >= 60 ? sig(w.len / 60, 3) + " min" : w.len + " s"), h.q);
    root.appendChild(table);
    const plots = el("div", { class: "plots" });
    const lines = el("canvas", { class: "lines" });
    const heat = el("canvas", { class: "heatmap" });
    plots.appendChild(lines);
    plots.appendChild(heat);
    root.appendChild(plots);
    $("hist-list").appendChild(root);
    const e = { kind: "h", key, name: h.n, root, rows, lines, heat, points: [], ticks: [], columns: null };
    lines.addEventListener("mousemove", (ev) => hoverLines(e, ev));
    heat.addEventListener("mousemove", (ev) => hoverHeat(e, ev));
    lines.addEventListener("mouseleave", hideTip);
    heat.addEventListener("mouseleave", hideTip);
    return e;
  }

  function updateHistogram(e, h, wall) {
    const r = e.rows.all;
    setCell(r.rate, h.r, "");
    setCell(r.count, h.c, "");
    for (const [q, v] of h.q) if (r.q[q]) setCell(r.q[q], v, e.name);
    setCell(r.max, h.max, e.name);
    for (const w of h.w) {
      const row = e.rows[String(w.len)];
      if (!row) continue;
      setCell(row.rate, w.r, "");
      setCell(row.count, w.inc, "");
      for (const [q, v] of w.q) if (row.q[q]) setCell(row.q[q], v, e.name);
      setCell(row.max, w.max, e.name);
    }
    if (h.t) {
      const q = Object.fromEntries(h.t.q.map(([k, v]) => [k, v]));
      e.points.push({ t: wall, c: h.t.c, p50: q[0.5], p90: q[0.9], p99: q[0.99], max: h.t.max });
      e.ticks.push({ t: wall, b: h.t.b });
      addToColumns(e, e.ticks[e.ticks.length - 1]);
      trim(e.points, wall - KEEP_MS);
      trim(e.ticks, wall - KEEP_MS);
    }
  }

  // Heatmap columns: the ticks summed per column (absolute column number, so a tick
  // lands in the same column while the plot scrolls). A column is one pixel, or 1.5
  // tick intervals when that is wider, so no column is left without a tick; the colour
  // is the count per tick, so columns holding one or two ticks look alike. Rebuilt when
  // the width, the history length or the tick interval changes the column count.
  function columnsFor(width) {
    const byTicks = Math.floor(state.windowMs / (1.5 * state.intervalMs));
    return Math.max(1, Math.min(Math.floor(width), byTicks));
  }
  function columnMs(e) { return state.windowMs / e.colCount; }
  function rebuildColumns(e, width) {
    e.colCount = columnsFor(width);
    e.columns = new Map();
    for (const tick of e.ticks) addToColumns(e, tick);
  }
  function addToColumns(e, tick) {
    if (!e.columns) return;
    const col = Math.floor(tick.t / columnMs(e));
    let c = e.columns.get(col);
    if (!c) e.columns.set(col, (c = { m: new Map(), n: 0 }));
    c.n++;
    for (let i = 0; i + 1 < tick.b.length; i += 2) c.m.set(tick.b[i], (c.m.get(tick.b[i]) || 0) + tick.b[i + 1]);
  }

  // The value range both plots show (log scale): every heatmap group and plotted value
  // in the window, so the two plots share one axis.
  function valueRange(e) {
    let lo = Infinity, hi = -Infinity;
    const cutoff = state.lastWall - state.windowMs;
    for (const p of e.points) {
      if (p.t < cutoff) continue;
      for (const v of [p.p50, p.max]) {
        if (v > 0 && isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      }
    }
    if (e.columns) {
      const first = Math.floor(cutoff / columnMs(e));
      let kmin = Infinity, kmax = -Infinity;
      for (const [col, c] of e.columns) {
        if (col < first) continue;
        for (const k of c.m.keys()) if (k >= 0) { kmin = Math.min(kmin, k); kmax = Math.max(kmax, k); }
      }
      if (isFinite(kmin)) { lo = Math.min(lo, lowerOf(kmin)); hi = Math.max(hi, lowerOf(kmax + 1)); }
    }
    if (!isFinite(lo) || !(lo > 0)) return null;
    const l = Math.log2(lo) - 0.25, u = Math.log2(hi) + 0.25;
    return { lo: l, hi: Math.max(u, l + 1) };
  }
  const yOf = (v, range, h) => h - ((Math.log2(v) - range.lo) / (range.hi - range.lo)) * h;
  const vOf = (y, range, h) => Math.pow(2, range.lo + ((h - y) / h) * (range.hi - range.lo));

  function gridLines(g, range, w, h, name, labels) {
    g.strokeStyle = "#262c36";
    g.fillStyle = "#7b8494";
    g.font = "10px system-ui, sans-serif";
    g.lineWidth = 1;
    const first = Math.ceil((range.lo * Math.LN2) / Math.LN10), last = Math.floor((range.hi * Math.LN2) / Math.LN10);
    for (let d = first; d <= last; d++) {
      const v = Math.pow(10, d), y = Math.round(yOf(v, range, h)) + 0.5;
      g.beginPath();
      g.moveTo(0, y);
      g.lineTo(w, y);
      g.stroke();
      if (labels) g.fillText(fmtValue(name, v, 2), 3, y - 2);
    }
  }

  function drawLines(e) {
    const { g, w, h } = sizeCanvas(e.lines, LINE_H);
    if (!e.columns || e.colCount !== columnsFor(w)) rebuildColumns(e, w);
    g.clearRect(0, 0, w, h);
    const range = valueRange(e);
    e.range = range;
    if (!range) return;
    gridLines(g, range, w, h, e.name, true);
    const series = [["p50", "#5fb3f9"], ["p90", "#8be28b"], ["p99", "#f5c451"], ["max", "#f06a6a"]];
    const cutoff = state.lastWall - state.windowMs;
    for (const [f, colour] of series) {
      g.strokeStyle = colour;
      g.lineWidth = f === "p99" ? 1.6 : 1.1;
      // At most one vertex per pixel column, the column's highest value (a 15 minute
      // window holds 9,000 ticks at 100 ms; spikes are what must stay visible).
      g.beginPath();
      let pen = false, col = NaN, top = 0, colX = 0;
      const vertex = () => {
        const y = yOf(top, range, h);
        if (pen) g.lineTo(colX, y); else g.moveTo(colX, y);
        pen = true;
      };
      for (const p of e.points) {
        const v = p[f];
        if (p.t < cutoff || !(v > 0)) {
          if (col === col) vertex(); // flush the open column (NaN !== NaN: none open)
          pen = false;
          col = NaN;
          continue;
        }
        const x = xOf(p.t, w), c = Math.floor(x);
        if (c !== col) {
          if (col === col) vertex();
          col = c;
          top = v;
          colX = x;
        } else if (v > top) {
          top = v;
        }
      }
      if (col === col) vertex();
      g.stroke();
    }
  }

  function drawHeat(e) {
    const { g, w, h } = sizeCanvas(e.heat, HEAT_H);
    if (!e.columns || e.colCount !== columnsFor(w)) rebuildColumns(e, w);
    g.clearRect(0, 0, w, h);
    const range = e.range;
    if (!range) return;
    const colMs = columnMs(e);
    const newest = Math.floor(state.lastWall / colMs);
    for (const col of e.columns.keys()) if (col <= newest - e.colCount) e.columns.delete(col);
    let most = 0;
    for (const c of e.columns.values()) for (const n of c.m.values()) most = Math.max(most, n / c.n);
    if (most === 0) return;
    // One ImageData at CSS-pixel resolution: per row the group its value falls in.
    const img = g.createImageData(e.colCount, h);
    const rowGroup = new Array(h);
    for (let y = 0; y < h; y++) rowGroup[y] = groupOf(vOf(y + 0.5, range, h));
    const scale = 255 / Math.log1p(most);
    const kTop = rowGroup[0], kBottom = rowGroup[h - 1];
    const dense = new Float64Array(kTop - kBottom + 1); // the column's counts by group, in view
    for (const [col, c] of e.columns) {
      const x = e.colCount - 1 - (newest - col);
      if (x < 0) continue;
      dense.fill(0);
      for (const [k, n] of c.m) if (k >= kBottom && k <= kTop) dense[k - kBottom] = n;
      for (let y = 0; y < h; y++) {
        const n = dense[rowGroup[y] - kBottom];
        if (!n) continue;
        const rgb = RAMP[Math.min(255, Math.round(Math.log1p(n / c.n) * scale))];
        const o = (y * e.colCount + x) * 4;
        img.data[o] = rgb[0];
        img.data[o + 1] = rgb[1];
        img.data[o + 2] = rgb[2];
        img.data[o + 3] = 255;
      }
    }
    // putImageData ignores transforms: stretch the columns to the width through a bitmap.
    const off = e.offscreen || (e.offscreen = document.createElement("canvas"));
    off.width = e.colCount;
    off.height = h;
    off.getContext("2d").putImageData(img, 0, 0);
    g.imageSmoothingEnabled = false;
    g.drawImage(off, 0, 0, w, h);
    gridLines(g, range, w, h, e.name, true);
  }

  function hoverLines(e, ev) {
    if (!e.points.length) return;
    const r = e.lines.getBoundingClientRect();
    const p = e.points[nearest(e.points, tOf(ev.clientX - r.left, r.width))];
    const f = (v) => fmtValue(e.name, v, 6);
    showTip(ev, fmtTime(p.t) + "  (" + p.c + " values in the tick)\np50  " + f(p.p50) + "\np90  " + f(p.p90) +
      "\np99  " + f(p.p99) + "\nmax  " + f(p.max));
  }

  function hoverHeat(e, ev) {
    if (!e.columns || !e.range) return;
    const r = e.heat.getBoundingClientRect();
    const x = Math.floor(((ev.clientX - r.left) / r.width) * e.colCount);
    const col = Math.floor(state.lastWall / columnMs(e)) - (e.colCount - 1 - x);
    const k = groupOf(vOf(ev.clientY - r.top, e.range, HEAT_H));
    const c = e.columns.get(col);
    const n = (c && c.m.get(k)) || 0;
    const t0 = col * columnMs(e);
    showTip(ev, fmtTime(t0) + " +" + sig(columnMs(e) / 1000, 3) + " s, " + (c ? c.n : 0) + " ticks\n[" +
      fmtValue(e.name, lowerOf(k), 4) + ", " + fmtValue(e.name, lowerOf(k + 1), 4) + "): " + n + " values");
  }

  // -- counters and gauges ------------------------------------------------------------------------
  function makeRow(key, s, kind) {
    const tr = el("tr", { "data-name": s.n, "data-labels": JSON.stringify(s.l) });
    const name = el("td", {}, s.n + " ");
    name.appendChild(el("span", { class: "labels" }, labelText(s.l)));
    tr.appendChild(name);
    const cells = [];
    const n = kind === "c" ? 4 : 3;
    for (let i = 0; i < n; i++) {
      cells.push(el("td"));
      tr.appendChild(cells[i]);
    }
    const sparkCell = el("td");
    const spark = el("canvas", { class: "spark" });
    sparkCell.appendChild(spark);
    tr.appendChild(sparkCell);
    $(kind === "c" ? "counter-rows" : "gauge-rows").appendChild(tr);
    const e = { kind, key, name: s.n, root: tr, cells, spark, points: [] };
    spark.addEventListener("mousemove", (ev) => {
      if (!e.points.length) return;
      const r = spark.getBoundingClientRect();
      const p = e.points[nearest(e.points, tOf(ev.clientX - r.left, r.width))];
      showTip(ev, fmtTime(p.t) + "  " + (kind === "c" ? p.v + " /s" : String(p.v)));
    });
    spark.addEventListener("mouseleave", hideTip);
    return e;
  }

  function drawSpark(e) {
    const { g, w, h } = sizeCanvasFixed(e.spark, SPARK_W, SPARK_H);
    g.clearRect(0, 0, w, h);
    const cutoff = state.lastWall - state.windowMs;
    let lo = Infinity, hi = -Infinity;
    for (const p of e.points) if (p.t >= cutoff && isFinite(p.v)) { lo = Math.min(lo, p.v); hi = Math.max(hi, p.v); }
    if (!isFinite(lo)) return;
    if (hi === lo) { hi += 1; lo -= 1; }
    g.strokeStyle = e.kind === "c" ? "#5fb3f9" : "#8be28b";
    g.lineWidth = 1.2;
    g.beginPath();
    let pen = false;
    for (const p of e.points) {
      if (p.t < cutoff || !isFinite(p.v)) continue;
      const x = xOf(p.t, w), y = h - 2 - ((p.v - lo) / (hi - lo)) * (h - 4);
      if (pen) g.lineTo(x, y); else g.moveTo(x, y);
      pen = true;
    }
    g.stroke();
  }
  function sizeCanvasFixed(c, w, h) {
    const dpr = window.devicePixelRatio || 1;
    if (c.width !== w * dpr) {
      c.width = w * dpr;
      c.height = h * dpr;
      c.style.width = w + "px";
      c.style.height = h + "px";
    }
    const g = c.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    return { g, w, h };
  }

  // -- one event ---------------------------------------------------------------------------------------
  function entry(kind, s, make) {
    const key = kind + s.n + JSON.stringify(s.l);
    let e = state.series.get(key);
    if (!e) {
      e = make(key, s, kind);
      state.series.set(key, e);
      applyFilter(e);
    }
    return e;
  }

  function onTick(d) {
    if (d.layout) state.layout = d.layout;
    // A tick's interval jitters by a few ms: follow only real changes (columns depend on it).
    if (d.interval > 0 && Math.abs(d.interval * 1000 - state.intervalMs) > 0.2 * state.intervalMs)
      state.intervalMs = d.interval * 1000;
    if (state.lastSeq && d.seq > state.lastSeq + 1) state.skipped += d.seq - state.lastSeq - 1;
    state.lastSeq = d.seq;
    state.events++;
    state.lastWall = d.wall_ms;
    state.lastArrival = Date.now();
    const wall = d.wall_ms;
    for (const h of d.histograms) updateHistogram(entry("h", h, makeHistogram), h, wall);
    for (const c of d.counters) {
      const e = entry("c", c, makeRow);
      const w = (len) => (c.w.find((x) => x.len === len) || {}).r;
      setCell(e.cells[0], c.v, "");
      setCell(e.cells[1], c.r, "");
      setCell(e.cells[2], w(60), "");
      setCell(e.cells[3], w(300), "");
      e.points.push({ t: wall, v: c.r });
      trim(e.points, wall - KEEP_MS);
    }
    for (const g of d.gauges.concat(d.updowns)) {
      const e = entry("g", g, makeRow);
      e.points.push({ t: wall, v: g.v });
      trim(e.points, wall - KEEP_MS);
      setCell(e.cells[0], g.v, g.n);
      const cutoff = wall - state.windowMs;
      let lo = Infinity, hi = -Infinity;
      for (const p of e.points) if (p.t >= cutoff) { lo = Math.min(lo, p.v); hi = Math.max(hi, p.v); }
      setCell(e.cells[1], lo, g.n);
      setCell(e.cells[2], hi, g.n);
    }
    updateSelf(d);
    updateCluster(d);
    document.body.dataset.seq = String(d.seq);
    $("updated").textContent = "tick " + d.seq + " at " + fmtTime(wall);
    scheduleDraw();
  }

  function find(list, name, labels) {
    return list.find((s) => s.n === name && (!labels || JSON.stringify(s.l) === JSON.stringify(labels)));
  }

  function updateSelf(d) {
    const own = (s) => s.n.startsWith("metron_");
    let values = 0, increments = 0;
    for (const h of d.histograms) if (!own(h)) values += h.r || 0;
    for (const c of d.counters) if (!own(c)) increments += c.r || 0;
    const dropped = find(d.counters, "metron_dropped_snapshots_total");
    const subs = find(d.gauges, "metron_subscribers");
    const tick = find(d.histograms, "metron_tick_duration_seconds");
    const ticks = find(d.counters, "metron_ticks_total");
    const figures = [
      ["recording rate", fmtSI(values) + " values/s", "histogram values recorded per second, all series but metron_*"],
      ["counter increments", fmtSI(increments) + " /s", "counter increase per second, all series but metron_*"],
      ["dropped snapshots", dropped ? fmtSI(dropped.v) + " (" + fmtSI(dropped.r) + "/s)" : "\u2013",
       "metron_dropped_snapshots_total: snapshots a slow subscriber was skipped for"],
      ["subscribers", subs ? fmtSI(subs.v) : "\u2013", "metron_subscribers (this page is one)"],
      ["tick p99", tick ? fmtDur((tick.q.find(([q]) => q === 0.99) || [0, null])[1]) : "\u2013",
       "metron_tick_duration_seconds, since start"],
      ["ticks", ticks ? fmtSI(ticks.v, 6) : String(d.seq), "metron_ticks_total"],
      ["this page", state.events + " updates, " + state.skipped + " skipped",
       "updates received; skipped: ticks this page did not get (slow page or connection)"],
    ];
    const dl = $("self-figures");
    if (dl.children.length !== figures.length) {
      dl.textContent = "";
      for (const [label] of figures) {
        const div = el("div", { "data-figure": label });
        div.appendChild(el("dt", {}, label));
        div.appendChild(el("dd"));
        dl.appendChild(div);
      }
    }
    figures.forEach(([, value, help], i) => {
      const dd = dl.children[i].lastChild;
      dd.textContent = value;
      dl.children[i].title = help;
    });
  }

  function updateCluster(d) {
    const nodes = d.gauges.filter((g) => g.n === "metron_cluster_node_up" && g.l.node !== undefined);
    $("cluster").hidden = nodes.length === 0;
    if (!nodes.length) return;
    const ul = $("nodes");
    ul.textContent = "";
    for (const n of nodes) {
      const li = el("li", { "data-up": n.v > 0 ? "1" : "0" }, n.l.node + (n.v > 0 ? " up" : " down"));
      ul.appendChild(li);
    }
  }

  // -- drawing, filtering ---------------------------------------------------------------------------------
  // Plots are redrawn at most every DRAW_MS (tables update on every tick): a redraw of
  // the demo's five histograms takes tens of ms on a busy machine's software canvas.
  const DRAW_MS = 250;
  let drawPending = false, lastDraw = 0;
  function scheduleDraw() {
    state.dirty = true;
    if (drawPending) return;
    drawPending = true;
    setTimeout(() => requestAnimationFrame(draw), Math.max(0, lastDraw + DRAW_MS - performance.now()));
  }
  function draw() {
    drawPending = false;
    if (!state.dirty) return;
    state.dirty = false;
    const start = (lastDraw = performance.now());
    for (const e of state.series.values()) {
      if (e.root.hidden) continue;
      if (e.kind === "h") {
        drawLines(e);
        drawHeat(e);
      } else {
        drawSpark(e);
      }
    }
    document.body.dataset.drawMs = (performance.now() - start).toFixed(1); // what a redraw costs
  }

  function applyFilter(e) {
    e.root.hidden = state.filter !== "" && !e.name.startsWith(state.filter);
  }
  function setFilter(v) {
    state.filter = v.trim();
    for (const e of state.series.values()) applyFilter(e);
    scheduleDraw();
  }

  const params = new URLSearchParams(location.search);
  $("filter").value = params.get("filter") || "";
  state.filter = $("filter").value;
  $("filter").addEventListener("input", (ev) => setFilter(ev.target.value));
  if (params.get("minutes") && [...$("minutes").options].some((o) => o.value === params.get("minutes")))
    $("minutes").value = params.get("minutes");
  state.windowMs = Number($("minutes").value) * 60000;
  $("minutes").addEventListener("change", (ev) => {
    state.windowMs = Number(ev.target.value) * 60000;
    for (const e of state.series.values()) e.columns = null; // new column width
    scheduleDraw();
  });
  window.addEventListener("resize", scheduleDraw);

  // -- the stream ------------------------------------------------------------------------------------------------
  const status = $("status");
  function setStatus(s, text) { status.dataset.state = s; status.textContent = text; }
  const source = new EventSource("events");
  source.onopen = () => setStatus("live", "live");
  source.onerror = () => setStatus("lost", "reconnecting\u2026");
  source.addEventListener("tick", (m) => {
    let d;
    try { d = JSON.parse(m.data); } catch (err) { return; }
    setStatus("live", "live");
    onTick(d);
  });
  setInterval(() => {
    if (state.lastArrival && Date.now() - state.lastArrival > 5000 && status.dataset.state === "live")
      setStatus("lost", "no data for " + Math.round((Date.now() - state.lastArrival) / 1000) + " s");
  }, 1000);
})();
