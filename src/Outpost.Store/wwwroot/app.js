// Shared by every device page: API calls with clear errors, the live feed, heartbeats. A page's credential is the
// HttpOnly cookie it got when the device was paired (the start page): script never sees it, and it is never in an
// address. Every request says it comes from the store's own pages (X-Outpost-Request), which another site cannot.
export const version = "outpost-pages/2";

export function showError(message) {
  let bar = document.getElementById("error");
  if (!bar) { bar = document.createElement("div"); bar.id = "error"; bar.setAttribute("role", "alert"); document.body.prepend(bar); }
  bar.textContent = message;
  bar.hidden = !message;
  if (message) { clearTimeout(showError.timer); showError.timer = setTimeout(() => { bar.hidden = true; }, 8000); }
}

export async function api(path, { method = "GET", body } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: { "X-Outpost-Request": "1", ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new Error("The store server cannot be reached. Check the network cable or Wi-Fi; the page retries by itself.");
  }
  if (response.status === 204) return null;
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    if (response.status === 401) throw new Error("This device is not paired (or was revoked). Open the start page and enter a pairing code from the back office.");
    throw new Error((data && (data.detail || data.title)) || `The store server answered ${response.status}.`);
  }
  return data;
}

// Runs an action, showing any error to the person in words.
export async function attempt(action) {
  try { showError(""); return await action(); } catch (e) { showError(e.message); return undefined; }
}

// The live feed: onMessage(channel, data, id); onReload() after hello/reset (load state again).
export function feed(onMessage, onReload) {
  const source = new EventSource("/api/feed");
  for (const greeting of ["hello", "reset"]) source.addEventListener(greeting, () => onReload());
  for (const channel of ["orders", "menu", "availability", "sales", "connectivity"]) {
    source.addEventListener(channel, (e) => onMessage(channel, JSON.parse(e.data), e.lastEventId));
  }
  source.onopen = () => { document.body.dataset.live = "on"; };
  source.onerror = () => { document.body.dataset.live = "reconnecting"; };
  return source;
}

export function heartbeat() {
  const beat = () => api("/api/devices/heartbeat", { method: "POST", body: { appVersion: version } }).catch(() => {});
  beat();
  setInterval(beat, 60000);
}

export function money(amount, currency = "EUR") {
  return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(amount);
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else if (v !== false && v != null) node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...children.flat().filter((c) => c != null));
  return node;
}
