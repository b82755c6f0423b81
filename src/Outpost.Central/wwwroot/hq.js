// Shared by HQ's pages: the admin token (kept for this browser tab only), API calls, and errors shown in words.
export function token() { return sessionStorage.getItem("outpost-admin-token") || ""; }

export function askToken(form, input, onReady) {
  input.value = token();
  form.addEventListener("submit", e => { e.preventDefault(); sessionStorage.setItem("outpost-admin-token", input.value.trim()); onReady(); });
  if (token()) onReady();
}

export function showError(message) {
  let bar = document.getElementById("error");
  if (!message) { if (bar) bar.remove(); return; }
  if (!bar) { bar = document.createElement("div"); bar.id = "error"; bar.setAttribute("role", "alert"); document.body.prepend(bar); }
  bar.textContent = message;
}

export async function api(path, options = {}) {
  const headers = { Authorization: "Bearer " + token(), ...(options.headers || {}) };
  let response;
  try {
    response = await fetch(path, { ...options, headers });
  } catch {
    throw new Error("HQ cannot be reached. Check the network; this page keeps trying.");
  }
  if (response.status === 401) throw new Error("HQ refused the admin token. Enter the token HQ was started with.");
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const rows = (body && body.errors || []).slice(0, 20).map(e => (e.row ? `row ${e.row}, ` : "") + `${e.field}: ${e.message}`);
    throw new Error(((body && (body.detail || body.title)) || `HQ answered ${response.status}.`) + (rows.length ? "\n" + rows.join("\n") : ""));
  }
  return body;
}

export function escape(value) {
  return String(value ?? "").replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

export function ago(iso) {
  if (!iso) return "never";
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}
