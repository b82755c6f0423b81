import { api, askToken, showError, escape, ago } from "./hq.js";

// The whole fleet at a glance: refreshed every 5 s, sorted by any column, filtered as you type.
let stores = [];
let sort = { key: "alerts", descending: true };
const body = document.querySelector("#fleet tbody");
const filter = document.getElementById("filter");
const problems = document.getElementById("problems");

function gib(bytes) { return (bytes / 1073741824).toFixed(1); }

function problem(s) { return !s.connected || s.alerts.length > 0 || s.error || s.revoked || (s.devices?.offline ?? 0) > 0; }

function value(s, key) {
  const v = s[key];
  if (key === "alerts") return v.length;
  if (key === "connected") return v ? 1 : 0;
  if (key === "devices") return v ? v.offline * 1e6 + v.total : -1;
  if (key === "disk") return s.health ? s.health.diskFreePercent : 101;
  if (key === "lastLog") return v ? v.at : "";
  return v ?? "";
}

// One collator for every comparison: localeCompare with options builds one per call, about 30 times slower a sort.
const collate = new Intl.Collator(undefined, { numeric: true }).compare;

function render() {
  const words = filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const rows = stores
    .filter(s => !problems.checked || problem(s))
    .filter(s => words.every(w => [s.storeId, s.region, s.version, s.error, s.lastLog?.message, ...s.alerts].join(" ").toLowerCase().includes(w)))
    .sort((a, b) => {
      const x = value(a, sort.key), y = value(b, sort.key);
      const order = typeof x === "number" && typeof y === "number" ? x - y : collate(String(x), String(y));
      return (sort.descending ? -order : order) || collate(a.storeId, b.storeId);
    });
  body.innerHTML = rows.map(s => `<tr>
    <td>${escape(s.storeId)}</td><td>${escape(s.region)}</td>
    <td class="${s.connected ? "ok" : "off"}">${s.revoked ? "revoked" : s.connected ? "connected" : "not connected"}</td>
    <td title="${escape(s.lastSeen)}">${ago(s.lastSeen)}</td><td>${escape(s.version ?? "–")}</td>
    <td class="num">${s.devices ? `<a href="#devices-section" class="devices ${s.devices.offline ? "off" : ""}" data-store="${escape(s.storeId)}"
      title="${s.devices.offline} offline">${s.devices.total - s.devices.offline} / ${s.devices.total}</a>` : "–"}</td>
    <td class="num" title="${s.health ? `${gib(s.health.diskFreeBytes)} of ${gib(s.health.diskSizeBytes)} GiB free, reported ${escape(s.health.at)}; CPU ${s.health.cpuPercent} %, ${s.health.errorsPerMinute} errors/min, payment host ${escape(s.health.paymentHost)}${s.health.parkedEvents ? `, ${s.health.parkedEvents} parked` : ""}` : "no health report yet"}">${s.health ? `${s.health.diskFreePercent} %` : "–"}</td>
    <td class="num">${s.backlog ?? "–"}</td><td class="num">${s.lag ?? "–"}</td><td class="num">${s.eventsToday}</td>
    <td>${s.alerts.map(a => `<span class="alert">${escape(a)}</span>`).join("")}</td><td class="muted">${escape(s.error ?? "")}</td>
    <td class="muted last-log" title="${s.lastLog ? escape(`${s.lastLog.level} at ${s.lastLog.at} from ${s.lastLog.category}: ${s.lastLog.message}${s.lastLog.exception ? "\n" + s.lastLog.exception : ""}`) : ""}">${s.lastLog ? `${escape(s.lastLog.level)} ${ago(s.lastLog.at)}: ${escape(s.lastLog.message.slice(0, 80))}` : ""}</td></tr>`).join("");
  document.querySelectorAll("#fleet th").forEach(th => th.setAttribute("aria-sort", th.dataset.key === sort.key ? (sort.descending ? "descending" : "ascending") : "none"));
}

function summarise() {
  const count = f => stores.filter(f).length;
  document.getElementById("n-stores").textContent = stores.length;
  document.getElementById("n-connected").textContent = count(s => s.connected);
  document.getElementById("n-offline").textContent = count(s => !s.connected);
  document.getElementById("n-alerting").textContent = count(s => s.alerts.length > 0);
  document.getElementById("n-backlog").textContent = stores.reduce((t, s) => t + (s.backlog ?? 0), 0);
  document.getElementById("n-events").textContent = stores.reduce((t, s) => t + s.eventsToday, 0);
  document.getElementById("n-devices-offline").textContent = stores.reduce((t, s) => t + (s.devices?.offline ?? 0), 0);
  document.getElementById("n-devices").textContent = ` of ${stores.reduce((t, s) => t + (s.devices?.total ?? 0), 0)}`;
  // Which software the fleet runs, most common first (a store that never reported counts as unknown).
  const versions = {};
  stores.forEach(s => { const v = s.version ?? "unknown"; versions[v] = (versions[v] ?? 0) + 1; });
  document.getElementById("n-versions").textContent = Object.entries(versions).sort((a, b) => b[1] - a[1])
    .map(([v, n]) => `${v} ×${n}`).join(" · ") || "–";
}

// The read model's message, without the exception's type and stack (kept in the cell's tooltip).
function reason(error) { return error.split(/\r?\n/)[0].replace(/^[\w.]+Exception: /, ""); }

function renderAlarms(alarms) {
  document.getElementById("alarms-section").hidden = alarms.length === 0;
  document.querySelector("#alarms tbody").innerHTML = alarms.map(a => `<tr class="${a.severity === "critical" ? "off" : ""}">
    <td title="${escape(a.since)}">${ago(a.since)}</td><td>${escape(a.store)}</td><td>${escape(a.subject)}</td>
    <td>${escape(a.message)}</td><td class="muted">${escape(a.source)}</td></tr>`).join("");
}

function renderParked(parked) {
  document.getElementById("n-parked").textContent = parked.total;
  document.getElementById("parked-section").hidden = parked.total === 0;
  document.querySelector("#parked tbody").innerHTML = parked.latest.map(p => `<tr>
    <td title="${escape(p.parkedAt)}">${ago(p.parkedAt)}</td><td>${escape(p.origin ?? "–")}</td><td>${escape(p.consumer)}</td>
    <td>${escape(p.topic)} · ${escape(p.type)}</td><td class="num">${p.seq}</td><td class="muted" title="${escape(p.error)}">${escape(reason(p.error))}</td></tr>`).join("");
}

// Rollouts: the ones in progress first, then the last three that ended; each wave with its stores' steps, the
// stores that are stuck with their reason, and the actions a release admin may take (HQ refuses anyone else).
const stepOrder = ["RolledBack", "Failed", "Starting", "Downloading", "WaitingForWindow", "Healthy"];

function renderRollouts(rollouts) {
  const active = rollouts.filter(r => r.status === "Running" || r.status === "Halted");
  const ended = rollouts.filter(r => !active.includes(r)).slice(-3).reverse();
  const shown = [...active, ...ended];
  document.getElementById("rollouts-section").hidden = shown.length === 0;
  document.getElementById("rollouts").innerHTML = shown.map(r => {
    const stuck = r.waves.flatMap(w => w.stores).filter(s => s.step === "Failed" || s.step === "RolledBack");
    const actions = [["halt", r.status === "Running"], ["resume", r.status === "Halted"], ["abort", r.status === "Running" || r.status === "Halted"]]
      .filter(([, allowed]) => allowed)
      .map(([action]) => `<button data-rollout="${escape(r.rolloutId)}" data-action="${action}">${action[0].toUpperCase() + action.slice(1)}</button>`).join("");
    const waves = r.waves.map((w, i) => {
      const steps = stepOrder.map(step => [step, w.stores.filter(s => s.step === step).length]).filter(([, n]) => n > 0)
        .map(([step, n]) => `${n} ${step.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase()}`).join(", ");
      const state = !w.opened ? "waiting" : w.healthy === w.stores.length ? "healthy" : "open";
      return `<tr data-wave="${escape(w.name)}"><td>${i + 1}. ${escape(w.name)}</td><td class="${state === "healthy" ? "ok" : w.failed ? "off" : ""}">${state}</td>
        <td class="num">${w.healthy} / ${w.stores.length}</td><td>${steps || (w.opened ? "no report yet" : "–")}</td></tr>`;
    }).join("");
    return `<article class="rollout" data-rollout="${escape(r.rolloutId)}" data-status="${r.status}">
      <div class="row"><b>${escape(r.version)}</b><span class="muted">${escape(r.rolloutId)} · started by ${escape(r.startedBy)}</span>
        <span class="status ${r.status === "Halted" ? "off" : r.status === "Running" ? "" : "ok"}">${r.status.toLowerCase()}</span>
        ${r.reason ? `<span class="reason">${escape(r.reason)}</span>` : ""}</div>
      ${actions ? `<div class="row"><input class="action-reason" placeholder="Reason (for the audit trail)" aria-label="Reason">${actions}</div>` : ""}
      <table><thead><tr><th>Wave</th><th>State</th><th class="num">Healthy</th><th>Steps</th></tr></thead><tbody>${waves}</tbody></table>
      ${stuck.length ? `<p class="stuck">Stuck: ${stuck.map(s => `${escape(s.storeId)} (${escape(s.step)}${s.reason ? ": " + escape(s.reason) : ""})`).join("; ")}</p>` : ""}
    </article>`;
  }).join("");
}

document.getElementById("rollouts").addEventListener("click", async e => {
  const button = e.target.closest("button[data-action]");
  if (!button) return;
  const reason = button.parentElement.querySelector(".action-reason").value.trim() || null;
  try {
    await api(`admin/rollouts/${encodeURIComponent(button.dataset.rollout)}/${button.dataset.action}`,
      { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ reason }) });
    await refresh();
  } catch (error) {
    showError(error.message);
  }
});

// A wave a line: "name: all", "name: region north [50%]" or "name: store-1, store-2".
export function parseWaves(text) {
  return text.split("\n").map(l => l.trim()).filter(Boolean).map(line => {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error(`The wave "${line}" has no name: write "name: stores", "name: region R [N%]" or "name: all".`);
    const name = line.slice(0, colon).trim(), spec = line.slice(colon + 1).trim();
    if (spec === "all") return { name, all: true };
    const region = /^region\s+(\S+)(?:\s+(\d+)\s*%)?$/.exec(spec);
    if (region) return { name, region: region[1], percent: region[2] ? Number(region[2]) : null };
    const stores = spec.split(/[\s,]+/).filter(Boolean);
    if (!stores.length) throw new Error(`The wave "${name}" names no store.`);
    return { name, stores };
  });
}

function releaseForm(id, submit) {
  const element = document.getElementById(id);
  element.addEventListener("submit", async e => {
    e.preventDefault();
    const done = document.getElementById("release-done");
    done.textContent = "";
    try {
      done.textContent = await submit(Object.fromEntries(new FormData(element)));
      showError(null);
      await refresh();
    } catch (error) {
      showError(error.message);
    }
  });
}

const post = body => ({ method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
releaseForm("release", async f => {
  let settings = null;
  if (f.settings.trim()) {
    try { settings = JSON.parse(f.settings); } catch { throw new Error("The release settings are not valid JSON: write an object such as {\"Retail:Checkout:OfflineFloorLimit\": 75}."); }
  }
  const release = await api("admin/releases", post({ version: f.version.trim(), image: f.image.trim(), settings }));
  return `Release ${release.version} recorded by ${release.recordedBy}.`;
});
releaseForm("rollout", async f => {
  const rollout = await api("admin/rollouts", post({
    release: f.release.trim(), waves: parseWaves(f.waves), soakSeconds: Number(f.soak), healthyPercent: Number(f.healthy),
    windowStart: f.windowStart || null, windowEnd: f.windowEnd || null, force: f.force === "on",
  }));
  return `Rollout ${rollout.rolloutId} of ${rollout.version} started.`;
});

// HQ's own certificate and the store CRL: what stops stores connecting, before they stop.
function renderTls(tls) {
  const list = document.getElementById("tls-warnings");
  list.innerHTML = tls.warnings.map(w => `<li>${escape(w)}</li>`).join("");
  list.hidden = tls.warnings.length === 0;
}

// The devices: a page at a time from HQ (40,000 of them never come to the browser at once), filtered and searched there.
const devicePage = 50;
const deviceQuery = { q: "", store: "", state: "", offset: 0 };
const deviceSearch = document.getElementById("device-search");
const deviceStore = document.getElementById("device-store");
const deviceState = document.getElementById("device-state");

function duration(seconds) { return seconds % 3600 === 0 ? `${seconds / 3600} h` : seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`; }

async function refreshDevices() {
  const params = new URLSearchParams({ offset: deviceQuery.offset, limit: devicePage });
  for (const key of ["q", "store", "state"]) if (deviceQuery[key]) params.set(key, deviceQuery[key]);
  const page = await api("admin/devices?" + params);
  document.getElementById("device-offline-after").textContent = duration(page.offlineAfterSeconds);
  const last = Math.min(page.offset + page.devices.length, page.total);
  document.getElementById("device-range").textContent = page.total === 0 ? "no device matches"
    : `${page.offset + 1}–${last} of ${page.total} · ${page.offline} offline`;
  document.getElementById("device-prev").disabled = page.offset === 0;
  document.getElementById("device-next").disabled = last >= page.total;
  document.querySelector("#devices tbody").innerHTML = page.devices.map(d => `<tr data-device="${escape(d.deviceId)}" class="${d.offline ? "offline" : ""}">
    <td>${escape(d.storeId)}</td><td>${escape(d.region)}</td><td>${escape(d.deviceId)}</td><td>${escape(d.name ?? "–")}</td><td>${escape(d.role)}</td>
    <td>${escape(d.appVersion ?? "–")}</td><td title="${escape(d.lastSeen ?? "")}">${ago(d.lastSeen)}</td>
    <td class="${d.offline ? "off" : "ok"}">${d.offline ? "offline" : "online"}</td></tr>`).join("");
}

async function showDevices(change) {
  Object.assign(deviceQuery, change);
  try {
    await refreshDevices();
    showError(null);
  } catch (error) {
    showError(error.message);
  }
}

let typing;
deviceSearch.addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(() => showDevices({ q: deviceSearch.value.trim(), offset: 0 }), 250); });
deviceStore.addEventListener("change", () => showDevices({ store: deviceStore.value.trim(), offset: 0 }));
deviceState.addEventListener("change", () => showDevices({ state: deviceState.value, offset: 0 }));
document.getElementById("device-filter").addEventListener("submit", e => { e.preventDefault(); showDevices({ q: deviceSearch.value.trim(), store: deviceStore.value.trim(), offset: 0 }); });
document.getElementById("device-prev").addEventListener("click", () => showDevices({ offset: Math.max(0, deviceQuery.offset - devicePage) }));
document.getElementById("device-next").addEventListener("click", () => showDevices({ offset: deviceQuery.offset + devicePage }));
// From a store's row to its devices.
body.addEventListener("click", e => {
  const link = e.target.closest("a.devices");
  if (!link) return;
  deviceStore.value = link.dataset.store;
  deviceSearch.value = "";
  showDevices({ store: link.dataset.store, q: "", offset: 0 });
});

async function refresh() {
  try {
    const [fleet, parked, rollouts, tls, alarms] = await Promise.all([api("admin/fleet"), api("admin/parked"), api("admin/rollouts"), api("admin/tls"), api("admin/alarms")]);
    renderTls(tls);
    stores = fleet;
    showError(null);
    summarise();
    render();
    renderParked(parked);
    renderAlarms(alarms);
    renderRollouts(rollouts);
    await refreshDevices();
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) {
    showError(e.message);
  }
}

document.querySelectorAll("#fleet th").forEach(th => th.addEventListener("click", () => {
  sort = { key: th.dataset.key, descending: sort.key === th.dataset.key ? !sort.descending : false };
  render();
}));
filter.addEventListener("input", render);
problems.addEventListener("change", render);
// The next refresh is 5 s after the last one ended, never on top of it: on a slow machine a fixed interval would queue
// refreshes faster than they finish and leave the page no time to answer a click.
let timer, generation = 0;
function follow() {
  clearTimeout(timer);
  const mine = ++generation;
  (async function next() {
    await refresh();
    if (mine === generation) timer = setTimeout(next, 5000);
  })();
}
askToken(document.getElementById("login"), document.getElementById("token"), follow);
