// labels.html's script (a file of its own: the pages' content security policy allows no inline script).
import { api, attempt, feed, heartbeat, money, el } from "./app.js";
const $ = (id) => document.getElementById(id);
let shown = [];
async function load() {
  const labels = await attempt(() => api("/api/labels" + ($("only").checked ? "?reprint=true" : "")));
  if (!labels) return;
  shown = labels;
  const reprint = labels.filter((l) => l.printedPrice !== l.price).length;
  $("summary").textContent = `${labels.length} labels · ${reprint} to re-print`;
  $("labels").replaceChildren(...labels.map((l) => el("div", { class: "label" + (l.printedPrice !== l.price ? " reprint" : ""), "data-gtin": l.gtin },
    el("div", {}, el("b", {}, l.name)), el("div", { class: "price" }, money(l.price, l.currency) + (l.unit === "kg" ? " /kg" : "")),
    l.price !== l.shelfPrice ? el("div", { class: "muted" }, "was " + money(l.shelfPrice, l.currency)) : null,
    ...l.promotions.map((p) => el("div", { class: "saving" }, p)), el("div", { class: "muted" }, l.gtin))));
}
$("only").addEventListener("change", load);
$("print").addEventListener("click", async () => {
  window.print();
  await attempt(() => api("/api/labels/printed", { method: "POST", body: shown.map((l) => ({ gtin: l.gtin, price: l.price })) }));
  load();
});
feed((channel) => { if (channel === "menu") load(); }, load);
heartbeat();
