// dingclaw's operator page: plain JavaScript, no build step. The token comes from the login
// URL's fragment (#token=..., never sent to the server in a URL), is kept in this tab's
// sessionStorage only, and is sent as `Authorization: Bearer` on every API call.
//
// One live stream (`/api/events`) feeds the header badge and the Bots tab; the other tabs
// load when shown and re-render only when their data changed, so nothing jumps under the
// pointer and a text selection survives. Every string comes from `t()` (i18n.js). Text from
// messages is only ever set as text; the only HTML set is what the server rendered from
// markdown and cleaned (ammonia).
"use strict";

const TOKEN_KEY = "dingclaw.token";
const THREADS_KEY = "dingclaw.threads";
const AGENT_KEY = "dingclaw.agent";
const state = {
  tab: "chat", status: null, statusAt: 0, live: null, running: null,
  rendered: {}, lastTurns: -1, lastJobs: -1, sessions: [], transcriptKey: null,
  logAfter: 0, pollTimer: null, countdown: null, started: false,
  jobs: [], openHistory: new Set(), editing: null,
};

// -- small helpers -------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) e.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c)));
  return e;
}

const $ = id => document.getElementById(id);
const token = () => sessionStorage.getItem(TOKEN_KEY) || "";
const when = ms => ms ? new Date(ms).toLocaleString(LANG) : "–";

function duration(ms) {
  const s = Math.round(ms / 1000);
  if (s < 120) return s + " s";
  if (s < 7200) return Math.round(s / 60) + " min";
  return (s / 3600).toFixed(1) + " h";
}

/// Rows whose cells carry their column's name, so a narrow screen can show them as cards.
function row(table, attrs, ...cells) {
  const heads = [...document.querySelectorAll(`#${table} thead th`)].map(th => th.textContent);
  cells.forEach((c, i) => c.setAttribute("data-label", heads[i] || ""));
  return el("tr", attrs, ...cells);
}

/// Replaces `box`'s children only when `key` (the data they show) changed.
function renderIfChanged(name, key, box, build) {
  const k = LANG + "|" + key;
  if (state.rendered[name] === k) return;
  state.rendered[name] = k;
  box.replaceChildren(...build());
}

// -- API ---------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(code, message, status) { super(message); this.code = code; this.status = status; }
  words() { return this.code && t("code." + this.code) !== "code." + this.code ? t("code." + this.code, { status: this.status }) : this.message; }
}

async function api(path, options = {}) {
  const headers = Object.assign({ "Authorization": "Bearer " + token() }, options.headers || {});
  let resp;
  try { resp = await fetch(path, Object.assign({}, options, { headers })); }
  catch (e) { throw new ApiError("network", e.message, 0); }
  if (resp.status === 401 || resp.status === 429) {
    showLogin(resp.status === 429 ? "login.locked" : "login.rejected");
    throw new ApiError("unauthorized", "unauthorized", resp.status);
  }
  return resp;
}

async function json(path, options) {
  const resp = await api(path, options);
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new ApiError(body.code || "http", body.error || ("HTTP " + resp.status), resp.status);
  return body;
}

/// Reads a server-sent event stream from a fetch response, calling `on(name, data)`.
async function readEvents(resp, on) {
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const raw = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const name = (raw.match(/^event: (.*)$/m) || [])[1];
      const data = (raw.match(/^data: (.*)$/m) || [])[1];
      if (name && data) on(name, JSON.parse(data));
    }
  }
}

// -- language ------------------------------------------------------------------------------

function translatePage() {
  document.documentElement.lang = LANG;
  for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
  for (const e of document.querySelectorAll("[data-i18n-placeholder]")) e.placeholder = t(e.dataset.i18nPlaceholder);
  for (const e of document.querySelectorAll("[data-i18n-aria]")) e.setAttribute("aria-label", t(e.dataset.i18nAria));
  $("lang").textContent = t("lang.switch");
  $("lang").setAttribute("aria-label", t("lang.switchLabel"));
  $("lang").setAttribute("lang", LANG === "en" ? "zh-CN" : "en");
  state.rendered = {};
  fillFilters();
  if (state.status) showStatus(state.status);
  refreshTab();
}

// -- login -------------------------------------------------------------------------------

function takeTokenFromUrl() {
  const m = location.hash.match(/(?:^#|&)token=([^&]+)/);
  if (!m) return false;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
  history.replaceState(null, "", location.pathname + location.search);
  return true;
}

function showLogin(messageKey) {
  stopLive();
  $("app").hidden = true;
  $("tabs").hidden = true;
  $("logout").hidden = true;
  $("health").hidden = true;
  $("problems").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = messageKey ? t(messageKey) : "";
  $("login-token").focus();
}

function showApp() {
  $("login").hidden = true;
  $("app").hidden = false;
  $("tabs").hidden = false;
  $("logout").hidden = false;
  $("health").hidden = false;
}

function logout() {
  sessionStorage.removeItem(TOKEN_KEY);
  state.started = false;
  showLogin(null);
}

// -- live status -----------------------------------------------------------------------------

function stopLive() {
  if (state.live) state.live.abort();
  state.live = null;
}

/// The one stream of the page; reconnects after 2 s when it drops.
async function startLive() {
  stopLive();
  const controller = new AbortController();
  state.live = controller;
  try {
    const resp = await api("/api/events", { signal: controller.signal });
    if (!resp.ok) throw new Error("HTTP " + resp.status);
    $("live-lost").hidden = true;
    await readEvents(resp, (name, data) => { if (name === "status") onStatus(data); });
  } catch (e) {
    if (controller.signal.aborted || e.code === "unauthorized") return;
  }
  if (state.live !== controller) return;
  $("live-lost").hidden = false;
  setTimeout(() => { if (state.live === controller) startLive(); }, 2000);
}

function onStatus(s) {
  state.status = s;
  state.statusAt = Date.now();
  showStatus(s);
  // Other tabs follow the same moment: a finished turn changes sessions, a job count jobs.
  if (state.tab === "sessions" && s.stats.turns !== state.lastTurns) loadSessions();
  if (state.tab === "jobs" && s.cron.jobs !== state.lastJobs) loadJobs();
  if (state.tab === "config") loadConfig();
  state.lastTurns = s.stats.turns;
  state.lastJobs = s.cron.jobs;
}

function problemText(p) {
  return t("problem." + p.kind, { subject: p.subject, detail: p.detail || "" });
}

function showStatus(s) {
  const h = s.health || { level: "ok", problems: [] };
  const badge = $("health");
  badge.className = "badge level-" + h.level;
  const enabled = s.accounts.filter(a => a.enabled).length;
  badge.textContent = h.problems.length === 0 ? t("health.ok", { bots: enabled })
    : h.problems.length === 1 ? problemText(h.problems[0]) : t("health.problems", { count: h.problems.length });
  const list = $("problems");
  renderIfChanged("problems", JSON.stringify(h.problems), list, () => h.problems.map(p => el("li", { class: "level-" + p.level }, problemText(p))));
  if (h.problems.length === 0) { list.hidden = true; badge.setAttribute("aria-expanded", "false"); }
  renderBots(s);
}

function stateWord(st) { return t("state." + st) !== "state." + st ? t("state." + st) : st.replace("_", " "); }

function renderBots(s) {
  const st = s.stats;
  const prev = state.prevStats;
  let perMinute = "–";
  if (prev && state.statusAt > prev.at) perMinute = Math.max(0, Math.round((st.messagesIn - prev.messagesIn) * 60000 / (state.statusAt - prev.at)));
  if (!prev || state.statusAt - prev.at > 60000) state.prevStats = { at: state.statusAt, messagesIn: st.messagesIn };
  const lat = s.replyLatency || {};
  $("latency").textContent = lat.count ? t("metrics.latency", { p50: lat.p50Ms, p99: lat.p99Ms, max: lat.maxMs, count: lat.count, minutes: lat.windowMinutes })
    : t("metrics.noLatency", { minutes: lat.windowMinutes || 5 });
  $("stats").textContent = t("metrics.line", {
    perMinute, messages: st.messagesIn, replies: st.repliesOut, failed: st.replyFailures, turns: st.turns,
    turnErrors: st.turnErrors, resident: st.sessionsResident, pending: st.pending, uptime: duration(s.uptimeMs),
  });
  renderIfChanged("bots", JSON.stringify(s.accounts), $("bots-table").tBodies[0], () => s.accounts.map(a => {
    const stt = a.stream ? a.stream.status.state : a.placedElsewhere ? "elsewhere" : (a.enabled ? "stopped" : "disabled");
    return row("bots-table", { "data-account": a.id },
      el("td", {}, a.name ? `${a.id} (${a.name})` : a.id),
      el("td", {}, a.channel || ""),
      el("td", { class: "state state-" + stt }, stateWord(stt) + (a.stream && a.stream.cardsDegradedForMs ? " · " + t("state.cardsDegraded") : "")),
      el("td", {}, a.stream ? a.stream.connections : 0),
      el("td", {}, a.stream ? a.stream.reconnects : 0),
      el("td", {}, a.stream ? a.stream.delivered : 0),
      el("td", { class: "error" }, a.stream && a.stream.lastError || ""));
  }));
  renderIfChanged("agents", JSON.stringify(s.agents), $("agents-table").tBodies[0], () => s.agents.map(a => row("agents-table", {},
    el("td", {}, a.name ? `${a.name} (${a.id})` : a.id),
    el("td", {}, [a.model.primary].concat(a.model.fallbacks || []).filter(Boolean).join(" → ")),
    el("td", {}, a.usage ? a.usage.calls : 0),
    el("td", {}, a.usage ? `${a.usage.promptTokens} / ${a.usage.completionTokens}` : "0 / 0"))));
  renderProviders(s);
  renderCluster(s);
  renderIfChanged("mcp", JSON.stringify(s.mcp || []), $("mcp-table").tBodies[0], () => (s.mcp || []).map(m => row("mcp-table", { "data-mcp": m.name },
    el("td", {}, m.name), el("td", {}, m.transport),
    el("td", { class: "state state-" + m.state }, stateWord(m.state)),
    el("td", { title: m.tools.map(x => x.name).join("\n") }, m.tools.length),
    el("td", {}, `${m.calls} / ${m.errors}`), el("td", {}, m.restarts),
    el("td", { class: "error" }, m.lastError || ""))));
}

/// The instances sharing the store (a gateway that runs alone has no such section).
function renderCluster(s) {
  const c = s.cluster;
  $("cluster").hidden = !c;
  if (!c) return;
  const store = c.store || { instances: [], leases: 0, openMessages: 0 };
  const st = c.stats;
  $("cluster-line").textContent = t(c.acting ? "cluster.line" : "cluster.lapsed", {
    instance: c.instance, target: c.storeTarget, leases: store.leases, open: store.openMessages, taken: st.leasesTaken,
    fencedWrites: st.fencedWrites, fencedReplies: st.fencedReplies, wakeups: st.wakeupsReceived,
  });
  renderIfChanged("cluster", JSON.stringify(store.instances.map(i => [i.id, i.live, Math.round(i.heartbeatAgeMs / 1000), i.sessions, i.info && i.info.bots])),
    $("cluster-table").tBodies[0], () => store.instances.map(i => row("cluster-table", { "data-instance": i.id },
      el("td", {}, i.id === c.instance ? `${i.id} ${t("cluster.this")}` : i.id),
      el("td", { class: "state state-" + (i.live ? "connected" : "failed") }, t(i.live ? "cluster.live" : "cluster.silent")),
      el("td", {}, t("cluster.ago", { seconds: (i.heartbeatAgeMs / 1000).toFixed(1) })),
      el("td", {}, i.sessions),
      el("td", {}, ((i.info && i.info.bots) || []).join(", ")))));
}

function renderProviders(s) {
  const body = $("providers-table").tBodies[0];
  const key = JSON.stringify(s.providers.map(p => [p.id, p.circuit.state, p.inFlight, p.waiting, p.usage, p.lastError]));
  renderIfChanged("providers", key, body, () => s.providers.map(p => {
    const open = p.circuit.state !== "closed";
    const err = p.lastError;
    const errCell = el("td", { class: err ? "error" : "" });
    if (err) errCell.append(el("span", {}, t("error." + err.kind) !== "error." + err.kind ? t("error." + err.kind) : err.kind), " ",
      el("span", { class: "muted" }, `(${when(err.atMs)}) ${err.message}`));
    const circuit = el("td", { class: open ? "error" : "" }, t("circuit." + p.circuit.state));
    if (p.circuit.state === "open") {
      circuit.append(" · ", el("span", { class: "countdown", "data-until": String(state.statusAt + (p.circuit.retryInMs || 0)) }), " ",
        el("button", { type: "button", class: "secondary small", onclick: () => retryProvider(p.id) }, t("providers.tryNow")));
    }
    return row("providers-table", { "data-provider": p.id },
      el("td", {}, p.id), circuit, el("td", {}, `${p.inFlight} / ${p.waiting}`),
      el("td", {}, `${p.usage.calls} / ${p.usage.errors}`), errCell);
  }));
  tickCountdowns();
}

function tickCountdowns() {
  for (const c of document.querySelectorAll(".countdown")) {
    const left = Math.max(0, Math.ceil((Number(c.dataset.until) - Date.now()) / 1000));
    c.textContent = t("providers.retryIn", { seconds: left });
  }
}

async function retryProvider(id) {
  try { await json(`/api/providers/${encodeURIComponent(id)}/retry`, { method: "POST" }); }
  catch (e) { /* the next status shows the circuit */ }
}

// -- tabs --------------------------------------------------------------------------------

function switchTab(name, focus) {
  state.tab = name;
  for (const b of document.querySelectorAll("#tabs [role=tab]")) {
    const on = b.dataset.tab === name;
    b.setAttribute("aria-selected", on ? "true" : "false");
    b.tabIndex = on ? 0 : -1;
    if (on && focus) b.focus();
  }
  for (const s of document.querySelectorAll(".tab")) s.hidden = s.id !== "tab-" + name;
  if (state.pollTimer) { clearInterval(state.pollTimer); state.pollTimer = null; }
  refreshTab();
}

function refreshTab() {
  if (!state.started) return;
  if (state.tab === "sessions") loadSessions();
  // Runs end on their own time: the jobs tab looks again every 2 s while it is shown.
  if (state.tab === "jobs") { loadJobs(); state.pollTimer = setInterval(loadJobs, 2000); }
  if (state.tab === "config") loadConfig();
  if (state.tab === "logs") { loadLogs(true); state.pollTimer = setInterval(() => loadLogs(false), 2000); }
  if (state.tab === "chat") loadThreads();
}

/// Arrow keys move between tabs, as the ARIA tabs pattern has it.
function tabKeys(e) {
  const tabs = [...document.querySelectorAll("#tabs [role=tab]")];
  const i = tabs.findIndex(b => b.dataset.tab === state.tab);
  let next = null;
  if (e.key === "ArrowRight") next = tabs[(i + 1) % tabs.length];
  if (e.key === "ArrowLeft") next = tabs[(i - 1 + tabs.length) % tabs.length];
  if (e.key === "Home") next = tabs[0];
  if (e.key === "End") next = tabs[tabs.length - 1];
  if (next) { e.preventDefault(); switchTab(next.dataset.tab, true); }
}

// -- chat --------------------------------------------------------------------------------

function threads() { try { return JSON.parse(localStorage.getItem(THREADS_KEY) || "{}"); } catch (e) { return {}; } }
function agentId() { return $("chat-agent").value; }
function agentName(id) { const a = (state.status && state.status.agents || []).find(x => x.id === id); return a && a.name ? a.name : id; }

function currentThread() {
  const all = threads();
  if (!all[agentId()]) { all[agentId()] = newThreadId(); localStorage.setItem(THREADS_KEY, JSON.stringify(all)); }
  return all[agentId()];
}

function newThreadId() { return "web-" + Math.random().toString(36).slice(2, 10) + Date.now().toString(36); }

function setThread(id) {
  const all = threads();
  all[agentId()] = id;
  localStorage.setItem(THREADS_KEY, JSON.stringify(all));
  loadHistory();
  loadThreads();
}

function bubble(role, agent) {
  const who = role === "user" ? t("chat.you") : agentName(agent);
  const body = el("div", { class: "body" });
  const m = el("article", { class: "msg " + role, "data-agent": agent || "" }, el("div", { class: "who" }, who), body);
  const log = $("chat-log");
  log.append(m);
  log.scrollTop = log.scrollHeight;
  return { m, body };
}

function setHtml(body, html, text) {
  // Only HTML the server rendered from markdown and cleaned reaches innerHTML.
  if (html != null) body.innerHTML = html; else body.textContent = text;
}

function toolCalls(calls) {
  return calls.map(c => el("details", { class: "tool" }, el("summary", {}, t("chat.tool", { name: c.name })), el("pre", {}, c.arguments)));
}

async function loadHistory() {
  const agent = agentId();
  const thread = currentThread();
  const log = $("chat-log");
  log.replaceChildren();
  let h;
  try { h = await json(`/api/chat/history?agent=${encodeURIComponent(agent)}&thread=${encodeURIComponent(thread)}`); }
  catch (e) { if (e.code !== "unauthorized") log.append(el("p", { class: "error" }, e.words())); return; }
  if (agentId() !== agent) return;
  for (const e of h.entries) {
    if (e.role === "user") bubble("user").body.textContent = e.text;
    else if (e.role === "assistant") {
      const b = bubble("assistant", agent);
      if (e.text) setHtml(b.body, e.html, e.text);
      b.m.append(...toolCalls(e.toolCalls || []));
    }
  }
  if (!h.entries.length) log.append(el("p", { class: "muted empty" }, t("chat.empty")));
}

async function loadThreads() {
  const agent = agentId();
  if (!agent) return;
  let list = [];
  try { list = await json(`/api/chat/threads?agent=${encodeURIComponent(agent)}`); } catch (e) { return; }
  const current = currentThread();
  if (!list.some(x => x.thread === current)) list.unshift({ thread: current, title: "", updatedMs: 0 });
  const select = $("chat-threads");
  renderIfChanged("threads", agent + JSON.stringify(list) + current, select, () => list.map(x =>
    el("option", { value: x.thread, selected: x.thread === current },
      (x.title || t("chat.untitled")) + (x.updatedMs ? " · " + when(x.updatedMs) : " · " + t("chat.current")))));
}

async function send(event) {
  event.preventDefault();
  const input = $("chat-input");
  const text = input.value.trim();
  const agent = agentId();
  if (!text || !agent || state.running) return;
  const thread = currentThread();
  input.value = "";
  for (const e of $("chat-log").querySelectorAll(".empty")) e.remove();
  bubble("user").body.textContent = text;
  const reply = bubble("assistant streaming", agent);
  reply.body.textContent = t("chat.thinking");
  state.running = { agent, thread };
  $("chat-stop").disabled = false;
  try {
    const resp = await api("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ agent, thread, text }),
    });
    if (!resp.ok) {
      const body = await resp.json().catch(() => ({}));
      reply.body.textContent = "⚠️ " + new ApiError(body.code || "http", body.error || "", resp.status).words();
      return;
    }
    await readEvents(resp, (name, data) => {
      if (name === "partial") reply.body.textContent = data.text;
      else if (name === "done") setHtml(reply.body, data.html, data.text);
      else if (name === "error") reply.body.textContent = "⚠️ " + new ApiError(data.code, data.text).words();
      $("chat-log").scrollTop = $("chat-log").scrollHeight;
    });
  } catch (e) {
    if (e.code !== "unauthorized") reply.body.textContent = "⚠️ " + (e.words ? e.words() : e.message);
  } finally {
    reply.m.classList.remove("streaming");
    state.running = null;
    $("chat-stop").disabled = true;
    loadThreads();
  }
}

async function stop() {
  if (!state.running) return;
  try { await json("/api/chat/stop", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(state.running) }); }
  catch (e) { /* the reply says what happened */ }
}

// -- sessions ----------------------------------------------------------------------------

function kindOf(s) { return s.channel === "webchat" ? "web" : s.channel === "cron" ? "job" : s.chat === "group" ? "group" : "direct"; }

function fillFilters() {
  const s = state.status;
  const opts = (select, values, label) => {
    const keep = select.value;
    select.replaceChildren(el("option", { value: "" }, t("sessions.all")), ...values.map(v => el("option", { value: v[0] }, v[1])));
    select.value = values.some(v => v[0] === keep) ? keep : "";
  };
  opts($("f-bot"), s ? s.accounts.map(a => [a.id, a.id]) : []);
  opts($("f-agent"), s ? s.agents.map(a => [a.id, a.name ? `${a.name} (${a.id})` : a.id]) : []);
  opts($("f-kind"), ["direct", "group", "web", "job"].map(k => [k, t("sessions.kind." + k)]));
}

async function loadSessions() {
  try { state.sessions = await json("/api/sessions?limit=500"); } catch (e) { return; }
  renderSessions();
  if (state.transcriptKey) showTranscript(state.transcriptKey, false);
}

function renderSessions() {
  const bot = $("f-bot").value, agent = $("f-agent").value, kind = $("f-kind").value;
  const q = $("f-search").value.trim().toLowerCase();
  const rows = state.sessions.filter(s => (!bot || s.account === bot) && (!agent || s.agentId === agent) && (!kind || kindOf(s) === kind)
    && (!q || [s.key, s.title, s.conversationId, s.agentId].some(x => (x || "").toLowerCase().includes(q))));
  $("sessions-empty").hidden = rows.length > 0;
  renderIfChanged("sessions", JSON.stringify(rows), $("sessions-table").tBodies[0], () => rows.map(s => row("sessions-table", { "data-key": s.key },
    el("td", {}, el("button", { type: "button", class: "link", onclick: () => showTranscript(s.key, true) }, s.title || s.key),
      s.title ? el("div", { class: "muted" }, s.key) : ""),
    el("td", {}, agentName(s.agentId)), el("td", {}, s.account), el("td", {}, when(s.updatedMs)),
    el("td", {}, `${s.promptTokens || 0} / ${s.completionTokens || 0}`),
    el("td", {}, s.resident ? (s.busy ? t("sessions.busy", { queued: s.queued }) : t("sessions.resident")) : t("sessions.stored")))));
}

async function showTranscript(key, focus) {
  let tr;
  try { tr = await json("/api/sessions/transcript?key=" + encodeURIComponent(key)); } catch (e) { return; }
  state.transcriptKey = key;
  $("transcript").hidden = false;
  $("transcript-key").textContent = key;
  renderIfChanged("transcript", key + JSON.stringify(tr.entries), $("transcript-entries"), () => tr.entries.map(e =>
    el("div", { class: "entry " + e.role },
      el("div", { class: "muted" }, `${e.role}${e.senderName || e.sender ? " · " + (e.senderName || e.sender) : ""} · ${when(e.atMs)}`),
      el("div", { class: "text" }, e.content),
      ...toolCalls(e.toolCalls || []))));
  if (focus) $("transcript-close").focus();
}

async function resetSession() {
  const key = state.transcriptKey;
  if (!key || !confirm(t("sessions.confirmReset"))) return;
  try {
    await json("/api/sessions/reset", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ key }) });
    $("transcript-key").textContent = key + " · " + t("sessions.wasReset");
  } catch (e) { $("transcript-key").textContent = key + " · " + (e.words ? e.words() : e.message); }
  loadSessions();
}

// -- jobs --------------------------------------------------------------------------------

function ownerText(j) {
  const o = j.owner || {};
  const who = o.channel === "webchat" ? t("jobs.ownerWeb") : `${o.account} · ${o.chat} ${o.conversationId}`;
  return t("jobs.owner", { owner: who, agent: agentName(j.agentId) });
}

async function loadJobs() {
  const msg = $("jobs-message");
  let jobs;
  try { jobs = await json("/api/cron/jobs"); } catch (e) { if (e.words) msg.textContent = e.words(); return; }
  state.jobs = jobs;
  const runs = {};
  for (const id of state.openHistory) {
    try { runs[id] = await json(`/api/cron/jobs/${encodeURIComponent(id)}/runs`); } catch (e) { runs[id] = []; }
  }
  if (!msg.dataset.sticky) msg.textContent = jobs.length ? "" : t("jobs.none");
  const key = JSON.stringify([jobs, runs, state.editing, [...state.openHistory]]);
  renderIfChanged("jobs", key, $("jobs-table").tBodies[0], () => jobs.flatMap(j => {
    const schedule = el("td", {});
    if (state.editing === j.id) {
      const input = el("input", { id: "edit-" + j.id, value: j.schedule.expr || "", "aria-label": t("jobs.expr") });
      schedule.append(input, " ",
        el("button", { type: "button", class: "small", onclick: () => saveSchedule(j, input.value) }, t("jobs.save")), " ",
        el("button", { type: "button", class: "secondary small", onclick: () => { state.editing = null; loadJobs(); } }, t("jobs.cancel")));
    } else {
      schedule.append(j.scheduleText, " ",
        el("button", { type: "button", class: "secondary small", onclick: () => { state.editing = j.id; loadJobs(); } }, t("jobs.edit")));
    }
    const rows = [row("jobs-table", { "data-job": j.id },
      el("td", {}, `${j.name} (${j.id})`, el("div", { class: "muted" }, ownerText(j))),
      schedule,
      el("td", {}, j.enabled ? (j.nextRun || "–") : t("jobs.disabled")),
      el("td", { class: j.state.lastRunStatus === "error" ? "error" : "" }, (j.state.lastRunStatus || "–") + (j.state.lastError ? ": " + j.state.lastError : "")),
      el("td", {}, j.delivery.mode + (j.delivery.to ? " " + j.delivery.to : "")),
      el("td", { class: "actions" },
        el("button", { type: "button", class: "small", onclick: () => jobAction(j.id, "POST", "/run?wait=false") }, t("jobs.run")), " ",
        el("button", { type: "button", class: "secondary small", onclick: () => patchJob(j.id, { enabled: !j.enabled }) }, t(j.enabled ? "jobs.disable" : "jobs.enable")), " ",
        el("button", { type: "button", class: "secondary small", "aria-expanded": state.openHistory.has(j.id) ? "true" : "false",
          onclick: () => { state.openHistory.has(j.id) ? state.openHistory.delete(j.id) : state.openHistory.add(j.id); loadJobs(); } }, t("jobs.history")), " ",
        el("button", { type: "button", class: "secondary small", onclick: () => confirm(t("jobs.confirmRemove", { name: j.name })) && jobAction(j.id, "DELETE", "") }, t("jobs.remove"))))];
    if (state.openHistory.has(j.id)) {
      const list = (runs[j.id] || []).map(r => el("li", { class: r.status === "error" ? "error" : "" }, t("jobs.run.line", {
        when: when(r.runAtMs), trigger: r.trigger, status: r.status, ms: r.durationMs,
        detail: r.error ? ": " + r.error : r.summary ? ": " + r.summary : "" })));
      const cell = el("td", { colspan: "6", class: "history" }, list.length ? el("ul", {}, ...list) : el("span", { class: "muted" }, t("jobs.noRuns")));
      cell.setAttribute("data-label", t("jobs.history"));
      rows.push(el("tr", { "data-history": j.id }, cell));
    }
    return rows;
  }));
}

async function jobAction(id, method, suffix) {
  try { await json(`/api/cron/jobs/${encodeURIComponent(id)}${suffix}`, { method }); }
  catch (e) { if (e.words) $("jobs-message").textContent = e.words(); }
  setTimeout(loadJobs, 300);
}

async function patchJob(id, patch) {
  try {
    await json(`/api/cron/jobs/${encodeURIComponent(id)}`, {
      method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify(patch),
    });
    $("jobs-message").textContent = "";
    return true;
  } catch (e) { if (e.words) $("jobs-message").textContent = e.words(); return false; }
  finally { loadJobs(); }
}

async function saveSchedule(j, expr) {
  // A merge patch: keys of another kind of schedule are removed with null.
  const schedule = { kind: "cron", expr: expr.trim(), tz: j.schedule.tz || null };
  for (const k of Object.keys(j.schedule)) if (!(k in schedule)) schedule[k] = null;
  if (!schedule.tz) delete schedule.tz;
  if (await patchJob(j.id, { schedule })) state.editing = null;
}

async function createJob(event) {
  event.preventDefault();
  const name = $("job-name").value.trim();
  const hook = $("job-webhook").value.trim();
  const job = {
    name,
    schedule: { kind: "cron", expr: $("job-expr").value.trim() },
    payload: { kind: "agentTurn", message: $("job-message").value.trim() },
    delivery: hook ? { mode: "webhook", to: hook } : { mode: "none" },
  };
  const msg = $("jobs-message");
  try {
    await json("/api/cron/jobs", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ agent: $("job-agent").value, job }) });
    msg.textContent = t("jobs.created", { name });
    $("job-form").reset();
  } catch (e) { msg.textContent = e.words ? e.words() : e.message; }
  loadJobs();
}

// -- logs --------------------------------------------------------------------------------

async function loadLogs(fresh) {
  const box = $("log-lines");
  if (fresh) { state.logAfter = 0; box.replaceChildren(); }
  const level = $("log-level").value, q = $("log-search").value.trim();
  let r;
  try { r = await json(`/api/logs?level=${level}&q=${encodeURIComponent(q)}&after=${state.logAfter}&limit=500`); } catch (e) { return; }
  for (const l of r.lines) {
    state.logAfter = Math.max(state.logAfter, l.seq);
    box.append(el("div", { class: "log level-" + l.level.toLowerCase() },
      el("span", { class: "muted" }, new Date(l.atMs).toLocaleTimeString(LANG)), " ",
      el("strong", {}, l.level), " ", el("span", { class: "muted" }, l.target), " ", l.text));
  }
  while (box.childElementCount > 2000) box.firstElementChild.remove();
  const empty = box.querySelector(".empty");
  if (box.childElementCount === 0) box.append(el("p", { class: "muted empty" }, t("logs.none")));
  else if (empty && box.childElementCount > 1) empty.remove();
  if (r.lines.length) box.scrollTop = box.scrollHeight;
}

// -- config ------------------------------------------------------------------------------

function showReload(r) {
  const box = $("reload-status");
  const key = JSON.stringify(r || null);
  renderIfChanged("reload", key, box, () => {
    if (!r || !r.atMs) return [el("span", {}, t("config.noReload"))];
    const head = el("p", { class: r.ok ? "" : "error" }, t(r.ok ? "config.applied" : "config.refused", { when: when(r.atMs) }));
    const items = (r.ok ? (r.applied || []).concat((r.needsRestart || []).map(x => t("config.needsRestart", { item: x }))) : r.errors)
      .map(x => el("li", {}, x));
    return [head, el("ul", {}, ...items)];
  });
}

async function loadConfig() {
  if (state.status) showReload(state.status.reload);
  let config;
  try { config = await json("/api/config"); } catch (e) { return; }
  const text = JSON.stringify(config, null, 2);
  // Only on change: re-setting it would wipe the reader's selection.
  if ($("config-json").textContent !== text) $("config-json").textContent = text;
}

async function openEditor() {
  if (!$("config-edit").open) return;
  const verdict = $("config-verdict");
  verdict.replaceChildren();
  try {
    const f = await json("/api/config/file");
    state.configDigest = f.digest;
    $("config-text").value = f.text;
  } catch (e) { verdict.replaceChildren(el("p", { class: "error" }, e.words ? e.words() : e.message)); }
}

function showVerdict(v) {
  const box = $("config-verdict");
  if (v.ok) box.replaceChildren(el("p", {}, t("config.valid", { summary: v.summary })));
  else box.replaceChildren(el("p", { class: "error" }, t("config.invalid", { count: v.errors.length })),
    el("ul", { class: "error" }, ...v.errors.map(x => el("li", {}, x))));
}

async function editConfig(apply) {
  const body = JSON.stringify({ text: $("config-text").value, digest: state.configDigest || "" });
  const box = $("config-verdict");
  try {
    const resp = await api(apply ? "/api/config/file" : "/api/config/file/check",
      { method: apply ? "PUT" : "POST", headers: { "Content-Type": "application/json" }, body });
    const v = await resp.json().catch(() => ({}));
    if (resp.status === 422 || (resp.ok && !apply)) { showVerdict(v); return; }
    if (!resp.ok) throw new ApiError(v.code || "http", v.error || "", resp.status);
    state.configDigest = v.digest;
    if (v.ok) box.replaceChildren(el("p", {}, t("config.saved")));
    else box.replaceChildren(el("p", { class: "error" }, t("config.savedRefused")), el("ul", { class: "error" }, ...(v.reload.errors || []).map(x => el("li", {}, x))));
    showReload(v.reload);
    loadConfig();
  } catch (e) { box.replaceChildren(el("p", { class: "error" }, e.words ? e.words() : e.message)); }
}

async function reloadNow() {
  const resp = await api("/api/reload", { method: "POST" });
  showReload(await resp.json().catch(() => null));
}

async function copyConfig() {
  try { await navigator.clipboard.writeText($("config-json").textContent); $("config-copy").textContent = t("config.copied"); }
  catch (e) { /* no clipboard: select it instead */ getSelection().selectAllChildren($("config-json")); }
  setTimeout(() => { $("config-copy").textContent = t("config.copy"); }, 1500);
}

// -- start -------------------------------------------------------------------------------

function wire() {
  for (const b of document.querySelectorAll("#tabs [role=tab]")) {
    b.addEventListener("click", () => switchTab(b.dataset.tab, false));
    b.addEventListener("keydown", tabKeys);
  }
  $("login-form").addEventListener("submit", e => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("login-token").value.trim());
    $("login-token").value = "";
    start();
  });
  $("logout").addEventListener("click", logout);
  $("lang").addEventListener("click", () => { setLanguage(LANG === "en" ? "zh-CN" : "en"); translatePage(); });
  $("health").addEventListener("click", () => {
    const list = $("problems");
    list.hidden = !list.hidden || !list.childElementCount;
    $("health").setAttribute("aria-expanded", list.hidden ? "false" : "true");
  });
  $("chat-form").addEventListener("submit", send);
  $("chat-input").addEventListener("keydown", e => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("chat-form").requestSubmit(); }
  });
  $("chat-stop").addEventListener("click", stop);
  $("chat-new").addEventListener("click", () => setThread(newThreadId()));
  $("chat-threads").addEventListener("change", () => setThread($("chat-threads").value));
  $("chat-agent").addEventListener("change", () => {
    localStorage.setItem(AGENT_KEY, agentId());
    loadHistory();
    loadThreads();
  });
  for (const id of ["f-bot", "f-agent", "f-kind"]) $(id).addEventListener("change", renderSessions);
  $("f-search").addEventListener("input", renderSessions);
  $("transcript-close").addEventListener("click", () => { $("transcript").hidden = true; state.transcriptKey = null; });
  $("transcript-reset").addEventListener("click", resetSession);
  $("log-level").addEventListener("change", () => loadLogs(true));
  $("log-search").addEventListener("input", () => loadLogs(true));
  $("reload-now").addEventListener("click", reloadNow);
  $("job-form").addEventListener("submit", createJob);
  $("config-copy").addEventListener("click", copyConfig);
  $("config-edit").addEventListener("toggle", openEditor);
  $("config-check").addEventListener("click", () => editConfig(false));
  $("config-apply").addEventListener("click", () => editConfig(true));
  // A login URL pasted into an open tab arrives as a new fragment.
  window.addEventListener("hashchange", () => { if (takeTokenFromUrl()) start(); });
  setInterval(tickCountdowns, 1000);
}

async function start() {
  takeTokenFromUrl();
  if (!token()) { showLogin(null); return; }
  let s;
  try { s = await json("/api/status"); } catch (e) { if (e.code !== "unauthorized") showLogin(null); return; }
  state.started = true;
  showApp();
  const select = $("chat-agent");
  const keep = select.value || localStorage.getItem(AGENT_KEY);
  select.replaceChildren(...s.agents.map(a => el("option", { value: a.id }, a.name ? `${a.name} (${a.id})` : a.id)));
  if (s.agents.some(a => a.id === keep)) select.value = keep;
  $("job-agent").replaceChildren(...s.agents.map(a => el("option", { value: a.id }, a.name ? `${a.name} (${a.id})` : a.id)));
  onStatus(s);
  fillFilters();
  startLive();
  loadHistory();
  switchTab(state.tab, false);
}

wire();
translatePage();
start();
