// The start page: pairs this device with a code from the back office (typed, or from the QR code's #pair=...), then
// opens the page for its role. The credential comes back as an HttpOnly cookie; this script never sees it.
import { api, attempt } from "./app.js";

const $ = (id) => document.getElementById(id);

async function pair(code) {
  const paired = await attempt(() => api("/api/pair", { method: "POST", body: { code } }));
  if (!paired) return;
  $("paired").textContent = `Paired as ${paired.device.name} (${paired.device.role}).`;
  location.replace(paired.page);
}

async function current() {
  try {
    const me = await api("/api/whoami");
    $("paired").textContent = `This device is ${me.name} (${me.role}): open ${me.page}.`;
  } catch {
    $("paired").textContent = "This device is not paired yet.";
  }
}

$("pair").addEventListener("submit", (e) => { e.preventDefault(); pair($("code").value.trim()); });
const fromQr = new URLSearchParams(location.hash.slice(1)).get("pair");
if (fromQr) {
  history.replaceState(null, "", location.pathname); // the code is used once; it leaves the address bar
  $("code").value = fromQr;
  pair(fromQr);
} else {
  current();
}
