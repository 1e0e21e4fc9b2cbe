// The dashboard refreshes itself from the JSON APIs with the session cookie; every value
// is written with textContent, never as HTML.
"use strict";

const REFRESH_MS = Number(document.body.dataset.refreshMs) || 5000;
const STATUSES = ["completed", "failed", "canceled", "running", "queued"];

function byId(id) {
  return document.getElementById(id);
}

function setText(id, value) {
  byId(id).textContent = value === null || value === undefined ? "–" : String(value);
}

function percent(rate) {
  return rate === null || rate === undefined ? "–" : (rate * 100).toFixed(1) + " %";
}

function millis(ms) {
  if (ms === null || ms === undefined) return "–";
  return ms >= 1000 ? (ms / 1000).toFixed(2) + " s" : Math.round(ms) + " ms";
}

function cell(row, value, className) {
  const td = document.createElement("td");
  if (value instanceof Node) td.appendChild(value);
  else td.textContent = value === null || value === undefined ? "–" : String(value);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function fillTable(id, items, addCells) {
  const body = byId(id).querySelector("tbody");
  const rows = items.map((item) => {
    const row = document.createElement("tr");
    addCells(row, item);
    return row;
  });
  body.replaceChildren(...rows);
}

async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (response.status === 401 || response.status === 403) {
    window.location.assign("/dashboard/login?next=/dashboard/");
    throw new Error("signed out");
  }
  if (!response.ok) throw new Error(url + " answered " + response.status);
  return response.json();
}

function showOverview(data) {
  for (const [window_, prefix] of [["last_hour", "hour"], ["last_day", "day"]]) {
    for (const status of STATUSES) setText(prefix + "-" + status, data.executions[window_][status]);
    setText(prefix + "-success", percent(data.success_rate[window_]));
  }
  setText("duration-p50", millis(data.duration_ms.p50));
  setText("duration-p95", millis(data.duration_ms.p95));
  setText("duration-samples", data.duration_ms.samples);
  const queues = byId("queues");
  const entries = [];
  for (const [name, depth] of Object.entries(data.queues || {})) {
    const dt = document.createElement("dt");
    dt.textContent = "queue " + name;
    const dd = document.createElement("dd");
    dd.id = "queue-" + name;
    dd.textContent = String(depth);
    entries.push(dt, dd);
  }
  queues.replaceChildren(...entries);
  setText("workers-online", data.workers ? data.workers.online : null);
  for (const kind of ["timer", "child", "decision"]) setText("waiting-" + kind, (data.waiting || {})[kind]);
  fillTable("workers", data.workers ? data.workers.list : [], (row, worker) => {
    cell(row, worker.name);
    cell(row, worker.queues.join(", "));
    cell(row, worker.last_beat_s + " s ago", "num");
  });
  fillTable("failures", data.recent_failures, (row, failure) => {
    let target = failure.id.slice(0, 8);
    if (failure.admin_url) {
      target = document.createElement("a");
      target.href = failure.admin_url;
      target.textContent = failure.id.slice(0, 8);
    }
    cell(row, target);
    cell(row, failure.workflow_name);
    cell(row, failure.trigger);
    cell(row, failure.node_id);
    cell(row, [failure.error_code, failure.error_message].filter(Boolean).join(": "));
    cell(row, failure.finished_at ? new Date(failure.finished_at).toLocaleTimeString() : null);
  });
  return data.unavailable || [];
}

function showWorkflows(data, staff) {
  fillTable("workflows", data.results, (row, workflow) => {
    cell(row, workflow.name);
    if (staff) cell(row, workflow.owner);
    cell(row, workflow.runs, "num");
    cell(row, workflow.completed, "num");
    cell(row, workflow.failed, "num");
    cell(row, percent(workflow.success_rate), "num");
    cell(row, millis(workflow.mean_duration_ms), "num");
  });
}

// Groups the provider series of /api/dashboard/metrics by provider.
function providerRows(families) {
  const providers = {};
  const get = (name) => (providers[name] = providers[name] || { quota: {}, circuits: {}, errors: 0, tokens: {} });
  const family = {};
  for (const item of families) family[item.name] = item.samples;
  for (const s of family.switchboard_ai_provider_configured || []) get(s.labels.provider).configured = s.value;
  for (const s of family.switchboard_ai_provider_emulated || []) get(s.labels.provider).emulated = s.value;
  for (const s of family.switchboard_ai_calls || []) if (s.name.endsWith("_total")) get(s.labels.provider).calls = s.value;
  for (const s of family.switchboard_ai_errors || []) if (s.name.endsWith("_total")) get(s.labels.provider).errors += s.value;
  for (const s of family.switchboard_ai_tokens || []) if (s.name.endsWith("_total")) get(s.labels.provider).tokens[s.labels.direction] = s.value;
  for (const s of family.switchboard_ai_cost_usd || []) if (s.name.endsWith("_total")) get(s.labels.provider).cost = s.value;
  for (const s of family.switchboard_ai_latency_ms || []) get(s.labels.provider)["p" + (s.labels.quantile === "0.5" ? "50" : "95")] = s.value;
  for (const s of family.switchboard_ai_circuit_state || []) if (s.value === 1) get(s.labels.provider).circuits[s.labels.model] = s.labels.state;
  for (const s of family.switchboard_ai_quota_left || []) get(s.labels.provider).quota[s.labels.quota] = s.value;
  return Object.entries(providers).sort(([a], [b]) => a.localeCompare(b));
}

function worstCircuit(circuits) {
  const states = Object.values(circuits);
  return ["open", "half_open", "closed"].find((state) => states.includes(state)) || "closed";
}

function showProviders(data) {
  fillTable("providers", providerRows(data.families), (row, [name, p]) => {
    cell(row, name);
    cell(row, p.configured ? (p.emulated ? "emulated" : "yes") : "no");
    const state = worstCircuit(p.circuits);
    cell(row, state.replace("_", "-"), "state-" + state);
    const quota = Object.entries(p.quota).map(([window_, left]) => window_ + " " + left).join(", ");
    cell(row, quota || "unlimited");
    cell(row, p.calls, "num");
    cell(row, p.calls ? p.errors + " (" + percent(p.errors / p.calls) + ")" : p.errors, "num");
    cell(row, p.p50, "num");
    cell(row, p.p95, "num");
    cell(row, (p.tokens.input || 0) + " / " + (p.tokens.output || 0), "num");
    cell(row, p.cost === undefined ? null : p.cost.toFixed(6), "num");
  });
}

function time(iso) {
  return iso ? new Date(iso).toLocaleString() : null;
}

function showTriggers(data) {
  fillTable("upcoming", data.upcoming, (row, schedule) => {
    cell(row, schedule.name);
    cell(row, schedule.workflow_name);
    cell(row, schedule.when + " (" + schedule.timezone + ")");
    cell(row, time(schedule.next_fire_at));
  });
  fillTable("webhooks", data.webhooks, (row, hook) => {
    const last = hook.last_delivery;
    cell(row, hook.name);
    cell(row, hook.workflow_name);
    cell(row, hook.mode);
    cell(row, last ? time(last.received_at) : "never");
    cell(row, last ? [last.response_status, last.error_code].filter(Boolean).join(" ") : null, "num");
    cell(row, last ? millis(last.latency_ms) : null, "num");
  });
  fillTable("failing-triggers", data.failing, (row, failing) => {
    cell(row, failing.kind);
    cell(row, failing.name);
    cell(row, failing.workflow_name);
    cell(row, failing.reason);
    cell(row, time(failing.at));
  });
}

function refreshCharts(stamp) {
  for (const id of ["chart-executions", "chart-durations"]) {
    const image = byId(id);
    image.src = image.dataset.src + "?t=" + stamp;
  }
}

async function refresh() {
  const staff = document.body.dataset.staff === "1";
  const problems = [];
  const results = await Promise.allSettled([
    getJson("/api/dashboard/overview"),
    getJson("/api/dashboard/workflows"),
    getJson("/api/dashboard/metrics"),
    getJson("/api/dashboard/triggers"),
  ]);
  const [overview, workflows, metrics, triggers] = results;
  if (overview.status === "fulfilled") problems.push(...showOverview(overview.value));
  if (workflows.status === "fulfilled") showWorkflows(workflows.value, staff);
  if (metrics.status === "fulfilled") showProviders(metrics.value);
  if (triggers.status === "fulfilled") showTriggers(triggers.value);
  for (const result of results) if (result.status === "rejected") problems.push(result.reason.message);
  refreshCharts(Date.now());
  setText("updated", new Date().toLocaleTimeString());
  byId("problems").textContent = problems.length ? "unavailable: " + problems.join(", ") : "";
  document.body.dataset.loaded = "true";
}

async function loop() {
  try {
    await refresh();
  } finally {
    window.setTimeout(loop, REFRESH_MS);
  }
}

loop();
