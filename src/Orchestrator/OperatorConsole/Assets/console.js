// Orchestrator console: reads the admin feed (GET /admin/console/events) with fetch(), since EventSource cannot send
// an Authorization header, and parses its Server-Sent Events here. Every value is set as text, never as markup.
"use strict";
(() => {
  const KEY = "orchestrator.console.admin-key";
  const FEED = "/admin/console/events";
  const $ = id => document.getElementById(id);
  let controller = null;
  let retryTimer = null;

  function setConnection(text, kind) {
    const el = $("connection");
    el.textContent = text;
    el.className = "connection" + (kind ? " " + kind : "");
  }

  function showLogin(message) {
    $("dashboard").hidden = true;
    $("login").hidden = false;
    $("forget").hidden = true;
    $("login-error").textContent = message || "";
    $("admin-key").focus();
  }

  function showDashboard() {
    $("login").hidden = true;
    $("dashboard").hidden = false;
    $("forget").hidden = false;
  }

  // SSE spec: lines end in CRLF, LF or CR; "event:" names the event, "data:" lines join with LF, a blank line
  // dispatches, a line starting with ":" is a comment; one optional space after the colon is dropped.
  function sseParser(onEvent) {
    let buffer = "", type = "", data = [], lastWasCr = false;
    function line(text) {
      if (text === "") {
        if (data.length) onEvent(type || "message", data.join("\n"));
        type = ""; data = [];
        return;
      }
      if (text.startsWith(":")) return;
      const colon = text.indexOf(":");
      const field = colon < 0 ? text : text.slice(0, colon);
      let value = colon < 0 ? "" : text.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") type = value;
      else if (field === "data") data.push(value);
    }
    return chunk => {
      buffer += chunk;
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer[i];
        if (c === "\n" && lastWasCr) { lastWasCr = false; start = i + 1; continue; }   // the LF of a CRLF
        lastWasCr = false;
        if (c === "\r" || c === "\n") {
          line(buffer.slice(start, i));
          lastWasCr = c === "\r";
          start = i + 1;
        }
      }
      buffer = buffer.slice(start);
    };
  }

  async function connect() {
    const key = sessionStorage.getItem(KEY);
    if (!key) { showLogin(); return; }
    clearTimeout(retryTimer);
    if (controller) controller.abort();
    controller = new AbortController();
    const signal = controller.signal;
    setConnection("Connecting…");
    let response;
    try {
      response = await fetch(FEED, { headers: { Authorization: "Bearer " + key, Accept: "text/event-stream" }, cache: "no-store", signal });
    } catch (e) {
      if (signal.aborted) return;
      return retry("The relay did not answer");
    }
    if (response.status === 401) {
      sessionStorage.removeItem(KEY);
      setConnection("Not connected", "down");
      return showLogin("That admin key was refused. Use one of orchestrator.admin.keys.");
    }
    if (response.status === 404) {
      sessionStorage.removeItem(KEY);
      setConnection("Not connected", "down");
      return showLogin("The admin API is off on this relay: set orchestrator.admin.keys to use the console.");
    }
    if (!response.ok || !response.body) return retry("The feed answered HTTP " + response.status);
    showDashboard();
    setConnection("Live", "live");
    const parse = sseParser((type, data) => { if (type === "snapshot") render(JSON.parse(data)); });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parse(value);
      }
    } catch (e) {
      if (signal.aborted) return;
    }
    if (!signal.aborted) retry("The feed ended");
  }

  function retry(why) {
    setConnection(why + "; reconnecting in 2 s", "down");
    retryTimer = setTimeout(connect, 2000);
  }

  // ---- rendering -------------------------------------------------------------------------------------------------

  function el(tag, text, className) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (className) e.className = className;
    return e;
  }

  function cell(row, label, content, className) {
    const td = el("td", null, className);
    td.dataset.label = label;
    if (content instanceof Node) td.append(content); else td.textContent = content === null || content === undefined ? "" : String(content);
    row.append(td);
    return td;
  }

  const STATES = new Set(["healthy", "degraded", "open", "half-open", "parked", "no key"]);
  function stateBadge(state) {
    return el("span", state, "state" + (STATES.has(state) ? " state-" + state.replace(" ", "-") : ""));
  }

  function ms(v) {
    if (v === null || v === undefined) return "–";
    return v >= 100 ? Math.round(v) + " ms" : v >= 1 ? v.toFixed(1) + " ms" : v.toFixed(3) + " ms";
  }

  function time(iso) {
    return iso ? new Date(iso).toLocaleTimeString() : "";
  }

  function spark(id, values) {
    const line = $(id).querySelector("polyline");
    const points = [];
    const n = values.length;
    const max = Math.max(1e-9, ...values.filter(v => v !== null));
    values.forEach((v, i) => {
      if (v === null) return;
      const x = n < 2 ? 120 : (i / (n - 1)) * 120;
      const y = 31 - (v / max) * 29;
      points.push(x.toFixed(1) + "," + y.toFixed(1));
    });
    line.setAttribute("points", points.join(" "));
  }

  function replaceRows(table, rows) {
    const body = table.tBodies[0];
    body.replaceChildren(...rows);
  }

  function render(s) {
    const c = s.counters;
    $("requests-per-s").textContent = c.requests_per_s.toFixed(c.requests_per_s < 10 ? 1 : 0);
    $("open-streams").textContent = String(c.open_streams);
    $("ttft").textContent = ms(c.ttft_p50_ms) + " / " + ms(c.ttft_p99_ms);
    $("overhead").textContent = ms(c.overhead_p50_ms) + " / " + ms(c.overhead_p99_ms);
    const classes = Object.entries(c.errors);
    $("errors-total").textContent = String(classes.reduce((sum, [, n]) => sum + n, 0));
    $("errors-by-class").replaceChildren(...(classes.length ? classes.map(([name, n]) => el("li", name + ": " + n)) : [el("li", "None")]));
    $("window-note").textContent = "Percentiles and errors over the last " + s.window_s + " seconds; charts show one point a second.";
    spark("spark-requests", s.series.requests);
    spark("spark-open-streams", s.series.open_streams);
    spark("spark-ttft", s.series.ttft_p50_ms);
    spark("spark-overhead", s.series.overhead_p50_ms);
    spark("spark-errors", s.series.errors);

    replaceRows($("providers"), s.providers.map(p => {
      const tr = el("tr");
      tr.dataset.provider = p.name;
      const name = el("span", p.name);
      const kind = el("span", " (" + p.kind + ")", "muted");
      const who = document.createDocumentFragment(); who.append(name, kind);
      cell(tr, "Provider", who);
      const state = cell(tr, "State", stateBadge(p.state), "state-cell");
      if (p.until) state.append(el("div", "until " + time(p.until), "muted"));
      cell(tr, "Breaker", p.breaker + (p.consecutive_failures ? " (" + p.consecutive_failures + " failed in a row)" : ""), "breaker");
      const h = p.health_check;
      cell(tr, "Health check", h ? (h.ok ? "ok, " + ms(h.latency_ms) : "failed after " + ms(h.latency_ms)) + " at " + time(h.at) : "none yet");
      cell(tr, "In flight", p.in_flight, "num");
      cell(tr, "Last error", p.last_error ? p.last_error + " (" + time(p.last_error_at) + ")" : "none", "detail");
      return tr;
    }));

    $("failures").hidden = s.failures.length === 0;
    $("failures-empty").hidden = s.failures.length !== 0;
    replaceRows($("failures"), s.failures.map(f => {
      const tr = el("tr");
      cell(tr, "Time", time(f.at));
      cell(tr, "Class", f.class);
      cell(tr, "Status", f.status === null ? "–" : f.status);
      cell(tr, "Where", f.source !== "request" ? "provider " + f.provider
        : f.provider === "none" ? "model " + f.model + " (no provider answered)" : "model " + f.model + " via " + f.provider);
      cell(tr, "Detail", f.message || (f.source === "request" ? "the client was answered " + f.status : ""), "detail");
      return tr;
    }));

    const keys = s.keys || [];
    $("keys").hidden = keys.length === 0;
    $("keys-empty").hidden = keys.length !== 0;
    $("keys-empty").textContent = s.keys === null ? "The ledger is not answering yet." : "No ledger keys yet.";
    replaceRows($("keys"), keys.map(k => {
      const tr = el("tr");
      tr.dataset.key = k.id;
      cell(tr, "Key", k.id);
      cell(tr, "Name", k.name);
      cell(tr, "Balance (USD)", k.balance_usd.toFixed(4), "num");
      cell(tr, "Spent (USD)", k.spent_usd.toFixed(4), "num");
      cell(tr, "Requests", k.requests, "num");
      cell(tr, "Status", k.revoked ? "revoked" : "active");
      return tr;
    }));
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("login").addEventListener("submit", e => {
      e.preventDefault();
      const key = $("admin-key").value.trim();
      if (!key) return;
      sessionStorage.setItem(KEY, key);
      $("admin-key").value = "";
      connect();
    });
    $("forget").addEventListener("click", () => {
      sessionStorage.removeItem(KEY);
      if (controller) controller.abort();
      clearTimeout(retryTimer);
      setConnection("Not connected");
      showLogin();
    });
    connect();
  });
})();
