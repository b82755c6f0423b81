// kiosk.html's script (a file of its own: the pages' content security policy allows no inline script).
import { api, attempt, feed, heartbeat, money, el } from "./app.js";
const cart = [];
// One key per order, kept through retries until the order is placed: a second tap after a lost answer (the store
// server restarting, Wi-Fi dropping) gets the order the first tap placed, never a second one for the kitchen.
// (crypto.randomUUID needs a secure page; getRandomValues works on the store's plain-HTTP LAN too.)
const newKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
let orderKey = newKey();
let menu = [];
const $ = (id) => document.getElementById(id);
function renderMenu() {
  $("menu").replaceChildren(...menu.filter((m) => m.available).map((m) => el("div", { class: "tile", "data-item": m.name },
    el("div", {}, el("b", {}, m.name)), el("div", { class: "price" }, money(m.price)),
    m.without.length ? el("div", { class: "without" }, "Served without " + m.without.join(", ")) : null,
    el("button", { class: "primary", onclick: () => { cart.push({ code: m.code, name: m.name, quantity: 1, without: [] }); renderCart(); } }, "Add"))));
}
function renderCart() {
  $("cart").replaceChildren(...cart.map((c, i) => el("p", { class: "row" }, `${c.quantity} × ${c.name}`, el("button", { class: "danger", onclick: () => { cart.splice(i, 1); renderCart(); } }, "Remove"))));
}
async function loadMenu() { menu = (await attempt(() => api("/api/menu"))) || menu; renderMenu(); }
$("place").addEventListener("click", async () => {
  if (!cart.length) return;
  const placed = await attempt(() => api("/api/orders", { method: "POST", body: { lines: cart.map(({ code, quantity, without }) => ({ code, quantity, without })), customerName: $("name").value || null, idempotencyKey: orderKey } }));
  if (!placed) return;
  orderKey = newKey();
  $("confirmation").textContent = `Order #${placed.order.number} · ${money(placed.order.total, placed.order.currency)}`;
  cart.length = 0; renderCart();
});
feed((channel) => { if (channel !== "orders") loadMenu(); }, loadMenu);
heartbeat();
