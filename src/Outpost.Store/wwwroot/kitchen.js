// kitchen.html's script (a file of its own: the pages' content security policy allows no inline script).
import { api, attempt, feed, heartbeat, el } from "./app.js";
const next = { placed: ["preparing", "Start"], preparing: ["ready", "Ready"] };
async function load() {
  const orders = await attempt(() => api("/api/orders?status=placed,preparing"));
  if (!orders) return;
  document.getElementById("orders").replaceChildren(...orders.map((o) => el("div", { class: `tile order ${o.status}`, "data-order": o.order.orderId },
    el("div", { class: "number" }, "#" + o.order.number), el("div", { class: "muted" }, o.status + (o.order.customerName ? " · " + o.order.customerName : "")),
    el("ul", {}, ...o.order.lines.map((l) => el("li", {}, `${l.quantity} × ${l.name}`, l.without.length ? el("span", { class: "without" }, " — no " + l.without.join(", ")) : null))),
    el("button", { class: "primary", onclick: () => attempt(() => api(`/api/orders/${o.order.orderId}/status`, { method: "POST", body: { status: next[o.status][0] } })) }, next[o.status][1]))));
}
feed((channel) => { if (channel === "orders") load(); }, load);
heartbeat();
