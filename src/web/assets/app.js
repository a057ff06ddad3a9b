// dingclaw's operator page: plain JavaScript, no build step. The token comes from the login
// URL's fragment (#token=..., never sent to the server in a URL), is kept in this tab's
// sessionStorage only, and is sent as `Authorization: Bearer` on every API call.
"use strict";

const TOKEN_KEY = "dingclaw.token";
const state = { agents: [], threads: {}, tab: "chat", timer: null };

function takeTokenFromUrl() {
  const m = location.hash.match(/(?:^#|&)token=([^&]+)/);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
}

function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

async function api(path, options = {}) {
  const headers = Object.assign({ "Authorization": "Bearer " + token() }, options.headers || {});
  const resp = await fetch(path, Object.assign({}, options, { headers }));
  if (resp.status === 401 || resp.status === 429) {
    const body = await resp.json().catch(() => ({}));
    showLogin(body.error || "Please log in.");
    throw new Error("unauthorized");
  }
  return resp;
}

async function json(path, options) {
  const resp = await api(path, options);
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(body.error || ("HTTP " + resp.status));
  return body;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c)));
  return e;
}

function showLogin(message) {
  document.getElementById("app").hidden = true;
  document.getElementById("login").hidden = false;
  document.getElementById("login-error").textContent = message || "";
}

function showApp() {
  document.getElementById("login").hidden = true;
  document.getElementById("app").hidden = false;
}

function when(ms) { return ms ? new Date(ms).toLocaleString() : "–"; }

// -- tabs --------------------------------------------------------------------------------

function switchTab(name) {
  state.tab = name;
  for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.tab === name);
  for (const s of document.querySelectorAll(".tab")) s.hidden = s.id !== "tab-" + name;
  refresh();
}

async function refresh() {
  try {
    if (state.tab === "bots") await loadStatus();
    if (state.tab === "sessions") await loadSessions();
    if (state.tab === "jobs") await loadJobs();
    if (state.tab === "config") await loadConfig();
  } catch (e) { /* shown by api() or in place */ }
}

// -- status ------------------------------------------------------------------------------

async function loadStatus() {
  const s = await json("/api/status");
  showApp();
  document.getElementById("health").textContent =
    s.accounts.filter(a => a.stream && a.stream.status.state === "connected").length + "/" + s.accounts.length + " bots connected";
  const bots = document.querySelector("#bots-table tbody");
  bots.replaceChildren(...s.accounts.map(a => {
    const st = a.stream ? a.stream.status.state : (a.enabled ? "stopped" : "disabled");
    return el("tr", { "data-account": a.id },
      el("td", {}, a.name ? `${a.id} (${a.name})` : a.id),
      el("td", { class: "state state-" + st }, st.replace("_", " ") + (a.stream && a.stream.cardsDegradedForMs ? " · cards degraded" : "")),
      el("td", {}, a.stream ? a.stream.connections : 0),
      el("td", {}, a.stream ? a.stream.reconnects : 0),
      el("td", {}, a.stream ? a.stream.delivered : 0),
      el("td", { class: "error" }, a.stream && a.stream.lastError || ""));
  }));
  const agents = document.querySelector("#agents-table tbody");
  agents.replaceChildren(...s.agents.map(a => el("tr", {},
    el("td", {}, a.name ? `${a.id} (${a.name})` : a.id),
    el("td", {}, [a.model.primary].concat(a.model.fallbacks || []).filter(Boolean).join(" → ")),
    el("td", {}, a.usage ? a.usage.calls : 0),
    el("td", {}, a.usage ? `${a.usage.promptTokens} / ${a.usage.completionTokens}` : "0 / 0"))));
  const providers = document.querySelector("#providers-table tbody");
  providers.replaceChildren(...s.providers.map(p => el("tr", {},
    el("td", {}, p.id), el("td", { class: p.circuit.state === "closed" ? "" : "error" }, p.circuit.state),
    el("td", {}, p.inFlight), el("td", {}, p.waiting), el("td", {}, p.usage.calls), el("td", {}, p.usage.errors))));
  const mcp = document.querySelector("#mcp-table tbody");
  mcp.replaceChildren(...(s.mcp || []).map(m => el("tr", { "data-mcp": m.name },
    el("td", {}, m.name), el("td", {}, m.transport),
    el("td", { class: "state state-" + m.state }, m.state),
    el("td", { title: m.tools.map(t => t.name).join("\n") }, m.tools.length),
    el("td", {}, m.calls), el("td", {}, m.errors), el("td", {}, m.restarts),
    el("td", { class: "error" }, m.lastError || ""))));
  const st = s.stats;
  document.getElementById("stats").textContent =
    `messages in ${st.messagesIn} · replies ${st.repliesOut} · failed replies ${st.replyFailures} · turns ${st.turns} · sessions in memory ${st.sessionsResident} · waiting ${st.pending} · up ${Math.round(s.uptimeMs / 1000)} s`;
  return s;
}

// -- chat --------------------------------------------------------------------------------

function newThread() {
  const agent = document.getElementById("chat-agent").value;
  state.threads[agent] = "web-" + Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
  document.getElementById("chat-thread").textContent = "thread " + state.threads[agent];
  document.getElementById("chat-log").replaceChildren();
}

function chatLog(role, text) {
  const m = el("div", { class: "msg " + role }, text);
  const log = document.getElementById("chat-log");
  log.append(m);
  log.scrollTop = log.scrollHeight;
  return m;
}

async function send(event) {
  event.preventDefault();
  const input = document.getElementById("chat-input");
  const text = input.value.trim();
  const agent = document.getElementById("chat-agent").value;
  if (!text || !agent) return;
  if (!state.threads[agent]) newThread();
  input.value = "";
  chatLog("user", text);
  const bubble = chatLog("assistant streaming", "…");
  try {
    const resp = await api("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ agent, thread: state.threads[agent], text }),
    });
    if (!resp.ok) {
      const body = await resp.json().catch(() => ({}));
      bubble.textContent = "⚠️ " + (body.error || resp.status);
      return;
    }
    // Server-sent events read from the response body (EventSource cannot POST).
    const reader = resp.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const raw = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const name = (raw.match(/^event: (.*)$/m) || [])[1];
        const data = (raw.match(/^data: (.*)$/m) || [])[1];
        if (!data) continue;
        const text = JSON.parse(data).text;
        bubble.textContent = name === "error" ? "⚠️ " + text : text;
        if (name !== "partial") bubble.classList.remove("streaming");
      }
    }
  } catch (e) {
    if (e.message !== "unauthorized") bubble.textContent = "⚠️ " + e.message;
  } finally {
    bubble.classList.remove("streaming");
  }
}

// -- sessions ----------------------------------------------------------------------------

async function loadSessions() {
  const rows = await json("/api/sessions?limit=200");
  const body = document.querySelector("#sessions-table tbody");
  body.replaceChildren(...rows.map(s => el("tr", { class: "clickable", onclick: () => showTranscript(s.key) },
    el("td", {}, s.key), el("td", {}, s.agentId), el("td", {}, s.account), el("td", {}, when(s.updatedMs)),
    el("td", {}, `${s.promptTokens || 0} / ${s.completionTokens || 0}`),
    el("td", {}, s.resident ? (s.busy ? `busy, ${s.queued} waiting` : "in memory") : "stored"))));
}

async function showTranscript(key) {
  const t = await json("/api/sessions/transcript?key=" + encodeURIComponent(key));
  const box = document.getElementById("transcript");
  box.replaceChildren(el("h2", {}, key), ...t.entries.map(e =>
    el("div", { class: "entry " + e.role }, `${e.role}${e.sender ? " (" + e.sender + ")" : ""} · ${when(e.atMs)}\n${e.content}`)));
}

// -- jobs --------------------------------------------------------------------------------

async function loadJobs() {
  const msg = document.getElementById("jobs-message");
  let jobs;
  try { jobs = await json("/api/cron/jobs"); } catch (e) { msg.textContent = e.message; return; }
  msg.textContent = jobs.length ? "" : "No scheduled jobs. Ask an agent in a chat to create one.";
  const body = document.querySelector("#jobs-table tbody");
  body.replaceChildren(...jobs.map(j => el("tr", {},
    el("td", {}, `${j.name} (${j.id})`), el("td", {}, j.scheduleText),
    el("td", {}, j.enabled ? (j.nextRun || "–") : "disabled"),
    el("td", { class: j.state.lastRunStatus === "error" ? "error" : "" }, (j.state.lastRunStatus || "–") + (j.state.lastError ? ": " + j.state.lastError : "")),
    el("td", {}, j.delivery.mode + (j.delivery.to ? " " + j.delivery.to : "")),
    el("td", {},
      el("button", { type: "button", onclick: () => jobAction(j.id, "POST", "/run?wait=false") }, "Run now"), " ",
      el("button", { type: "button", class: "secondary", onclick: () => confirm(`Remove "${j.name}"?`) && jobAction(j.id, "DELETE", "") }, "Remove")))));
}

async function jobAction(id, method, suffix) {
  try { await json(`/api/cron/jobs/${encodeURIComponent(id)}${suffix}`, { method }); }
  catch (e) { document.getElementById("jobs-message").textContent = e.message; }
  setTimeout(loadJobs, 300);
}

// -- config ------------------------------------------------------------------------------

function showReload(r) {
  const box = document.getElementById("reload-status");
  if (!r || !r.atMs) { box.textContent = "No reload yet."; return; }
  const head = el("p", { class: r.ok ? "" : "error" }, `${when(r.atMs)}: ${r.ok ? "applied" : "refused; the running config stays"}`);
  const items = (r.ok ? (r.applied || []).concat((r.needsRestart || []).map(x => x + " (needs a restart)")) : r.errors)
    .map(x => el("li", {}, x));
  box.replaceChildren(head, el("ul", {}, ...items));
}

async function loadConfig() {
  const [status, config] = await Promise.all([json("/api/status"), json("/api/config")]);
  showReload(status.reload);
  document.getElementById("config-json").textContent = JSON.stringify(config, null, 2);
}

async function reloadNow() {
  const resp = await api("/api/reload", { method: "POST" });
  showReload(await resp.json().catch(() => null));
}

// -- start -------------------------------------------------------------------------------

async function start() {
  takeTokenFromUrl();
  for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => switchTab(b.dataset.tab));
  document.getElementById("login-form").addEventListener("submit", e => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, document.getElementById("login-token").value.trim());
    start();
  });
  document.getElementById("chat-form").addEventListener("submit", send);
  document.getElementById("chat-input").addEventListener("keydown", e => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); document.getElementById("chat-form").requestSubmit(); }
  });
  document.getElementById("chat-new").addEventListener("click", newThread);
  document.getElementById("chat-agent").addEventListener("change", () => {
    const agent = document.getElementById("chat-agent").value;
    if (!state.threads[agent]) newThread(); else document.getElementById("chat-thread").textContent = "thread " + state.threads[agent];
  });
  document.getElementById("reload-now").addEventListener("click", reloadNow);
  try {
    const s = await loadStatus();
    const select = document.getElementById("chat-agent");
    select.replaceChildren(...s.agents.map(a => el("option", { value: a.id }, a.name ? `${a.name} (${a.id})` : a.id)));
    newThread();
  } catch (e) { return; }
  if (state.timer) clearInterval(state.timer);
  state.timer = setInterval(refresh, 2000);
}

start();
