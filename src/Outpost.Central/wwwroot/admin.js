import { api, askToken, showError, escape } from "./hq.js";

const done = document.getElementById("done");
const json = body => ({ method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const put = body => ({ ...json(body), method: "PUT" });

function form(id, submit) {
  const element = document.getElementById(id);
  element.addEventListener("submit", async e => {
    e.preventDefault();
    done.textContent = "";
    try {
      const result = await submit(Object.fromEntries(new FormData(element)), element);
      showError(null);
      done.textContent = result && result.events ? `Published ${result.events} event(s) (HQ log ${result.firstSeq}–${result.lastSeq}).` : "Done.";
      await Promise.all([stores(), audit(result && result.events ? result.lastSeq : null)]);
    } catch (error) {
      showError(error.message);
    }
  });
}

function parse(text, what) {
  try { return JSON.parse(text); } catch { throw new Error(`The ${what} is not valid JSON.`); }
}

form("product", f => api(`admin/products/${encodeURIComponent(f.gtin)}`, put({ name: f.name, category: f.category, taxClass: f.taxClass, unit: f.unit })));
form("import", async (_, element) => {
  const file = element.file.files[0];
  const type = file.name.toLowerCase().endsWith(".json") ? "application/json" : "text/csv";
  return api("admin/import/products", { method: "POST", headers: { "Content-Type": type }, body: await file.text() });
});
form("price", f => api("admin/prices", json({ gtin: f.gtin, amount: Number(f.amount), currency: f.currency, from: f.from, to: f.to || null, scope: f.scope })));
form("promotion", f => api("admin/promotions", json({ scope: f.scope, currency: f.currency, promotion: parse(f.definition, "promotion definition") })));
form("config", f => api(`admin/config/${encodeURIComponent(f.key)}`, put({ scope: f.scope, value: parse(f.value, "setting value") })));
form("store", async f => {
  const issued = await api("admin/stores", json({ storeId: f.storeId, region: f.region, latitude: f.latitude ? Number(f.latitude) : null, longitude: f.longitude ? Number(f.longitude) : null }));
  showSecret(issued);
});

function showSecret(issued) {
  const secret = document.getElementById("secret");
  secret.hidden = false;
  secret.textContent = `Store ${issued.storeId}: give it this secret once (it is not shown again):\n${issued.secret}`;
}

async function stores() {
  const list = await api("admin/stores");
  document.querySelector("#stores tbody").innerHTML = list.map(s => `<tr><td>${escape(s.storeId)}</td><td>${escape(s.region)}</td>
    <td class="${s.revoked ? "off" : "ok"}">${s.revoked ? "revoked" : "active"}</td>
    <td><button data-rotate="${escape(s.storeId)}">Rotate</button> <button data-revoke="${escape(s.storeId)}">Revoke</button></td></tr>`).join("");
}

async function audit(untilSeq) {
  // The audit trail is a read model: it follows HQ's log a moment behind (longer on a busy HQ). After a change, look
  // again until the change is in it (every 250 ms, then every second, for up to a minute), saying so meanwhile.
  const waiting = document.getElementById("audit-waiting");
  waiting.textContent = "HQ's audit trail shows this change in a moment…";
  try {
    for (let attempt = 1; ; attempt++) {
      const entries = await api("admin/audit?limit=200");
      document.querySelector("#audit tbody").innerHTML = entries.map(a => `<tr><td>${new Date(a.at).toLocaleString()}</td><td>${escape(a.actor)}</td>
        <td>${escape(a.type)}</td><td>${escape(a.key)}</td><td>${escape(a.scope)}</td></tr>`).join("");
      const shown = !untilSeq || entries.some(a => a.seq >= untilSeq);
      waiting.hidden = shown;
      if (shown) return;
      if (attempt >= 90) {
        waiting.textContent = `HQ's audit trail has not reached this change (HQ log ${untilSeq}) within a minute; it is published, and shows here once HQ catches up (reload).`;
        return;
      }
      await new Promise(resolve => setTimeout(resolve, attempt <= 40 ? 250 : 1000));
    }
  } catch (error) {
    waiting.hidden = true;
    throw error;
  }
}

document.querySelector("#stores").addEventListener("click", async e => {
  const rotate = e.target.dataset.rotate, revoke = e.target.dataset.revoke;
  if (!rotate && !revoke) return;
  try {
    if (rotate) showSecret(await api(`admin/stores/${encodeURIComponent(rotate)}/rotate`, { method: "POST" }));
    if (revoke && confirm(`Revoke ${revoke}? Its next request is refused.`)) await api(`admin/stores/${encodeURIComponent(revoke)}/revoke`, { method: "POST" });
    showError(null);
    await Promise.all([stores(), audit()]);
  } catch (error) {
    showError(error.message);
  }
});

askToken(document.getElementById("login"), document.getElementById("token"), () => Promise.all([stores(), audit()]).then(() => showError(null), e => showError(e.message)));
