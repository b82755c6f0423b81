import { api, askToken, showError, escape, ago } from "./hq.js";

// The whole fleet at a glance: refreshed every 5 s, sorted by any column, filtered as you type.
let stores = [];
let sort = { key: "alerts", descending: true };
const body = document.querySelector("#fleet tbody");
const filter = document.getElementById("filter");
const problems = document.getElementById("problems");

function problem(s) { return !s.connected || s.alerts.length > 0 || s.error || s.revoked; }

function value(s, key) {
  const v = s[key];
  if (key === "alerts") return v.length;
  if (key === "connected") return v ? 1 : 0;
  return v ?? "";
}

function render() {
  const words = filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const rows = stores
    .filter(s => !problems.checked || problem(s))
    .filter(s => words.every(w => [s.storeId, s.region, s.version, s.error, ...s.alerts].join(" ").toLowerCase().includes(w)))
    .sort((a, b) => {
      const x = value(a, sort.key), y = value(b, sort.key);
      const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
      return (sort.descending ? -order : order) || a.storeId.localeCompare(b.storeId, undefined, { numeric: true });
    });
  body.innerHTML = rows.map(s => `<tr>
    <td>${escape(s.storeId)}</td><td>${escape(s.region)}</td>
    <td class="${s.connected ? "ok" : "off"}">${s.revoked ? "revoked" : s.connected ? "connected" : "not connected"}</td>
    <td title="${escape(s.lastSeen)}">${ago(s.lastSeen)}</td><td>${escape(s.version ?? "–")}</td>
    <td class="num">${s.backlog ?? "–"}</td><td class="num">${s.lag ?? "–"}</td><td class="num">${s.eventsToday}</td>
    <td>${s.alerts.map(a => `<span class="alert">${escape(a)}</span>`).join("")}</td><td class="muted">${escape(s.error ?? "")}</td></tr>`).join("");
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
}

// The read model's message, without the exception's type and stack (kept in the cell's tooltip).
function reason(error) { return error.split(/\r?\n/)[0].replace(/^[\w.]+Exception: /, ""); }

function renderParked(parked) {
  document.getElementById("n-parked").textContent = parked.total;
  document.getElementById("parked-section").hidden = parked.total === 0;
  document.querySelector("#parked tbody").innerHTML = parked.latest.map(p => `<tr>
    <td title="${escape(p.parkedAt)}">${ago(p.parkedAt)}</td><td>${escape(p.origin ?? "–")}</td><td>${escape(p.consumer)}</td>
    <td>${escape(p.topic)} · ${escape(p.type)}</td><td class="num">${p.seq}</td><td class="muted" title="${escape(p.error)}">${escape(reason(p.error))}</td></tr>`).join("");
}

async function refresh() {
  try {
    const [fleet, parked] = await Promise.all([api("admin/fleet"), api("admin/parked")]);
    stores = fleet;
    showError(null);
    summarise();
    render();
    renderParked(parked);
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
let timer;
askToken(document.getElementById("login"), document.getElementById("token"), () => { clearInterval(timer); refresh(); timer = setInterval(refresh, 5000); });
