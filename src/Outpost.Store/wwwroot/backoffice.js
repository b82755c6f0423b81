// backoffice.html's script (a file of its own: the pages' content security policy allows no inline script).
import { api, attempt, feed, heartbeat, money, el } from "./app.js";
const $ = (id) => document.getElementById(id);
async function connectivity() {
  const c = await attempt(() => api("/api/connectivity"));
  if (!c) return;
  $("state").textContent = c.state; $("state").dataset.state = c.state;
  $("since").textContent = "since " + new Date(c.since).toLocaleString();
  $("backlog").textContent = c.upBacklog ?? "–"; $("lag").textContent = c.downLag ?? "–";
  $("last-error").textContent = [c.notSent ? `${c.notSent} damaged record(s) of the log not sent to HQ (the latest: event ${c.lastNotSent})` : "",
    c.lastError ? "Last error: " + c.lastError : ""].filter(Boolean).join(" · ");
}
async function devices() {
  const list = await attempt(() => api("/api/devices"));
  if (!list) return;
  $("devices").replaceChildren(...list.map((d) => el("tr", {}, el("td", {}, d.device.name), el("td", {}, d.device.role),
    el("td", { class: "muted" }, d.device.revoked ? "revoked" : d.lastSeen ? "seen " + new Date(d.lastSeen).toLocaleTimeString() : "never seen"),
    el("td", {}, d.device.revoked ? null : el("button", { class: "danger", onclick: () => attempt(() => api("/api/devices/" + d.device.id, { method: "DELETE" })).then(devices) }, "Revoke")))));
}
// Alarms services raise (a fridge too warm for too long): the open ones, oldest first, looked at again every 5 s.
async function alarms() {
  const open = await attempt(() => api("/api/alarms"));
  if (!open) return;
  $("no-alarms").hidden = open.length > 0;
  $("alarms").replaceChildren(...open.map((a) => el("tr", { class: a.severity === "critical" ? "off" : "" },
    el("td", {}, a.subject), el("td", {}, a.message), el("td", { class: "muted" }, `${a.source}, since ${new Date(a.since).toLocaleString()}`))));
}
async function unavailable() {
  const u = await attempt(() => api("/api/stock/unavailable"));
  if (u) $("unavailable").textContent = "Out now: " + ([...u.products, ...u.ingredients].join(", ") || "nothing");
}
$("enrol").addEventListener("submit", async (e) => {
  e.preventDefault();
  const p = await attempt(() => api("/api/devices/pairings", { method: "POST", body: { name: $("d-name").value, role: $("d-role").value } }));
  if (!p) return;
  $("pairing-code").textContent = `Pairing code for ${p.name} (${p.role}): ${p.code}, until ${new Date(p.expiresAt).toLocaleTimeString()}. On the device, open ${location.origin}/ and enter it, or scan the QR code.`;
  $("pairing-qr").src = "data:image/svg+xml;base64," + btoa(p.qrSvg);
  $("pairing").hidden = false;
  devices();
});
$("campaign").addEventListener("submit", async (e) => {
  e.preventDefault();
  const ok = await attempt(() => api("/api/campaigns/prices", { method: "POST", body: { id: $("c-id").value, gtin: $("c-gtin").value, amount: Number($("c-amount").value), from: $("c-from").value, to: $("c-to").value, createdBy: $("c-by").value } }));
  if (ok !== undefined) $("c-id").value = "";
});
$("promotion").addEventListener("submit", async (e) => {
  e.preventDefault();
  const type = $("p-type").value, x = Number($("p-x").value), y = $("p-y").value === "" ? null : Number($("p-y").value);
  const promotion = { id: $("p-id").value, name: $("p-name").value, type, products: $("p-gtins").value.split(",").map((g) => g.trim()).filter(Boolean),
    ...(type === "multiBuy" ? { buy: x, pay: y } : type === "fixedPrice" ? { quantity: x, price: y } : type === "percentOff" ? { percent: x } : { amount: x }) };
  const ok = await attempt(() => api("/api/campaigns/promotions", { method: "POST", body: { id: $("p-id").value, promotion, from: $("p-from").value, to: $("p-to").value, createdBy: $("p-by").value } }));
  if (ok !== undefined) $("p-id").value = "";
});
const mark = (available) => attempt(() => api("/api/stock/availability", { method: "POST", body: { kind: $("a-kind").value, id: $("a-id").value, available } }));
$("availability").addEventListener("submit", (e) => { e.preventDefault(); mark(false); });
$("mark-in").addEventListener("click", () => mark(true));
feed((channel, data) => {
  if (channel === "connectivity") connectivity();
  if (channel === "availability") unavailable();
  if (data && data.saleId) $("sales").prepend(el("tr", {}, el("td", {}, new Date(data.localTime).toLocaleTimeString()), el("td", {}, data.tillId), el("td", { class: "num" }, money(data.total, data.currency))));
}, () => { connectivity(); devices(); unavailable(); alarms(); });
heartbeat();
setInterval(connectivity, 5000);
setInterval(alarms, 5000);
