// effekt app: the page. Plain script, no libraries, nothing fetched from outside this server.
// Every choice is sent to the server, which builds the scenario file, validates it with the
// scenario rules and runs it as `effekt run` does; this script only shows what comes back.
"use strict";

const S = {lang: "nb", L: {}, d: null, run: null, poll: null, auto: null, variants: [], seq: 0};
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";

function locale() { return S.lang === "nb" ? "nb-NO" : "en-GB"; }
function fmt(x, digits) {
  if (x === null || x === undefined || !isFinite(x)) return S.lang === "nb" ? "ikke definert" : "not defined";
  return new Intl.NumberFormat(locale(), {maximumFractionDigits: digits || 0}).format(x);
}
function pct(x) { return x === null || x === undefined ? fmt(null) : fmt(100 * x) + "\u00a0%"; }

async function api(path, body) {
  const opts = body === undefined ? {} : {method: "POST", headers: {"Content-Type": "application/json", "X-Effekt-App": "1"},
    body: JSON.stringify(body)};
  const r = await fetch(path, opts);
  return r.json();
}

function applyLabels() {
  document.documentElement.lang = S.lang;
  document.querySelectorAll("[data-label]").forEach((el) => {
    const key = el.getAttribute("data-label");
    if (S.L[key] !== undefined) el.textContent = S.L[key];
  });
  document.title = S.L.title || "effekt app";
}

function option(sel, values, chosen) {
  sel.innerHTML = "";
  values.forEach((v) => {
    const o = document.createElement("option");
    o.value = v; o.textContent = v.split("/").pop(); if (v === chosen) o.selected = true;
    sel.appendChild(o);
  });
  if (chosen && !values.includes(chosen)) {
    const o = document.createElement("option");
    o.value = chosen; o.textContent = chosen.split("/").pop(); o.selected = true; sel.appendChild(o);
  }
}

function numberInputs(box, prefix, table, names) {
  box.innerHTML = "";
  (names || Object.keys(table)).forEach((k) => {
    const lab = document.createElement("label");
    const span = document.createElement("span"); span.textContent = k;
    const inp = document.createElement("input");
    inp.id = `f-${prefix}.${k}`; inp.dataset.group = prefix; inp.dataset.key = k; inp.inputMode = "decimal";
    inp.value = table[k] === undefined || table[k] === null ? "" : String(table[k]);
    const err = document.createElement("div"); err.className = "err"; err.id = `err-${prefix}.${k}`;
    lab.appendChild(span); lab.appendChild(inp); box.appendChild(lab); box.appendChild(err);
  });
}

const SCALARS = ["cohort_size", "horizon_weeks", "long_run_years", "treatment_share", "term_months", "replications", "seed"];

function modeOptions(d) {
  const sel = $("f-counterfactual_mode"); sel.innerHTML = "";
  Object.entries(d.choices.counterfactual_modes).forEach(([k, words]) => {
    const o = document.createElement("option"); o.value = k; o.textContent = words[S.lang === "nb" ? 0 : 1];
    if (k === d.counterfactual_mode) o.selected = true;
    sel.appendChild(o);
  });
  $("treatment-share-box").hidden = sel.value !== "rct";
}

function designOptions(d) {
  const sel = $("f-evaluation_design"); sel.innerHTML = "";
  d.choices.designs.forEach((k) => {
    const o = document.createElement("option"); o.value = k;
    o.textContent = (d.choices.design_labels[k] || {})[S.lang] || k;
    if (k === d.evaluation_design) o.selected = true;
    sel.appendChild(o);
  });
}

// The cohorts after the first: a row each (size, start week, then the group shares).
function moreCohorts(d) {
  const box = $("more_cohorts"); box.innerHTML = "";
  $("more-cohorts-box").hidden = !(d.more_cohorts && d.more_cohorts.length);
  (d.more_cohorts || []).forEach((c, j) => {
    const i = j + 1;
    const div = document.createElement("div"); div.className = "cohort"; div.dataset.cohort = String(i);
    const head = document.createElement("span"); head.textContent = c.name; div.appendChild(head);
    const row = document.createElement("div"); row.className = "row";
    [["size", S.L.cohort_size_short], ["start_week", S.L.start_week]].forEach(([k, lab]) => {
      const l = document.createElement("label"); const sp = document.createElement("span"); sp.textContent = lab;
      const inp = document.createElement("input"); inp.id = `f-cohorts.${i}.${k}`; inp.dataset.cohort = String(i);
      inp.dataset.key = k; inp.inputMode = "numeric"; inp.value = c[k] === null || c[k] === undefined ? "" : String(c[k]);
      l.appendChild(sp); l.appendChild(inp); row.appendChild(l);
    });
    const groups = document.createElement("div"); groups.className = "row";
    numberInputs(groups, `cohorts.${i}.groups`, c.groups, d.group_names);
    div.appendChild(row); div.appendChild(groups);
    const err = document.createElement("div"); err.className = "err"; err.id = `err-cohorts.${i}`;
    div.appendChild(err); box.appendChild(div);
  });
}

// Prices and caps the page cannot edit (by group, a ladder, a prior): shown, not silently kept.
function fixedEntries(d) {
  const t = $("fixed"); t.innerHTML = "";
  const rows = [];
  for (const part of ["prices", "caps"]) for (const [k, v] of Object.entries((d.fixed || {})[part] || {})) rows.push([`${part}.${k}`, v]);
  $("fixed-box").hidden = rows.length === 0;
  rows.forEach(([k, v]) => {
    const tr = document.createElement("tr"); tr.dataset.key = k;
    [k, v].forEach((x) => { const td = document.createElement("td"); td.textContent = x; tr.appendChild(td); });
    t.appendChild(tr);
  });
}

function renderForm(d) {
  S.d = d;
  option($("f-base"), d.choices.scenarios, d.base);
  option($("f-pathway"), d.choices.pathways, d.pathway);
  option($("f-contract"), d.choices.contracts, d.contract);
  for (const k of SCALARS) {
    $(`f-${k}`).value = d[k] === null || d[k] === undefined ? "" : String(d[k]);
  }
  designOptions(d);
  modeOptions(d);
  numberInputs($("groups"), "groups", d.groups, d.group_names);
  numberInputs($("prices"), "prices", d.prices);
  numberInputs($("caps"), "caps", d.caps);
  numberInputs($("commissioners"), "commissioners", d.commissioners);
  moreCohorts(d);
  fixedEntries(d);
}

function collect() {
  const f = {base: $("f-base").value, pathway: $("f-pathway").value, contract: $("f-contract").value,
    evaluation_design: $("f-evaluation_design").value, counterfactual_mode: $("f-counterfactual_mode").value};
  for (const k of SCALARS) f[k] = $(`f-${k}`).value;
  for (const g of ["groups", "prices", "caps", "commissioners"]) {
    f[g] = {};
    document.querySelectorAll(`input[data-group="${g}"]`).forEach((i) => { f[g][i.dataset.key] = i.value; });
  }
  f.more_cohorts = ((S.d && S.d.more_cohorts) || []).map((c, j) => {
    const i = j + 1, out = {groups: {}};
    document.querySelectorAll(`input[data-cohort="${i}"]`).forEach((inp) => { out[inp.dataset.key] = inp.value; });
    document.querySelectorAll(`input[data-group="cohorts.${i}.groups"]`).forEach((inp) => { out.groups[inp.dataset.key] = inp.value; });
    return out;
  });
  return f;
}

function showErrors(errors) {
  document.querySelectorAll(".err").forEach((e) => { e.textContent = ""; });
  document.querySelectorAll("input.bad,select.bad").forEach((e) => e.classList.remove("bad"));
  for (const [field, msgs] of Object.entries(errors || {})) {
    const box = $(`err-${field}`) || $("err-_general");
    box.textContent = (box.textContent ? box.textContent + "\n" : "") + msgs.join("\n");
    const inp = $(`f-${field}`);
    if (inp) inp.classList.add("bad");
    else if (field.startsWith("cohorts.")) document.querySelectorAll(`input[data-cohort="${field.split(".")[1]}"]`).forEach((i) => i.classList.add("bad"));
    else document.querySelectorAll(`input[data-group="${field}"]`).forEach((i) => i.classList.add("bad"));
  }
}

async function loadDefaults(params) {
  const q = new URLSearchParams(params || {}).toString();
  const d = await api(`/api/defaults?${q}`);
  if (d.errors) { showErrors(d.errors); return; }
  renderForm(d);
  showErrors({});
}

async function check() {
  $("status").textContent = S.L.validating + " \u2026";
  const res = await api(`/api/check?lang=${S.lang}`, collect());
  showErrors(res.errors);
  $("status").textContent = res.ok ? S.L.valid : S.L.invalid;
  return res.ok;
}

function changed() {
  clearTimeout(S.auto);
  S.auto = setTimeout(async () => {
    const ok = await check();
    if (ok && $("auto").checked) start();
  }, 350);
}

async function cancel() {
  if (S.run) await api(`/api/run/${S.run}/cancel`, {});
}

async function start(force) {
  if (S.run && S.poll) { await cancel(); }
  const seq = ++S.seq;
  $("force").hidden = true;
  const res = await api("/api/run", {form: collect(), lang: S.lang, force: force === true});
  showErrors(res.errors);
  if (!res.ok) {
    // refused only because it may not fit in memory: the page asks instead of naming --force
    if (res.confirm) { $("force").hidden = false; $("status").textContent = S.L.force_note; }
    else $("status").textContent = S.L.invalid;
    return;
  }
  if (seq !== S.seq) return;  // a newer run was asked for meanwhile
  S.run = res.id;
  $("progress").value = 0; $("cancel").disabled = false;
  $("status").textContent = S.L.running + " \u2026";
  clearInterval(S.poll);
  S.poll = setInterval(() => poll(res.id), 200);
}

async function poll(id) {
  const st = await api(`/api/run/${id}`);
  if (id !== S.run) return;
  $("progress").value = st.total ? st.done / st.total : 0;
  $("status").textContent = `${S.L.running} \u2026 ${st.done} / ${st.total}`;
  if (st.status === "running") {
    if (st.result) renderResults(st);  // the replications finished so far, marked provisional
    return;
  }
  clearInterval(S.poll); S.poll = null; $("cancel").disabled = true;
  if (st.status === "done") {
    $("progress").value = 1;
    $("status").textContent = `${S.L.done} (${fmt(st.seconds, 1)} ${S.L.seconds})`;
    renderResults(st);
    loadHistory();
  } else if (st.status === "cancelled") {
    $("status").textContent = S.L.cancelled;
    loadHistory();
  } else {
    $("status").textContent = `${S.L.failed}: ${st.error}`;
  }
}

function renderResults(st) {
  const r = st.result;
  $("results").hidden = false;
  $("results").dataset.run = st.id;
  $("r-title").textContent = r.title;
  const prov = $("r-provisional");
  prov.textContent = r.provisional ? S.L.provisional.replace("{k}", r.replications).replace("{n}", r.of)
    : S.L.final.replace("{n}", r.replications);
  prov.classList.toggle("final", !r.provisional);
  $("results").dataset.provisional = r.provisional ? "1" : "0";
  $("keep").disabled = !!r.provisional;
  $("r-series-later").hidden = !!r.series;
  document.querySelectorAll(".downloads a:not(#d-toml)").forEach((a) => { a.hidden = !!r.provisional; });
  $("r-out").textContent = st.out;
  const ul = $("r-lines"); ul.innerHTML = "";
  r.lines.filter((l) => l.trim()).forEach((l) => { const li = document.createElement("li"); li.textContent = l; ul.appendChild(li); });
  const tb = $("r-numbers").querySelector("tbody"); tb.innerHTML = "";
  r.numbers.forEach((n) => {
    const tr = document.createElement("tr"); tr.dataset.kpi = n.kpi; tr.dataset.mean = n.mean;
    [n.label, n.mean_text, `${n.low_text} \u2013 ${n.high_text}`].forEach((t) => {
      const td = document.createElement("td"); td.textContent = t; tr.appendChild(td);
    });
    tb.appendChild(tr);
  });
  $("r-investor").textContent = r.investor || "";
  $("r-driver").textContent = r.driver || "";
  lineChart($("plot-inwork"), r.series);
  barChart($("plot-budgets"), r.budgets);
  $("d-toml").href = `/api/run/${st.id}/scenario.toml`;
  $("d-report").href = `/api/run/${st.id}/report.html?lang=${S.lang}`;
  $("d-xlsx").href = `/api/run/${st.id}/results.xlsx?lang=${S.lang}`;
}

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function tip(text, ev) {
  const t = $("tip");
  if (!text) { t.hidden = true; return; }
  t.textContent = text; t.hidden = false;
  t.style.left = `${ev.clientX + 12}px`; t.style.top = `${ev.clientY + 12}px`;
}

function legend(svg, items, x, y) {
  items.forEach((it, i) => {
    const g = el("g", {class: "legend", "data-series": it.key, transform: `translate(${x + i * 230},${y})`}, svg);
    el("rect", {width: 14, height: 10, fill: it.color}, g);
    const t = el("text", {x: 20, y: 10, "font-size": 12}, g); t.textContent = it.label;
    g.addEventListener("click", () => {
      const off = g.classList.toggle("off");
      svg.querySelectorAll(`[data-of="${it.key}"]`).forEach((e) => { e.style.display = off ? "none" : ""; });
    });
  });
}

const COLORS = {treatment: "#12355b", control: "#d1495b", kommune: "#2e86ab", state: "#f18f01"};

function lineChart(box, series) {
  box.innerHTML = "";
  const W = 640, H = 300, L = 50, R = 15, T = 30, B = 40;
  const svg = el("svg", {width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img"}, box);
  const arms = ["treatment", "control"].filter((a) => series && series[a]);
  if (!arms.length) return;
  const maxM = Math.max(...arms.map((a) => series[a].month[series[a].month.length - 1]));
  const X = (m) => L + (W - L - R) * m / Math.max(1, maxM);
  const Y = (v) => H - B - (H - T - B) * v;
  for (let v = 0; v <= 1.0001; v += 0.25) {
    el("line", {x1: L, x2: W - R, y1: Y(v), y2: Y(v), stroke: "#e3e3e8"}, svg);
    const t = el("text", {x: L - 6, y: Y(v) + 4, "text-anchor": "end", "font-size": 11}, svg); t.textContent = pct(v);
  }
  for (let m = 0; m <= maxM; m += 6) {
    const t = el("text", {x: X(m), y: H - B + 16, "text-anchor": "middle", "font-size": 11}, svg); t.textContent = m;
  }
  const xl = el("text", {x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle", "font-size": 12}, svg);
  xl.textContent = S.L.month;
  arms.forEach((a) => {
    const s = series[a];
    const upper = s.month.map((m, i) => `${X(m)},${Y(s.high[i] ?? 0)}`);
    const lower = s.month.map((m, i) => `${X(m)},${Y(s.low[i] ?? 0)}`).reverse();
    el("polygon", {points: upper.concat(lower).join(" "), fill: COLORS[a], opacity: 0.12, "data-of": a}, svg);
    el("polyline", {points: s.month.map((m, i) => `${X(m)},${Y(s.mean[i] ?? 0)}`).join(" "), fill: "none",
      stroke: COLORS[a], "stroke-width": 2.2, "data-of": a, class: `line-${a}`}, svg);
  });
  legend(svg, arms.map((a) => ({key: a, label: S.L[a], color: COLORS[a]})), L, 8);
  const cursor = el("line", {y1: T, y2: H - B, stroke: "#888", "stroke-dasharray": "3,3", visibility: "hidden"}, svg);
  const hit = el("rect", {x: L, y: T, width: W - L - R, height: H - T - B, fill: "transparent"}, svg);
  hit.addEventListener("mousemove", (ev) => {
    const box2 = svg.getBoundingClientRect();
    const m = Math.round((ev.clientX - box2.left) * (W / box2.width) - L) / ((W - L - R) / Math.max(1, maxM));
    const month = Math.max(0, Math.min(maxM, Math.round(m)));
    cursor.setAttribute("x1", X(month)); cursor.setAttribute("x2", X(month)); cursor.setAttribute("visibility", "visible");
    const lines = [`${S.L.month} ${month}`];
    arms.forEach((a) => {
      const i = series[a].month.indexOf(month);
      const off = svg.querySelector(`.legend[data-series="${a}"]`).classList.contains("off");
      if (i >= 0 && !off) lines.push(`${S.L[a]}: ${pct(series[a].mean[i])} (${pct(series[a].low[i])} \u2013 ${pct(series[a].high[i])})`);
    });
    tip(lines.join("\n"), ev);
  });
  hit.addEventListener("mouseleave", () => { tip(null); cursor.setAttribute("visibility", "hidden"); });
}

function barChart(box, budgets) {
  box.innerHTML = "";
  if (!budgets || !budgets.parties.length) return;
  const W = 640, H = 300, L = 70, R = 15, T = 30, B = 40;
  const svg = el("svg", {width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img"}, box);
  const vals = budgets.parties.flatMap((p) => p.values.filter((v) => v !== null));
  const raw = Math.max(1, Math.max(0, ...vals) - Math.min(0, ...vals));
  const mag = Math.pow(10, Math.floor(Math.log10(raw / 4)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => raw / st <= 5);
  const hi = Math.ceil(Math.max(0, ...vals) / step) * step, lo = Math.floor(Math.min(0, ...vals) / step) * step;
  const span = (hi - lo) || 1;
  const Y = (v) => T + (H - T - B) * (hi - v) / span;
  const n = budgets.years.length, k = budgets.parties.length;
  const slot = (W - L - R) / n, bw = slot * 0.7 / k;
  for (let v = lo; v <= hi + step / 2; v += step) {
    el("line", {x1: L, x2: W - R, y1: Y(v), y2: Y(v), stroke: "#e3e3e8"}, svg);
    const t = el("text", {x: L - 6, y: Y(v) + 4, "text-anchor": "end", "font-size": 11}, svg);
    t.textContent = fmt(v / 1000);
  }
  el("line", {x1: L, x2: W - R, y1: Y(0), y2: Y(0), stroke: "#555"}, svg);
  const yl = el("text", {x: 12, y: T - 10, "font-size": 11}, svg); yl.textContent = S.L.thousand;
  budgets.years.forEach((yr, i) => {
    const t = el("text", {x: L + slot * (i + 0.5), y: H - B + 16, "text-anchor": "middle", "font-size": 11}, svg);
    t.textContent = `${S.L.year} ${yr}`;
    budgets.parties.forEach((p, j) => {
      const v = p.values[i] ?? 0;
      const r = el("rect", {x: L + slot * i + slot * 0.15 + j * bw, y: Math.min(Y(v), Y(0)), width: bw - 2,
        height: Math.max(1, Math.abs(Y(v) - Y(0))), fill: COLORS[p.party] || "#777", "data-of": p.party}, svg);
      r.addEventListener("mousemove", (ev) => tip(`${p.label}, ${S.L.year} ${yr}: ${fmt(v)} kr`, ev));
      r.addEventListener("mouseleave", () => tip(null));
    });
  });
  legend(svg, budgets.parties.map((p) => ({key: p.party, label: `${p.label} (${p.total_text} kr)`,
    color: COLORS[p.party] || "#777"})), L, 8);
}

function keep() {
  const id = $("results").dataset.run;
  if (!id) return;
  if (S.variants.length >= 4) { $("status").textContent = S.L.max_variants; return; }
  if (!S.variants.some((v) => v.id === id)) S.variants.push({id, name: `${S.L.variant} ${S.variants.length + 1}`});
  renderVariants();
}

async function renderVariants() {
  $("variants").hidden = S.variants.length === 0;
  const table = $("v-table"); table.innerHTML = "";
  if (!S.variants.length) return;
  const res = await api("/api/compare", {ids: S.variants.map((v) => v.id), names: S.variants.map((v) => v.name),
    lang: S.lang});
  if (res.errors) { $("v-crn").textContent = Object.values(res.errors).flat().join(" "); return; }
  $("v-crn").textContent = `${res.crn ? S.L.crn : S.L.no_crn} ${S.L.variant} 2-4: ${S.L.mean} (${S.L.diff}).`;
  const head = document.createElement("tr");
  const th0 = document.createElement("th"); th0.textContent = S.L.kpi; head.appendChild(th0);
  S.variants.forEach((v, i) => {
    const th = document.createElement("th"); th.textContent = v.name + " ";
    const b = document.createElement("button"); b.type = "button"; b.textContent = S.L.remove; b.className = "remove";
    b.addEventListener("click", () => { S.variants.splice(i, 1); renderVariants(); });
    th.appendChild(b); head.appendChild(th);
  });
  table.appendChild(head);
  res.rows.forEach((row) => {
    const tr = document.createElement("tr"); tr.dataset.kpi = row.kpi;
    const td0 = document.createElement("td"); td0.textContent = row.label; tr.appendChild(td0);
    row.cells.forEach((c, i) => {
      const td = document.createElement("td");
      td.textContent = i === 0 ? c.mean_text : `${c.mean_text} (${c.diff_text}; ${c.diff_low_text} \u2013 ${c.diff_high_text})`;
      if (i > 0) td.title = S.L.diff;
      tr.appendChild(td);
    });
    table.appendChild(tr);
  });
}

async function loadHistory() {
  const res = await api(`/api/runs?lang=${S.lang}`);
  $("h-root").textContent = res.root || "";
  const tb = $("h-table").querySelector("tbody"); tb.innerHTML = "";
  $("h-none").hidden = (res.runs || []).length > 0;
  (res.runs || []).forEach((r) => {
    const tr = document.createElement("tr"); tr.dataset.run = r.id;
    const sizes = (r.sizes || []).join(" + ");
    const inputs = `${r.title} \u2013 ${S.L.cohort_size_short} ${sizes}, ${S.L.replications} ${r.replications}, ${S.L.seed.split(" ")[0]} ${r.seed}`;
    const status = r.status === "unfinished" ? S.L.unfinished : (S.L[r.status] || r.status);
    [r.started, inputs, status].forEach((t) => { const td = document.createElement("td"); td.textContent = t; tr.appendChild(td); });
    const td = document.createElement("td");
    const b = document.createElement("button"); b.type = "button"; b.className = "delete"; b.textContent = S.L.delete;
    b.disabled = r.status === "running";
    b.addEventListener("click", async () => {
      // never deleted unasked: the browser's own confirm dialog names the run and its folder
      if (!window.confirm(S.L.delete_confirm.replace("{id}", r.id).replace("{folder}", r.folder))) return;
      const res2 = await api(`/api/runs/${r.id}/delete`, {confirm: true});
      if (res2.errors) $("status").textContent = Object.values(res2.errors).flat().join(" ");
      S.variants = S.variants.filter((v) => v.id !== r.id);
      renderVariants();
      loadHistory();
    });
    td.appendChild(b); tr.appendChild(td); tb.appendChild(tr);
  });
}

async function upload(ev) {
  const file = ev.target.files[0];
  if (!file) return;
  const r = await fetch("/api/upload", {method: "POST", headers: {"X-Effekt-App": "1"}, body: await file.text()});
  const res = await r.json();
  if (!res.ok) { showErrors(res.errors); return; }
  await loadDefaults({base: res.base});
}

async function init() {
  const q = new URLSearchParams(location.search);
  S.lang = q.get("lang") === "en" ? "en" : "nb";
  $("lang").value = S.lang;
  S.L = await api(`/api/labels?lang=${S.lang}`);
  applyLabels();
  await loadDefaults({});
  await loadHistory();
  $("form").addEventListener("input", (ev) => { if (ev.target.tagName === "INPUT" && ev.target.type !== "file") changed(); });
  $("f-base").addEventListener("change", () => loadDefaults({base: $("f-base").value}));
  for (const k of ["pathway", "contract"]) {
    $(`f-${k}`).addEventListener("change", async () => {
      const keepers = {cohort_size: $("f-cohort_size").value, replications: $("f-replications").value, seed: $("f-seed").value};
      await loadDefaults({base: $("f-base").value, pathway: $("f-pathway").value, contract: $("f-contract").value});
      for (const [key, v] of Object.entries(keepers)) $(`f-${key}`).value = v;
      changed();
    });
  }
  $("f-upload").addEventListener("change", upload);
  $("run").addEventListener("click", () => { clearTimeout(S.auto); start(); });
  $("force").addEventListener("click", () => { clearTimeout(S.auto); start(true); });
  $("f-evaluation_design").addEventListener("change", changed);
  $("f-counterfactual_mode").addEventListener("change", () => {
    $("treatment-share-box").hidden = $("f-counterfactual_mode").value !== "rct";
    changed();
  });
  $("cancel").addEventListener("click", cancel);
  $("keep").addEventListener("click", keep);
  $("lang").addEventListener("change", async () => {
    S.lang = $("lang").value;
    history.replaceState(null, "", `?lang=${S.lang}`);
    S.L = await api(`/api/labels?lang=${S.lang}`);
    applyLabels();
    if (S.d) designOptions({...S.d, evaluation_design: $("f-evaluation_design").value});
    if (S.d) modeOptions({...S.d, counterfactual_mode: $("f-counterfactual_mode").value});
    loadHistory();
    if (S.run) start();
    if (S.variants.length) renderVariants();
  });
  document.body.dataset.ready = "1";
}

init();
