// menu.html's script (a file of its own: the pages' content security policy allows no inline script).
import { api, attempt, feed, heartbeat, money, el } from "./app.js";
async function load() {
  const menu = await attempt(() => api("/api/menu"));
  if (!menu) return;
  const categories = [...new Set(menu.map((m) => m.category))];
  document.getElementById("board").replaceChildren(...categories.map((c) => el("section", {}, el("h2", {}, c),
    el("div", { class: "tiles" }, ...menu.filter((m) => m.category === c && m.available).map((m) => el("div", { class: "tile", "data-item": m.name },
      el("div", {}, el("b", {}, m.name)), el("div", { class: "price" }, money(m.price)),
      m.without.length ? el("div", { class: "without" }, "Today without " + m.without.join(", ")) : null))))));
}
feed((channel) => { if (channel === "menu" || channel === "availability") load(); }, load);
heartbeat();
