/* steward browser SDK: served by steward at /sdk/steward.js, no other host.
 *
 *   steward.send("interaction_data", {language: "en_US"})
 *
 * Same origin by default: the page and steward share scheme, host and
 * port, and every post carries the CSRF token from /v1/csrf. For steward
 * on another origin, steward.configure({endpoint: "https://steward.example.org"})
 * and list the page's origin in the dataset's access.origins: posts then
 * go without a token (the CORS preflight that only listed origins pass
 * protects them). See docs/sdk.md.
 *
 * Events are written to localStorage before the first attempt and removed
 * only after a 2xx, so a closed tab or a server outage loses nothing; each
 * carries an event_id so the server stores a retried event once. A 4xx is
 * the client's mistake and is never retried. Opt-out, Do Not Track and
 * Global Privacy Control stop sending altogether. steward.noticeURL() is
 * the privacy notice to link from the page.
 */
(function (global) {
  "use strict";
  var QUEUE_KEY = "steward.queue.v1";
  var OPTOUT_KEY = "steward.optout.v1";
  var cfg = { endpoint: "", maxQueue: 500 };
  var csrfToken = null;
  var backoff = 0;
  var timer = null;
  var flushing = null;

  function uuid() {
    if (global.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function load() {
    try { return JSON.parse(localStorage.getItem(QUEUE_KEY)) || []; } catch (e) { return []; }
  }
  function save(q) {
    try { localStorage.setItem(QUEUE_KEY, JSON.stringify(q.slice(-cfg.maxQueue))); } catch (e) { /* storage full or blocked */ }
  }

  function refused() {
    try { if (localStorage.getItem(OPTOUT_KEY) === "1") return true; } catch (e) { /* ignore */ }
    return navigator.globalPrivacyControl === true || navigator.doNotTrack === "1";
  }

  // crossOrigin: steward is not on the page's own origin (docs/sdk.md).
  function crossOrigin() {
    if (!cfg.endpoint) return false;
    try { return new URL(cfg.endpoint, global.location.href).origin !== global.location.origin; } catch (e) { return false; }
  }

  function token(refresh) {
    if (csrfToken && !refresh) return Promise.resolve(csrfToken);
    return fetch(cfg.endpoint + "/v1/csrf", { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("csrf " + r.status); return r.json(); })
      .then(function (j) { csrfToken = j.token; return csrfToken; });
  }

  // post sends one chunk; it resolves "done" (delivered or rejected for
  // good) or "retry".
  function post(dataset, events, retried) {
    var body = events.length === 1 ? events[0] : { events: events };
    var cross = crossOrigin();
    // Across origins the preflight stands in for the token, and the
    // credentials go along so steward's opt-out cookie counts where the
    // browser sends it.
    var tok = cross ? Promise.resolve(null) : token(false);
    return tok.then(function (tok) {
      var headers = { "Content-Type": "application/json" };
      if (tok) headers["X-CSRF-Token"] = tok;
      return fetch(cfg.endpoint + "/v1/collect/" + encodeURIComponent(dataset), {
        method: "POST", credentials: cross ? "include" : "same-origin", keepalive: true,
        headers: headers, body: JSON.stringify(body)
      });
    }).then(function (r) {
      if (r.ok) return "done";
      if (r.status === 403 && !retried && !cross) {
        return r.json().then(function (p) {
          if (p && p.type === "urn:steward:problem:csrf") {
            csrfToken = null;
            return post(dataset, events, true);
          }
          return "done";
        }, function () { return "done"; });
      }
      if (r.status === 429 || r.status >= 500) {
        var ra = parseInt(r.headers.get("Retry-After"), 10);
        if (ra > 0) backoff = Math.max(backoff, ra * 1000);
        return "retry";
      }
      return "done"; // any other 4xx: the event is wrong; retrying cannot help
    }, function () { return "retry"; });
  }

  function schedule() {
    if (timer) return;
    backoff = Math.min(Math.max(backoff * 2, 1000), 5 * 60 * 1000);
    var wait = backoff / 2 + Math.random() * backoff / 2;
    timer = setTimeout(function () { timer = null; flush(); }, wait);
  }

  function flush() {
    if (flushing) return flushing;
    if (refused()) { save([]); return Promise.resolve(); }
    var q = load();
    if (!q.length) return Promise.resolve();
    var dataset = q[0].dataset;
    var chunk = q.filter(function (x) { return x.dataset === dataset; }).slice(0, 100);
    flushing = post(dataset, chunk.map(function (x) { return x.event; })).then(function (outcome) {
      flushing = null;
      if (outcome === "retry") { schedule(); return; }
      var sent = {};
      chunk.forEach(function (x) { sent[x.event.event_id] = true; });
      save(load().filter(function (x) { return !sent[x.event.event_id]; }));
      backoff = 0;
      return flush();
    });
    return flushing;
  }

  var steward = {
    configure: function (o) { for (var k in o) cfg[k] = o[k]; },
    send: function (dataset, event) {
      if (refused()) return Promise.resolve({ stored: false, reason: "opted out" });
      var e = {};
      for (var k in event) e[k] = event[k];
      e.event_id = e.event_id || uuid();
      var q = load();
      q.push({ dataset: dataset, event: e });
      save(q);
      return flush();
    },
    flush: flush,
    optOut: function () {
      try { localStorage.setItem(OPTOUT_KEY, "1"); } catch (e) { /* ignore */ }
      save([]);
      return fetch(cfg.endpoint + "/v1/opt-out", { method: "POST", credentials: crossOrigin() ? "include" : "same-origin" });
    },
    optIn: function () {
      try { localStorage.removeItem(OPTOUT_KEY); } catch (e) { /* ignore */ }
      // Clearing steward's cookie takes a CSRF token, which only its own
      // origin can fetch; across origins the SDK's flag is all there is.
      if (crossOrigin()) return Promise.resolve();
      return token(false).then(function (tok) {
        return fetch(cfg.endpoint + "/v1/opt-out", { method: "DELETE", credentials: "same-origin", headers: { "X-CSRF-Token": tok } });
      });
    },
    isOptedOut: refused,
    // The privacy notice steward generates, to link from wherever the
    // page collects data; with a dataset, its section of the notice.
    noticeURL: function (dataset) {
      return base() + "/privacy" + (dataset ? "#" + encodeURIComponent(dataset) : "");
    },
    // A dataset's short disclaimer, as text ("txt") or an HTML fragment
    // ("html") to show beside what collects it.
    disclaimerURL: function (dataset, format) {
      return base() + "/privacy/disclaimers/" + encodeURIComponent(dataset) + (format === "html" ? ".html" : ".txt");
    }
  };

  function base() { return cfg.endpoint || global.location.origin; }
  global.steward = steward;
  global.addEventListener("online", function () { backoff = 0; flush(); });
  setTimeout(flush, 0); // events left by an earlier page
})(window);
