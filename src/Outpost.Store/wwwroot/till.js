import { api, attempt, feed, heartbeat, money, el, showError } from "./app.js";

let basket = null;
const $ = (id) => document.getElementById(id);

function keyFor(id) {
  // The same key for every retry of one completion, kept across reloads and server restarts.
  const name = "outpost.complete." + id;
  let key = localStorage.getItem(name);
  if (!key) { key = id + ":" + crypto.randomUUID(); localStorage.setItem(name, key); }
  return key;
}

function render() {
  const b = basket;
  $("lines").replaceChildren(...(b ? b.lines : []).map((l) => el("tr", {},
    el("td", {}, l.name), el("td", { class: "num" }, String(l.quantity)), el("td", { class: "num" }, money(l.unitPrice, b.currency)),
    el("td", { class: "num" }, money(l.amount, b.currency)),
    el("td", {}, b.status === "Open" ? el("button", { class: "danger", "aria-label": "Void " + l.name, onclick: () => change(() => api(`/api/baskets/${b.id}/lines/${l.no}`, { method: "DELETE" })) }, "×") : null))));
  $("promotions").replaceChildren(...(b ? b.promotions : []).map((p) => el("p", { class: "saving promotion" }, `${p.name}: −${money(p.saving, b.currency)}`)));
  $("subtotal").textContent = b ? money(b.subtotal, b.currency) : "–";
  $("saving").textContent = b ? money(b.saving, b.currency) : "–";
  $("total").textContent = b ? money(b.total, b.currency) : "–";
  $("due").textContent = b ? money(b.due, b.currency) : "–";
  $("member").textContent = b && b.member ? (b.member.known ? `Member ${b.member.name} · ${b.member.balance} points` : `Card ${b.member.presented} (not yet known here)`) : "";
  $("notices").textContent = b ? b.notices.join(" ") : "";
}

async function change(call) {
  const updated = await attempt(call);
  if (updated) { basket = updated; render(); }
  $("code").focus();
}

async function ensureBasket() {
  if (!basket || basket.status === "Completed" || basket.status === "Voided") {
    basket = await api("/api/baskets", { method: "POST", body: {} });
  }
  return basket;
}

$("scan").addEventListener("submit", async (e) => {
  e.preventDefault();
  const code = $("code").value.trim();
  if (!code) return;
  const quantity = $("quantity").value ? Number($("quantity").value) : undefined;
  await change(async () => { const b = await ensureBasket(); return api(`/api/baskets/${b.id}/lines`, { method: "POST", body: { code, quantity } }); });
  $("code").value = ""; $("quantity").value = "";
});
$("member-form").addEventListener("submit", (e) => { e.preventDefault(); change(async () => { const b = await ensureBasket(); return api(`/api/baskets/${b.id}/member`, { method: "POST", body: { code: $("card").value } }); }); });
$("cash-form").addEventListener("submit", (e) => { e.preventDefault(); if (basket) change(() => api(`/api/baskets/${basket.id}/payments`, { method: "POST", body: { method: "cash", amount: Number($("cash").value) } })); });
$("pay-card").addEventListener("click", () => { if (basket) change(() => api(`/api/baskets/${basket.id}/payments`, { method: "POST", body: { method: "card" } })); });
$("void").addEventListener("click", () => { if (basket) change(() => api(`/api/baskets/${basket.id}/void`, { method: "POST", body: { staffId: "till", reason: "voided at the till" } })); });
$("complete").addEventListener("click", async () => {
  if (!basket) return;
  const done = await attempt(() => api(`/api/baskets/${basket.id}/complete`, { method: "POST", body: { idempotencyKey: keyFor(basket.id) } }));
  if (!done) return; // the error is shown; pressing again retries with the same key
  localStorage.removeItem("outpost.complete." + basket.id);
  basket = await api(`/api/baskets/${basket.id}`);
  $("receipt").textContent = done.receipt; $("receipt").hidden = false; $("next").hidden = false;
  render();
});
$("next").addEventListener("click", () => { basket = null; $("receipt").hidden = true; $("next").hidden = true; render(); $("code").focus(); });

async function loadOrders() {
  const orders = await attempt(() => api("/api/orders?status=placed,preparing,ready"));
  if (!orders) return;
  $("orders").replaceChildren(...orders.map((o) => el("div", { class: `tile order ${o.status}`, "data-order": o.order.orderId },
    el("b", {}, `#${o.order.number} `), `${o.status} · ${money(o.order.total, o.order.currency)}`,
    o.status === "ready" ? el("button", { onclick: () => attempt(() => api(`/api/orders/${o.order.orderId}/status`, { method: "POST", body: { status: "collected" } })).then(loadOrders) }, "Collected") : null)));
}

async function resume() {
  // After a reload or a server restart, pick the open basket up again.
  const open = await attempt(() => api("/api/baskets"));
  if (open && open.length && (!basket || basket.status === "Open" || basket.status === "Tendering")) {
    basket = await attempt(() => api(`/api/baskets/${open[open.length - 1]}`)) || basket;
    render();
  }
}

feed((channel) => { if (channel === "orders") loadOrders(); }, () => { loadOrders(); resume(); });
heartbeat();
render();
window.addEventListener("error", (e) => showError("This page met an error: " + e.message));
