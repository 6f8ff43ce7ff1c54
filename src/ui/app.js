// archlab's archive browser: plain DOM, no framework. Every string from the archive goes in as a text node
// (textContent), never as HTML, so names, motivations, analyses, notes and code cannot inject markup.
"use strict";
(() => {
  const app = document.getElementById("app");
  const statusEl = document.getElementById("status");
  // The write token comes in the URL fragment (never sent to the server), kept for this tab only.
  const fromHash = /(?:^|[#&])token=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (fromHash) {
    sessionStorage.setItem("archlab-token", fromHash[1]);
    history.replaceState(null, "", location.pathname + location.search + "#/");
  }
  const token = () => sessionStorage.getItem("archlab-token");

  // ---- DOM helpers ------------------------------------------------------------------------------------------
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "class") el.className = v;
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  const fmt = (x, d = 4) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : Number(x).toFixed(d));
  const link = (href, text) => h("a", { href }, text);
  const expLink = (id, name) => link(`#/e/${encodeURIComponent(id)}`, name ? `${id} ${name}` : id);
  const badge = (text, cls) => h("span", { class: `badge ${cls || text}` }, text);
  const render = (...nodes) => { app.replaceChildren(...nodes.flat(Infinity).filter((n) => n !== null && n !== undefined && n !== false)); };

  async function api(path, opts = {}) {
    const headers = { ...(opts.body ? { "Content-Type": "application/json" } : {}) };
    if (token()) headers.Authorization = `Bearer ${token()}`;
    const res = await fetch(path, { ...opts, headers });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error || `${res.status} ${res.statusText}`);
    return body;
  }
  async function steer(body) {
    try {
      const { record } = await api("/api/steering", { method: "POST", body: JSON.stringify(body) });
      flash(`recorded ${record.action} (${record.id})`);
      return record;
    } catch (err) {
      flash(`steering failed: ${err.message}`, true);
      return null;
    }
  }
  function flash(text, bad) {
    statusEl.textContent = text;
    statusEl.className = bad ? "error" : "live";
  }

  // ---- live events (server-sent, fed by the archive's journal) --------------------------------------------------
  const listeners = new Set();
  let events = null;
  function connect() {
    events = new EventSource(`/api/events${token() ? `?token=${encodeURIComponent(token())}` : ""}`);
    events.addEventListener("hello", () => { statusEl.textContent = "live"; statusEl.className = "live"; });
    for (const type of ["experiment", "progress", "steering", "campaign"]) {
      events.addEventListener(type, (m) => { const e = JSON.parse(m.data); for (const fn of listeners) fn(e); });
    }
    events.onerror = () => { statusEl.textContent = "reconnecting…"; statusEl.className = "muted"; };
  }
  /** Subscribes for the current page only. */
  let pageListeners = [];
  function onLive(fn) { listeners.add(fn); pageListeners.push(fn); }
  function debounce(fn, ms) { let t = null; return () => { clearTimeout(t); t = setTimeout(fn, ms); }; }

  // ---- Python highlighting (token spans, text only) and diffs ---------------------------------------------------------
  const KW = new Set("def class return if elif else for while in not and or is None True False import from as with lambda yield try except finally raise pass break continue self super assert global nonlocal del".split(" "));
  function highlight(code) {
    const pre = h("pre", { class: "code" });
    const re = /(#[^\n]*)|("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')|(\b\d+(?:\.\d+)?(?:e-?\d+)?\b)|([A-Za-z_][A-Za-z0-9_]*)|([\s\S])/g;
    let m;
    let plain = "";
    const flush = () => { if (plain) { pre.append(document.createTextNode(plain)); plain = ""; } };
    while ((m = re.exec(code))) {
      const [all, com, str, num, word] = m;
      const cls = com ? "com" : str ? "str" : num ? "num" : word && KW.has(word) ? "kw" : word && code[re.lastIndex] === "(" ? "fn" : null;
      if (cls) { flush(); pre.append(h("span", { class: cls }, all)); } else plain += all;
    }
    flush();
    return pre;
  }
  function diffView(text) {
    if (!text) return h("p", { class: "muted" }, "no difference (or no code to compare)");
    return h("pre", { class: "diff" }, text.split("\n").map((line) => {
      const cls = line.startsWith("+") && !line.startsWith("+++") ? "add" : line.startsWith("-") && !line.startsWith("---") ? "del" : line.startsWith("@@") ? "hunk" : null;
      return cls ? h("span", { class: cls }, line) : `${line}\n`;
    }));
  }

  // ---- curves (uPlot, local) -----------------------------------------------------------------------------------------
  function curvesChart(curves, width = 640) {
    if (!curves.length || !window.uPlot) return h("p", { class: "muted" }, "no loss curves recorded");
    const steps = [...new Set(curves.flatMap((c) => c.steps))].sort((a, b) => a - b);
    const data = [steps, ...curves.map((c) => { const m = new Map(c.steps.map((s, i) => [s, c.loss[i]])); return steps.map((s) => m.get(s) ?? null); })];
    const colours = ["#2563eb", "#f97316", "#6b7280", "#16a34a", "#db2777", "#7c3aed", "#0891b2", "#ca8a04"];
    const box = h("div", { class: "chart" });
    new window.uPlot({
      width, height: 260, scales: { x: { time: false } }, axes: [{ label: "step" }, { label: "loss" }],
      series: [{ label: "step" }, ...curves.map((c, i) => ({ label: `${c.label} · ${c.stage}`, stroke: colours[i % colours.length], width: 1.5, spanGaps: true }))],
    }, data, box);
    return box;
  }

  // ---- pages ----------------------------------------------------------------------------------------------------------
  const STATUSES = ["", "done", "rejected", "failed", "proposed", "implemented", "probing", "training", "analysing"];
  const lb = { sort: "fitness", order: "", status: "", campaign: "", rung: "", proposer: "", confirmed: "", q: "", offset: 0 };
  const compareSet = new Set();

  async function leaderboardPage() {
    const overview = await api("/api/overview");
    const tableBox = h("div", {});
    const sel = (key, options) => h("select", { "aria-label": key, onchange: (e) => { lb[key] = e.target.value; lb.offset = 0; load(); } },
      options.map(([v, label]) => h("option", { value: v, selected: lb[key] === v }, label)));
    const search = h("input", { type: "search", placeholder: "search name and motivation", value: lb.q, "aria-label": "search" });
    search.addEventListener("input", debounce(() => { lb.q = search.value; lb.offset = 0; load(); }, 250));
    const compareBtn = h("button", { onclick: () => { location.hash = `#/compare/${[...compareSet].map(encodeURIComponent).join(",")}`; } }, "Compare selected");
    render(
      h("h1", {}, `Leaderboard · ${overview.archive}`, h("span", { class: "muted" }, ` ${overview.experiments} experiments`)),
      overview.paused ? h("p", { class: "error" }, `paused by ${overview.paused.who}${overview.paused.why ? `: ${overview.paused.why}` : ""}`) : null,
      h("div", { class: "controls" }, search,
        sel("status", STATUSES.map((s) => [s, s || "any status"])),
        sel("campaign", [["", "any campaign"], ...overview.campaigns.map((c) => [c.id, c.id])]),
        sel("rung", [["", "any rung"], ["probe", "probe"], ["proxy", "proxy"], ["lm", "lm"], ["explore", "explore"], ["verify", "verify"]]),
        sel("proposer", [["", "any proposer"], ...["seed", "mutation", "crossover", "random", "llm", "import"].map((p) => [p, p])]),
        sel("confirmed", [["", "confirmed or not"], ...["confirmed better", "not confirmed", "confirmed worse"].map((v) => [v, v])]),
        compareBtn),
      h("p", { class: "muted" }, "± is the fitness's noise band; ≈ marks a fitness within the noise of the row above (not distinguishable). Confirmed: the latest re-training on fresh seeds against the baseline."),
      tableBox,
    );
    async function load() {
      const params = new URLSearchParams(Object.entries({ ...lb, limit: 50 }).filter(([, v]) => v !== ""));
      const data = await api(`/api/leaderboard?${params}`);
      const cols = [["", null], ["id", "id"], ["name", "name"], ["status", null], ["fitness", "fitness"], ["band", null], ["confirmed", null], ["loss", "loss"], ["bench", "bench"], ["probes", null], ["rung", null], ["parent", null], ["created", "created"]];
      const extra = data.metricKeys.filter((k) => !["loss", "score", "eval_loss"].includes(k)).slice(0, 4);
      const head = h("tr", {}, cols.map(([label, key]) => h("th", {
        class: key ? `sortable${lb.sort === key ? ` sorted ${lb.order || ""}` : ""}` : null,
        onclick: key ? () => { lb.order = lb.sort === key && lb.order !== "asc" ? "asc" : ""; lb.sort = key; load(); } : null,
      }, label)), extra.map((k) => h("th", { class: `sortable${lb.sort === `metric:${k}` ? " sorted" : ""}`, onclick: () => { lb.sort = `metric:${k}`; lb.order = ""; load(); } }, k)));
      const rows = data.rows.map((r) => {
        const check = h("input", { type: "checkbox", "aria-label": `compare ${r.id}`, checked: compareSet.has(r.id), onclick: (e) => { e.stopPropagation(); e.target.checked ? compareSet.add(r.id) : compareSet.delete(r.id); } });
        return h("tr", { class: "row", "data-id": r.id, onclick: () => { location.hash = `#/e/${encodeURIComponent(r.id)}`; } },
          h("td", {}, check), h("td", {}, r.id),
          h("td", {}, r.name, r.pinned ? badge("pinned") : null, r.vetoed ? badge("vetoed") : null),
          h("td", {}, badge(r.status), r.reason ? h("div", { class: "muted" }, r.reason.slice(0, 120)) : null),
          h("td", { class: "num", title: r.tied ? "within the noise band of the row above" : null }, lb.sort === "fitness" && r.tied ? "≈ " : "", fmt(r.fitness)),
          h("td", { class: "num" }, r.band === null ? "–" : `±${fmt(r.band)}`),
          h("td", {}, r.confirmed ? badge(r.confirmed, r.confirmed.replace(/ /g, "-")) : "–"),
          h("td", { class: "num" }, fmt(r.loss)), h("td", { class: "num" }, fmt(r.bench)), h("td", {}, r.probes || "–"), h("td", {}, r.rung || "–"),
          h("td", {}, r.parentId || "–"), h("td", {}, r.createdAt.slice(0, 16).replace("T", " ")),
          extra.map((k) => h("td", { class: "num" }, fmt(r.metrics[k]))));
      });
      const pager = h("div", { class: "toolbar" },
        h("span", { class: "muted" }, `${data.total ? data.offset + 1 : 0}–${data.offset + data.rows.length} of ${data.total}`),
        h("button", { disabled: data.offset === 0, onclick: () => { lb.offset = Math.max(0, lb.offset - 50); load(); } }, "‹ prev"),
        h("button", { disabled: data.offset + data.rows.length >= data.total, onclick: () => { lb.offset += 50; load(); } }, "next ›"));
      tableBox.replaceChildren(h("table", { id: "leaderboard" }, h("thead", {}, head), h("tbody", {}, rows)), pager);
    }
    await load();
    onLive(debounce(() => load().catch(() => {}), 300));
  }

  function steeringBar(d) {
    const e = d.experiment;
    const why = h("input", { placeholder: "why (recorded)", "aria-label": "why" });
    const note = h("textarea", { rows: 2, cols: 50, placeholder: "note for the next proposals, e.g. prefer update=gated_delta", "aria-label": "note" });
    return h("div", { class: "card" }, h("h2", {}, "Steer"),
      h("div", { class: "toolbar" }, why,
        h("button", { class: "danger", id: "veto", disabled: !!d.vetoed, onclick: async () => { if (await steer({ action: "veto", experimentId: e.id, why: why.value || null })) route(); } }, d.vetoed ? "vetoed" : "Veto"),
        h("button", { id: "pin", onclick: async () => { if (await steer({ action: d.pinned ? "unpin" : "pin", experimentId: e.id, why: why.value || null })) route(); } }, d.pinned ? "Unpin" : "Pin")),
      h("div", { class: "toolbar" }, note, h("button", { class: "primary", id: "add-note", onclick: async () => { if (note.value.trim() && await steer({ action: "note", experimentId: e.id, text: note.value })) route(); } }, "Add note")),
      d.steering.length ? h("ul", {}, d.steering.map((r) => h("li", {}, `${r.at.slice(0, 19).replace("T", " ")} ${r.who}: ${r.action}${r.text ? ` “${r.text}”` : ""}${r.why ? ` (${r.why})` : ""}`))) : h("p", { class: "muted" }, "no steering on this experiment yet"));
  }

  async function candidatePage(id) {
    const d = await api(`/api/experiments/${encodeURIComponent(id)}`);
    const e = d.experiment;
    const stageRows = Object.entries(e.stages).map(([stage, s]) => h("tr", {}, h("td", {}, stage), h("td", {}, badge(s.status)),
      h("td", {}, Object.entries(s.metrics).map(([k, v]) => `${k} ${fmt(v)}`).join(" · ")), h("td", { class: "num" }, fmt(s.wallS, 1)), h("td", {}, s.message || "")));
    const probeRows = Object.entries(d.probes).flatMap(([stage, probes]) => Object.entries(probes).map(([name, p]) =>
      h("tr", {}, h("td", {}, name), h("td", {}, p.passed ? badge("passed", "done") : badge("failed")),
        h("td", {}, Object.entries(p).filter(([k]) => k !== "passed").map(([k, v]) => `${k} ${typeof v === "number" ? fmt(v) : JSON.stringify(v)}`).join(" · ")))));
    const texts = Object.entries(d.texts).map(([kind, text]) => h("div", { class: "card", "data-text": kind }, h("h2", {}, kind), h("div", { class: "text" }, text)));
    render(
      h("h1", {}, `${e.id} `, h("span", { id: "name" }, e.name), badge(e.status), d.pinned ? badge("pinned") : null, d.vetoed ? badge("vetoed") : null),
      h("p", {}, "parent ", d.parent ? expLink(d.parent.id, d.parent.name) : "none", " · fitness ", h("b", {}, fmt(e.fitness?.value)),
        " · ", link(`#/lineage/${encodeURIComponent(e.id)}`, "in the lineage tree"), e.reason ? h("span", { class: "error" }, ` · ${e.reason}`) : null),
      h("div", { class: "grid" }, texts),
      steeringBar(d),
      h("h2", {}, "Per-rung metrics"), h("table", {}, h("tr", {}, ["rung", "status", "metrics", "seconds", "message"].map((x) => h("th", {}, x))), stageRows),
      h("h2", {}, "Loss curves (vs parent and baseline)"), curvesChart(d.curves),
      h("h2", {}, "Probes"), probeRows.length ? h("table", {}, probeRows) : h("p", { class: "muted" }, "no probe results"),
      h("h2", { id: "diff-heading" }, `Diff vs parent${d.parent ? ` ${d.parent.id}` : ""}`), d.parent ? diffView(d.diff) : h("p", { class: "muted" }, "a root: no parent"),
      h("h2", {}, "Code"), d.code ? highlight(d.code) : h("p", { class: "muted" }, "no code stored"),
      h("div", { class: "grid" },
        h("div", { class: "card" }, h("h2", {}, "Costs"), h("dl", { class: "kv" }, Object.entries(e.costs).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))]))),
        h("div", { class: "card" }, h("h2", {}, "Provenance"), h("dl", { class: "kv" }, Object.entries(d.provenance).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, typeof v === "object" && v !== null ? JSON.stringify(v) : String(v ?? "–"))]))),
        h("div", { class: "card" }, h("h2", {}, "Fitness"), e.fitness ? h("dl", { class: "kv" }, h("dt", {}, "formula"), h("dd", {}, e.fitness.formula),
          Object.entries(e.fitness.terms).flatMap(([k, v]) => [h("dt", {}, `term ${k}`), h("dd", {}, fmt(v))]),
          Object.entries(e.fitness.inputs).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, fmt(v))])) : h("p", { class: "muted" }, "not scored"))),
      h("h2", {}, `Agents' transcript (${d.agents.length} calls)`),
      d.agents.length ? h("table", {}, h("tr", {}, ["at", "role", "outcome", "tokens", "reply"].map((x) => h("th", {}, x))),
        d.agents.map((a) => h("tr", {}, h("td", {}, String(a.at ?? "")), h("td", {}, String(a.role ?? "")), h("td", {}, String(a.outcome ?? "")),
          h("td", {}, `${a.tokensIn ?? "?"} / ${a.tokensOut ?? "?"}`), h("td", { class: "text" }, String(a.reply ?? a.error ?? "").slice(0, 2000))))) : h("p", { class: "muted" }, "no LLM calls (offline proposer)"),
      h("h2", {}, "Notes"), d.notes.length ? h("ul", {}, d.notes.map((n) => h("li", {}, `${n.at.slice(0, 16)} ${n.pinned ? "[pinned] " : ""}${n.text}`))) : h("p", { class: "muted" }, "none"),
      h("h2", {}, "History"), h("ul", {}, e.transitions.map((t) => h("li", {}, `${t.at.slice(0, 19).replace("T", " ")} ${t.status}${t.note ? ` (${t.note})` : ""}`))),
    );
    onLive(debounce(() => {}, 1000));
  }

  async function lineagePage(focus) {
    const colour = (f, range) => {
      if (f === null || !range) return "#d1d5db";
      const t = range[1] > range[0] ? (f - range[0]) / (range[1] - range[0]) : 0.5;
      return `hsl(${Math.round(t * 120)}, 70%, 45%)`;
    };
    const open = new Set(focus ? (await api(`/api/lineage/path/${encodeURIComponent(focus)}`)).path.slice(0, -1) : []);
    async function level(parent) {
      const data = await api(`/api/lineage?${parent ? `parent=${encodeURIComponent(parent)}&` : ""}limit=200`);
      const ul = h("ul", {});
      for (const n of data.nodes) {
        const kids = h("div", {});
        const toggle = h("span", { class: "toggle", role: "button", "aria-label": `expand ${n.id}` }, n.children ? "▸" : "·");
        const li = h("li", { "data-id": n.id }, toggle, h("span", { class: "swatch", style: `background:${colour(n.fitness, data.fitnessRange)}` }),
          expLink(n.id, n.name), " ", h("span", { class: "muted" }, `${fmt(n.fitness, 3)}${n.children ? ` · ${n.children} children` : ""}`),
          n.status !== "done" ? badge(n.status) : null, n.pinned ? badge("pinned") : null, n.vetoed ? badge("vetoed") : null, kids);
        if (focus === n.id) li.style.fontWeight = "700";
        let expanded = false;
        const expand = async () => {
          expanded = !expanded;
          toggle.textContent = expanded ? "▾" : "▸";
          kids.replaceChildren(expanded ? await level(n.id) : "");
        };
        if (n.children) toggle.addEventListener("click", expand);
        ul.append(li);
        if (n.children && open.delete(n.id)) await expand(); // the path to the focus, opened once
      }
      if (data.total > data.nodes.length) ul.append(h("li", { class: "muted" }, `… ${data.total - data.nodes.length} more (open them from the leaderboard)`));
      return ul;
    }
    const tree = h("div", { class: "tree", id: "tree" });
    render(h("h1", {}, "Lineage"), h("p", { class: "muted" }, "Coloured by fitness (red low, green high); click ▸ to expand. Only expanded levels are loaded."), tree);
    tree.append(await level(null));
  }

  async function campaignPage(id) {
    const overview = await api("/api/overview");
    const campaigns = overview.campaigns;
    if (!id) {
      const latest = campaigns[campaigns.length - 1];
      if (latest) { location.replace(`#/campaign/${encodeURIComponent(latest.id)}`); return; }
      render(h("h1", {}, "Campaigns"), h("p", { class: "muted" }, "no campaign has run on this archive yet"));
      return;
    }
    const d = await api(`/api/campaigns/${encodeURIComponent(id)}`);
    const inFlight = h("tbody", { id: "in-flight" });
    const drawFlight = (rows) => inFlight.replaceChildren(...(rows.length ? rows.map((r) => h("tr", { "data-id": r.id }, h("td", {}, expLink(r.id, r.name)),
      h("td", {}, badge(r.status)), h("td", {}, r.progress?.stage ?? r.rung ?? "–"),
      h("td", { class: "step" }, r.progress?.step !== undefined ? `${r.progress.step}/${r.progress.total_steps}` : "–"),
      h("td", { class: "num loss" }, fmt(r.progress?.loss)),
      h("td", {}, h("button", { class: "danger", onclick: () => steer({ action: "veto", experimentId: r.id, why: "vetoed from the campaign page" }) }, "Veto")))) : [h("tr", {}, h("td", { colspan: 6, class: "muted" }, "nothing in flight"))]));
    drawFlight(d.inFlight);
    const spent = d.spent;
    const budget = d.budget || {};
    const note = h("textarea", { rows: 2, cols: 60, placeholder: "campaign note, e.g. prefer update=gated_delta", "aria-label": "campaign note" });
    const recent = h("tbody", {}, d.recent.map((r) => h("tr", {}, h("td", {}, expLink(r.id, r.name)), h("td", {}, badge(r.status)), h("td", { class: "num" }, fmt(r.fitness)), h("td", {}, r.reason || ""))));
    const log = h("ul", { id: "steering-log" }, d.steering.map((r) => h("li", {}, `${r.at.slice(0, 19).replace("T", " ")} ${r.who}: ${r.action} ${r.experimentId || ""}${r.text ? ` “${r.text}”` : ""}${r.why ? ` (${r.why})` : ""}`)));
    render(
      h("h1", {}, `Campaign ${d.campaign.id}`, d.paused ? badge("paused", "vetoed") : d.campaign.endedAt ? badge("ended", "done") : badge("running", "training")),
      h("div", { class: "controls" }, h("select", { "aria-label": "campaign", onchange: (e) => { location.hash = `#/campaign/${encodeURIComponent(e.target.value)}`; } },
        campaigns.map((c) => h("option", { value: c.id, selected: c.id === id }, c.id)))),
      h("div", { class: "grid" },
        h("div", { class: "card" }, h("h2", {}, "Budget ledger"), h("table", {},
          h("tr", {}, ["", "spent", "budget"].map((x) => h("th", {}, x))),
          [["experiments", spent.experiments, budget.experiments], ["hours", fmt(spent.hours, 3), budget.hours], ["LLM $", fmt(spent.llmDollars, 4), budget.llm_dollars],
            ["tokens in/out", `${spent.tokensIn} / ${spent.tokensOut}`, null], ["CPU-h", fmt(spent.cpuHours, 3), null], ["GPU-h", fmt(spent.gpuHours, 3), budget.gpu_hours]]
            .map(([k, v, b]) => h("tr", {}, h("td", {}, k), h("td", { class: "num" }, String(v)), h("td", { class: "num" }, b === null || b === undefined ? "–" : String(b))))),
          h("p", { class: "muted" }, Object.entries(spent.statuses).map(([k, v]) => `${k} ${v}`).join(" · "), d.campaign.stopReason ? ` · stopped: ${d.campaign.stopReason}` : "")),
        h("div", { class: "card" }, h("h2", {}, "Steer"), h("div", { class: "toolbar" },
          h("button", { id: "pause", onclick: () => steer({ action: "pause", campaign: d.campaign.id, why: null }) }, "Pause"),
          h("button", { id: "resume", onclick: () => steer({ action: "resume", campaign: d.campaign.id, why: null }) }, "Resume")),
          h("div", { class: "toolbar" }, note, h("button", { class: "primary", id: "campaign-note", onclick: async () => { if (note.value.trim() && await steer({ action: "note", campaign: d.campaign.id, text: note.value })) note.value = ""; } }, "Add note")),
          log)),
      h("h2", {}, "In flight ", h("span", { class: "live" }, "● live")),
      h("table", {}, h("thead", {}, h("tr", {}, ["experiment", "status", "rung", "step", "loss", ""].map((x) => h("th", {}, x)))), inFlight),
      h("h2", {}, "Recently finished"), h("table", { id: "recent" }, recent),
    );
    const flight = new Map(d.inFlight.map((r) => [r.id, r]));
    const refresh = debounce(() => { if (location.hash.startsWith(`#/campaign/`)) campaignPage(id).catch(() => {}); }, 400);
    onLive((e) => {
      if (e.type === "progress" && flight.has(e.progress.id)) {
        flight.get(e.progress.id).progress = e.progress;
        drawFlight([...flight.values()]);
      } else if (e.type === "experiment" && e.row.campaign === id) {
        refresh();
      } else if (e.type === "steering") {
        refresh();
      }
    });
  }

  async function comparePage(ids) {
    if (ids.length < 2) {
      render(h("h1", {}, "Compare"), h("p", { class: "muted" }, "Tick two or more experiments on the leaderboard, then “Compare selected”."));
      return;
    }
    const d = await api(`/api/compare?ids=${ids.map(encodeURIComponent).join(",")}`);
    const keys = [...new Set(d.experiments.flatMap((e) => Object.values(e.stages).flatMap((s) => Object.keys(s.metrics))))].sort();
    render(h("h1", {}, `Compare ${ids.join(" · ")}`),
      h("table", { id: "compare" }, h("tr", {}, h("th", {}, ""), d.experiments.map((e) => h("th", {}, expLink(e.id, e.name)))),
        h("tr", {}, h("td", {}, "status"), d.experiments.map((e) => h("td", {}, badge(e.status)))),
        h("tr", {}, h("td", {}, "fitness"), d.experiments.map((e) => h("td", { class: "num" }, fmt(e.fitness?.value)))),
        h("tr", {}, h("td", {}, "parent"), d.experiments.map((e) => h("td", {}, e.parentId || "–"))),
        keys.map((k) => h("tr", {}, h("td", {}, k), d.experiments.map((e) => {
          const s = Object.values(e.stages).reverse().find((st) => k in st.metrics);
          return h("td", { class: "num" }, fmt(s ? s.metrics[k] : null));
        })))),
      h("h2", {}, "Loss curves"), curvesChart(d.curves, 900),
      d.diffs.map((x) => [h("h2", {}, `Code diff ${x.from} → ${x.to}`), diffView(x.diff)]));
  }

  // ---- routing --------------------------------------------------------------------------------------------------------
  async function route() {
    for (const fn of pageListeners) listeners.delete(fn);
    pageListeners = [];
    document.body.dataset.ready = "";
    const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
    const page = parts[0] || "leaderboard";
    for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === (page === "e" ? "leaderboard" : page));
    try {
      if (page === "e") await candidatePage(parts[1]);
      else if (page === "lineage") await lineagePage(parts[1]);
      else if (page === "campaign") await campaignPage(parts[1]);
      else if (page === "compare") await comparePage((parts[1] || "").split(",").filter(Boolean));
      else await leaderboardPage();
      document.body.dataset.ready = page;
    } catch (err) {
      render(h("h1", {}, "Error"), h("p", { class: "error" }, err.message));
    }
  }
  window.addEventListener("hashchange", route);
  connect();
  route();
})();
