// The status view: polls /ui/api/... and redraws; builds every node with textContent, never HTML.
import { latencyChart, throughputChart } from "./charts.js";

const PAGE_SIZE = 25;
const FAST_MS = 1500;
const SLOW_MS = 5000;
const STATUSES = ["queued", "running", "retrying", "completed", "dead", "invalid", "skipped"];

const state = { offset: 0, csrf: null, openLetters: new Set(), openLag: new Set(), chosen: new Set(), letterIds: "" };
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "className") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function time(iso) {
  return iso ? iso.replace("T", " ").slice(0, 19) : "";
}

class Unauthenticated extends Error {}

async function api(path, options = {}) {
  const response = await fetch(path, { credentials: "same-origin", ...options });
  if (response.status === 401) {
    window.location.assign("/ui/login");
    throw new Unauthenticated();
  }
  const body = response.status === 204 ? null : await response.json();
  if (!response.ok) throw new Error(body && body.detail ? body.detail : `HTTP ${response.status}`);
  return body;
}

function badge(status) {
  return el("span", { className: `status status-${status}` }, status);
}

// --- summary and counts ---------------------------------------------------------------------

function renderSummary(summary) {
  const cards = STATUSES.filter((s) => summary.by_status[s]).map((s) =>
    el("button", { type: "button", className: "card", dataset: { status: s } },
      badge(s), el("strong", {}, summary.by_status[s])));
  cards.forEach((card) => card.addEventListener("click", () => {
    $("filters").elements.status.value = card.dataset.status;
    applyFilters();
  }));
  const total = Object.values(summary.by_status).reduce((a, b) => a + b, 0);
  $("status-counts").replaceChildren(el("div", { className: "card total" }, "all", el("strong", {}, total)), ...cards);

  const byType = {};
  for (const row of summary.by_type_status) (byType[row.task_type] ||= []).push(row);
  $("type-counts").tBodies[0].replaceChildren(...Object.keys(summary.by_type).sort().map((type) =>
    el("tr", {}, el("td", {}, type), el("td", {}, summary.by_type[type]),
      el("td", {}, ...byType[type].map((r) => el("span", { className: "pair" }, badge(r.status), ` ${r.count}`))))));

  const select = $("filters").elements.task_type;
  const known = new Set([...select.options].map((o) => o.value));
  for (const type of Object.keys(summary.by_type).sort()) {
    if (!known.has(type)) select.append(el("option", { value: type }, type));
  }

  const rm = summary.read_model;
  const feed = $("feed");
  if (!rm.connected) {
    feed.textContent = `Kafka unreachable${rm.error ? `: ${rm.error}` : ""}`;
    feed.className = "feed bad";
  } else if (rm.records_behind) {
    feed.textContent = `catching up: ${rm.records_behind} records to read`;
    feed.className = "feed warn";
  } else {
    feed.textContent = `live · ${summary.tasks_kept} tasks held (max ${summary.tasks_capacity})`;
    feed.className = "feed ok";
  }
}

// --- task list ------------------------------------------------------------------------------

function filterQuery() {
  const form = $("filters").elements;
  const query = new URLSearchParams({ offset: state.offset, limit: PAGE_SIZE });
  if (form.status.value) query.set("status", form.status.value);
  if (form.task_type.value) query.set("task_type", form.task_type.value);
  if (form.session_id.value.trim()) query.set("session_id", form.session_id.value.trim());
  if (form.since.value) {
    query.set("since", new Date(Date.now() - Number(form.since.value) * 60000).toISOString());
  }
  return query;
}

function renderTasks(page) {
  $("tasks").tBodies[0].replaceChildren(...page.items.map((t) =>
    el("tr", { dataset: { taskId: t.task_id, status: t.status } },
      el("td", {}, time(t.created_at)),
      el("td", { className: "mono" }, t.task_id),
      el("td", {}, t.name),
      el("td", {}, badge(t.status)),
      el("td", { className: "mono" }, t.session_id || ""),
      el("td", {}, t.event_type || ""),
      el("td", {}, t.retry_count),
      el("td", {}, time(t.completed_at)),
      el("td", { className: "error-cell" }, t.error || ""))));
  if (!page.items.length) {
    $("tasks").tBodies[0].append(el("tr", {}, el("td", { colspan: 9, className: "muted" }, "No task matches.")));
  }
  const first = page.total ? page.offset + 1 : 0;
  $("page-info").textContent = `${first}–${page.offset + page.items.length} of ${page.total}`;
  $("prev").disabled = page.offset === 0;
  $("next").disabled = page.offset + page.items.length >= page.total;
}

function applyFilters() {
  state.offset = 0;
  refreshTasks();
}

async function refreshTasks() {
  const [summary, page] = await Promise.all([api("/ui/api/summary"), api(`/ui/api/tasks?${filterQuery()}`)]);
  renderSummary(summary);
  renderTasks(page);
}

async function lookup(event) {
  event.preventDefault();
  const id = $("lookup").elements.task_id.value.trim();
  const box = $("lookup-result");
  box.hidden = false;
  if (!id) {
    box.hidden = true;
    return;
  }
  try {
    const task = await api(`/ui/api/tasks/${encodeURIComponent(id)}`);
    box.replaceChildren(el("dl", { className: "record" }, ...Object.entries(task).flatMap(([k, v]) =>
      [el("dt", {}, k), el("dd", { className: k === "status" ? "" : "mono" }, k === "status" ? badge(v) : v ?? "")])));
  } catch (error) {
    if (error instanceof Unauthenticated) return;
    box.replaceChildren(el("p", { className: "error" }, error.message));
  }
}

// --- statistics, lag ------------------------------------------------------------------------

async function refreshStats() {
  const stats = await api(`/ui/api/stats?minutes=${$("window").value}`);
  latencyChart($("latency-chart"), stats.latency);
  throughputChart($("throughput-chart"), stats.throughput);
}

async function refreshLag() {
  const lag = await api("/ui/api/lag");
  $("lag-group").textContent = `group ${lag.group} · total ${lag.total_lag}`;
  $("lag-error").hidden = !lag.error;
  $("lag-error").textContent = lag.error || "";
  // The worker's own /health/: a worker behind, stalled or absent is shown, and the API keeps accepting work.
  const worker = $("worker");
  worker.textContent = lag.worker === "ok" ? "worker ok" : `worker: ${lag.worker}`;
  worker.title = lag.worker;
  worker.className = lag.worker === "ok" ? "worker ok" : "worker warn";
  const byTopic = new Map();
  for (const p of lag.partitions) {
    if (!byTopic.has(p.topic)) byTopic.set(p.topic, []);
    byTopic.get(p.topic).push(p);
  }
  // One row per topic; its partitions behind a disclosure, so 12 partitions × 6 topics stay readable.
  $("lag").tBodies[0].replaceChildren(...[...byTopic].map(([topic, parts]) => {
    const total = parts.reduce((sum, p) => sum + (p.lag || 0), 0);
    const lagging = parts.filter((p) => p.lag);
    const detail = el("details", { open: state.openLag.has(topic) },
      el("summary", {}, lagging.length ? `${lagging.length} of ${parts.length} partitions behind` : `${parts.length} partitions, none behind`),
      el("table", { className: "compact inner" },
        el("thead", {}, el("tr", {}, ...["partition", "committed", "end", "lag"].map((h) => el("th", {}, h)))),
        el("tbody", {}, ...parts.map((p) => el("tr", { className: p.lag ? "lagging" : "" },
          el("td", {}, p.partition), el("td", {}, p.committed ?? "–"), el("td", {}, p.end ?? "–"), el("td", {}, p.lag ?? "–"))))));
    detail.addEventListener("toggle", () => {
      if (detail.open) state.openLag.add(topic);
      else state.openLag.delete(topic);
    });
    return el("tr", { className: total ? "lagging" : "", dataset: { topic } },
      el("td", { className: "mono" }, topic), el("td", {}, total), el("td", {}, detail));
  }));
}

// --- dead letters ---------------------------------------------------------------------------

function letterRows(letter) {
  const box = el("input", { type: "checkbox", "aria-label": `choose ${letter.id}`, checked: state.chosen.has(letter.id) });
  box.addEventListener("change", () => {
    if (box.checked) state.chosen.add(letter.id);
    else state.chosen.delete(letter.id);
    $("requeue").disabled = state.chosen.size === 0;
  });
  const details = el("details", { open: state.openLetters.has(letter.id) },
    el("summary", {}, letter.error.slice(0, 120)),
    el("dl", { className: "record" },
      ...[
        ["error", letter.error], ["reason", letter.reason], ["task id", letter.task_id], ["event", letter.event_id],
        ["attempts", letter.attempts], ["origin", `${letter.origin_topic}[${letter.origin_partition}]@${letter.origin_offset}`],
        ["dead letter", `partition ${letter.partition} offset ${letter.offset} · id ${letter.id}`],
        ["original", `${letter.original_size} bytes`],
      ].flatMap(([k, v]) => [el("dt", {}, k), el("dd", { className: "mono" }, v ?? "")])),
    el("h4", {}, "original record"), el("pre", { dataset: { testid: "dl-original" } }, letter.original_preview),
    letter.traceback ? el("h4", {}, "traceback") : null,
    letter.traceback ? el("pre", {}, letter.traceback) : null);
  details.addEventListener("toggle", () => {
    if (details.open) state.openLetters.add(letter.id);
    else state.openLetters.delete(letter.id);
  });
  return el("tr", { dataset: { letterId: letter.id, reason: letter.reason } },
    el("td", {}, box), el("td", {}, time(letter.at)), el("td", {}, el("span", { className: "reason" }, letter.reason)),
    el("td", {}, letter.task_type || ""), el("td", { className: "mono" }, `${letter.origin_topic}[${letter.origin_partition}]@${letter.origin_offset}`),
    el("td", { className: "mono" }, letter.original_key ?? ""), el("td", { className: "wide" }, details));
}

async function refreshDeadLetters() {
  const list = await api("/ui/api/dead-letters?limit=100");
  const reasons = Object.entries(list.by_reason).map(([r, n]) => `${r} ${n}`).join(" · ");
  $("dl-summary").textContent = `${list.total_seen} seen${reasons ? ` · ${reasons}` : ""}`;
  const ids = list.items.map((l) => l.id).join(",");
  if (ids === state.letterIds) return; // unchanged: keep open details and scroll as they are
  state.letterIds = ids;
  const rows = list.items.map(letterRows);
  if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 7, className: "muted" }, "No dead letters.")));
  $("dead-letters").tBodies[0].replaceChildren(...rows);
}

async function requeue() {
  const ids = [...state.chosen];
  if (!ids.length) return;
  $("requeue").disabled = true;
  try {
    const result = await api("/ui/api/dead-letters/requeue", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": state.csrf || "" },
      body: JSON.stringify({ ids }),
    });
    const parts = [`${result.requeued} requeued`];
    if (result.refused.length) parts.push(`${result.refused.length} refused (${result.refused.map((r) => r.reason).join("; ")})`);
    if (result.failed.length) parts.push(`${result.failed.length} failed, try again`);
    if (result.unknown.length) parts.push(`${result.unknown.length} no longer held`);
    $("requeue-result").textContent = parts.join(", ");
    state.chosen.clear();
    state.letterIds = "";
    await refreshDeadLetters();
  } catch (error) {
    if (!(error instanceof Unauthenticated)) $("requeue-result").textContent = `requeue failed: ${error.message}`;
  } finally {
    $("requeue").disabled = state.chosen.size === 0;
  }
}

// --- wiring ---------------------------------------------------------------------------------

function every(ms, refresh) {
  const run = async () => {
    try {
      await refresh();
    } catch (error) {
      if (error instanceof Unauthenticated) return;
      console.warn(error);
    }
    setTimeout(run, ms);
  };
  run();
}

async function start() {
  const session = await api("/ui/api/session");
  state.csrf = session.csrf_token;
  $("mode").textContent = session.mode === "production" ? `${session.mode} · ${session.role}` : session.mode;
  if (session.role !== "admin") {
    // The server refuses it anyway (403); a read or write key only looks.
    $("requeue").hidden = true;
    $("requeue-result").textContent = "requeue needs an admin key";
  }
  if (session.via === "session") {
    $("logout").hidden = false;
    $("logout").addEventListener("click", async () => {
      await fetch("/ui/api/logout", { method: "POST", credentials: "same-origin" });
      window.location.assign("/ui/login");
    });
  }
  const filters = $("filters");
  filters.addEventListener("change", applyFilters);
  filters.addEventListener("input", (e) => { if (e.target.name === "session_id") applyFilters(); });
  filters.addEventListener("reset", () => setTimeout(applyFilters));
  filters.addEventListener("submit", (e) => { e.preventDefault(); applyFilters(); });
  $("prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE_SIZE); refreshTasks(); });
  $("next").addEventListener("click", () => { state.offset += PAGE_SIZE; refreshTasks(); });
  $("lookup").addEventListener("submit", lookup);
  $("window").addEventListener("change", refreshStats);
  $("requeue").addEventListener("click", requeue);
  every(FAST_MS, refreshTasks);
  every(SLOW_MS, refreshStats);
  every(SLOW_MS, refreshLag);
  every(FAST_MS * 2, refreshDeadLetters);
}

start().catch((error) => {
  if (!(error instanceof Unauthenticated)) $("feed").textContent = `failed to start: ${error.message}`;
});
