// collection.html's script (a file of its own: the pages' content security policy allows no inline script).
import { api, attempt, feed, heartbeat, el } from "./app.js";
async function load() {
  const orders = await attempt(() => api("/api/orders?status=placed,preparing,ready"));
  if (!orders) return;
  for (const group of ["preparing", "ready"]) {
    document.getElementById(group).replaceChildren(...orders.filter((o) => group === "ready" ? o.status === "ready" : o.status !== "ready")
      .map((o) => el("div", { class: "tile number" }, "#" + o.order.number + (o.order.customerName ? " " + o.order.customerName : ""))));
  }
}
feed((channel) => { if (channel === "orders") load(); }, load);
heartbeat();
