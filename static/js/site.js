/* GoatedVIPs public pages: countdowns in the viewer's time zone, live leaderboards and race standings, and the
   rank-over-time chart. No dependencies. Live data: a WebSocket says "something changed" (any message, the
   connect snapshot included), then the page re-reads the JSON API, so a reconnect always shows fresh data. */
(function () {
  "use strict";

  function fmtMoney(text) {
    var n = Number(text);
    return "$" + (isFinite(n) ? n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : text);
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.append(c); });
    return node;
  }

  /* --- countdowns -------------------------------------------------------------------------------------- */
  function tickCountdowns() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (node) {
      var until = Date.parse(node.getAttribute("data-countdown"));
      if (isNaN(until)) return;
      if (!node.title) node.title = new Date(until).toLocaleString() + " (your time)";
      var s = Math.max(0, Math.floor((until - now) / 1000));
      var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
      node.textContent = s === 0 ? "now" : (d ? d + "d " : "") + h + "h " + m + "m " + (s % 60) + "s";
    });
    // Tiles (core/templatetags/ui.py): days, hours, minutes, seconds, two digits each.
    document.querySelectorAll("[data-countdown-tiles]").forEach(function (node) {
      var until = Date.parse(node.getAttribute("data-countdown-tiles"));
      if (isNaN(until)) return;
      var s = Math.max(0, Math.floor((until - now) / 1000));
      var parts = [Math.floor(s / 86400), Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60];
      node.querySelectorAll(".tile b").forEach(function (b, i) { b.textContent = String(parts[i]).padStart(2, "0"); });
    });
  }

  /* --- a reconnecting socket, polling while it cannot connect ------------------------------------------ */
  /* onMessage(data) on every socket message; while the socket is down (never connected, or dropped and not yet
     back) onMessage(null) every POLL_MS instead, so the page stays current behind a proxy that refuses
     WebSockets (the page itself is as fresh as its first poll would be). */
  var POLL_MS = 15000;
  function liveSocket(path, onMessage) {
    var attempt = 0, socket = null, stopped = false, pollTimer = null;
    var DAY = 24 * 3600 * 1000;
    function startPolling() {
      if (pollTimer || stopped) return;
      document.documentElement.setAttribute("data-live", "polling");
      pollTimer = setInterval(function () { onMessage(null); }, POLL_MS);
    }
    function stopPolling() {
      if (pollTimer) clearInterval(pollTimer);
      pollTimer = null;
      document.documentElement.setAttribute("data-live", "socket");
    }
    function connect() {
      var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
      try { socket = new WebSocket(url); } catch (e) { startPolling(); return retry(); }
      var opened = Date.now();
      socket.onopen = function () { attempt = 0; stopPolling(); };
      socket.onmessage = function (event) {
        var data = null;
        try { data = JSON.parse(event.data); } catch (e) { return; }
        onMessage(data);
      };
      socket.onclose = function () { if (!stopped) { startPolling(); retry(); } };
      // Channel groups expire after a day: reconnect daily so the subscription never lapses silently.
      setTimeout(function () { if (socket && Date.now() - opened >= DAY) socket.close(); }, DAY);
    }
    function retry() {
      attempt += 1;
      var delay = Math.min(30000, 500 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
      setTimeout(connect, delay);
    }
    connect();
    return { stop: function () { stopped = true; stopPolling(); if (socket) socket.close(); } };
  }

  function cue(root) {
    var node = (root || document).querySelector("[data-updated-cue]") || document.querySelector("[data-updated-cue]");
    if (!node) return;
    node.textContent = "Updated " + new Date().toISOString().slice(11, 19) + " UTC";
    node.setAttribute("data-refreshes", String(Number(node.getAttribute("data-refreshes") || 0) + 1));
    node.classList.remove("flash-cue");
    void node.offsetWidth;
    node.classList.add("flash-cue");
  }

  /* --- live leaderboard -------------------------------------------------------------------------------- */
  function liveBoard(table) {
    var period = table.getAttribute("data-period"), limit = table.getAttribute("data-limit") || "50";
    var hasTier = table.querySelectorAll("thead th").length === 4;
    var colorsNode = document.getElementById("tier-colors");
    var tierColors = colorsNode ? JSON.parse(colorsNode.textContent) : {};
    var busy = false;
    function refresh(msg, attempt) {
      if (busy) return;
      busy = true;
      var wanted = msg && msg.type === "leaderboard.updated" ? msg.updated_at : null;
      fetch("/api/v1/leaderboard/?period=" + encodeURIComponent(period) + "&limit=" + limit, { credentials: "omit" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          // Another web process may serve the previous sync for up to a second: ask again shortly.
          if (wanted && data.updated_at && data.updated_at < wanted && (attempt || 0) < 3) {
            setTimeout(function () { refresh(msg, (attempt || 0) + 1); }, 700);
            return;
          }
          // Nothing changed since the last answer (a poll, a repeated event): only the "Updated" cue moves.
          var key = JSON.stringify(data.results);
          if (key === table.getAttribute("data-shown")) { cue(table.closest("main")); return; }
          table.setAttribute("data-shown", key);
          // A row is "moved" when its rank or its wager changed: compared as values, never as rendered text.
          var before = {};
          table.querySelectorAll("tbody tr").forEach(function (tr) {
            before[tr.getAttribute("data-uid")] = tr.getAttribute("data-rank") + "|" + tr.getAttribute("data-wagered");
          });
          var body = el("tbody");
          data.results.forEach(function (row) {
            var cells = [el("td", {}, [String(row.rank)]), el("td", {}, [el("a", { href: "/players/" + encodeURIComponent(row.uid) + "/" }, [row.name])])];
            if (hasTier) {
              var badge = row.tier ? el("span", { "class": "tier" }, [row.tier]) : null;
              if (badge && tierColors[row.tier]) badge.style.setProperty("--tier", tierColors[row.tier]);
              cells.push(el("td", {}, badge ? [badge] : []));
            }
            cells.push(el("td", { "class": "num" }, [fmtMoney(row.wagered)]));
            var tr = el("tr", { "data-uid": row.uid, "data-rank": String(row.rank), "data-wagered": row.wagered }, cells);
            var was = before[row.uid];
            if (was !== undefined && was !== row.rank + "|" + row.wagered) tr.classList.add("moved");
            body.append(tr);
          });
          table.tBodies[0].replaceWith(body);
          cue(table.closest("main"));
        })
        .finally(function () { busy = false; });
    }
    liveSocket("/ws/leaderboard/?period=" + encodeURIComponent(period), refresh);
  }

  /* --- live race standings ----------------------------------------------------------------------------- */
  /* Rows that changed rank or wager flash; a rank change keeps its arrow (▲ up, ▼ down, by how many places)
     until the row changes again. The podium (avatars, names, figures) and the "you are #N" card are re-read as
     the page's own HTML when they may have changed, like a raffle page. */
  function uidOf(tr) {
    var a = tr.querySelector("a[href^='/players/']");
    return a ? decodeURIComponent(a.getAttribute("href").split("/")[2]) : null;
  }
  function liveRace(table) {
    var id = table.getAttribute("data-live-race"), moves = {}, busy = false;
    function arrow(delta) {
      var up = delta > 0;
      return el("span", { "class": "move " + (up ? "up" : "down"), title: (up ? "Up " : "Down ") + Math.abs(delta) + (Math.abs(delta) === 1 ? " place" : " places") },
        [el("span", { "aria-hidden": "true" }, [up ? " ▲" : " ▼"]), String(Math.abs(delta)), el("span", { "class": "visually-hidden" }, [up ? " places up" : " places down"])]);
    }
    function refresh() {
      if (busy) return;
      busy = true;
      fetch("/api/v1/races/" + id + "/?limit=100", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (race) {
          if (!race) return;
          if (race.status !== "live") { location.reload(); return; }
          var key = JSON.stringify(race.standings);
          if (key === table.getAttribute("data-shown")) return;  // nothing changed: only the cue moves
          table.setAttribute("data-shown", key);
          var before = {}, top = [];
          table.querySelectorAll("tbody tr").forEach(function (tr) {
            var cells = tr.querySelectorAll("td");
            before[uidOf(tr)] = { rank: parseInt(cells[0].textContent, 10), wagered: cells[2].textContent };
          });
          var body = el("tbody");
          race.standings.forEach(function (s) {
            var name = [el("a", { href: "/players/" + encodeURIComponent(s.uid) + "/" }, [s.name])];
            if (!s.prize_eligible) name.push(" ", el("small", { "class": "muted" }, ["below min."]));
            var was = before[s.uid], wagered = fmtMoney(s.wagered);
            if (was && was.rank !== s.rank) moves[s.uid] = was.rank - s.rank;
            var rankCell = el("td", {}, [String(s.rank)]);
            if (moves[s.uid]) rankCell.append(arrow(moves[s.uid]));
            var tr = el("tr", { "data-uid": s.uid }, [rankCell, el("td", {}, name),
              el("td", { "class": "num" }, [wagered]),
              el("td", { "class": "num" }, [Number(s.prize) > 0 ? fmtMoney(s.prize) : "–"])]);
            if (was && (was.rank !== s.rank || was.wagered !== wagered)) tr.classList.add("moved");
            body.append(tr);
          });
          race.standings.slice(0, 3).forEach(function (s) { top.push(s.uid + "|" + s.wagered); });
          table.tBodies[0].replaceWith(body);
          // A race drawn before anyone wagered shows its table (and drops the "nobody yet" line) once someone has.
          table.closest(".table-wrap").hidden = race.standings.length === 0;
          var empty = document.querySelector("[data-standings-empty]");
          if (empty) empty.hidden = race.standings.length > 0;
          var range = document.querySelector("[data-standings-range]");
          if (range && race.standings.length) range.textContent = "Showing 1–" + race.standings.length.toLocaleString("en-US") + " of " + Number(race.standings_total || race.standings.length).toLocaleString("en-US");
          var podiumKey = top.join(",");
          if (podiumKey !== table.getAttribute("data-podium") || document.getElementById("you-card")) {
            table.setAttribute("data-podium", podiumKey);
            return swapParts();
          }
        })
        .then(function () { cue(); })
        .finally(function () { busy = false; });
    }
    function swapParts() {
      return fetch(location.pathname, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var fresh = new DOMParser().parseFromString(html, "text/html");
          [".podium", "#you-card"].forEach(function (sel) {
            var now = document.querySelector(sel), next = fresh.querySelector(sel);
            if (now && next) now.replaceWith(next);
          });
        });
    }
    liveSocket("/ws/races/" + id + "/", function (msg) {
      if (msg && msg.type === "race.completed") { location.reload(); return; }
      refresh();
    });
  }

  /* A raffle page: on any event of its socket, the page's live parts (tickets, leaders, winners, status) are
     fetched again as HTML (with the visitor's own tickets) and swapped in place. */
  function liveRaffle(root) {
    var id = root.getAttribute("data-raffle"), busy = false;
    var parts = ["raffle", "my-tickets", "leaders", "winners", "fairness"];
    function refresh() {
      if (busy) return;
      busy = true;
      fetch(location.pathname, { headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var fresh = new DOMParser().parseFromString(html, "text/html");
          parts.forEach(function (part) {
            var now = document.getElementById(part), next = fresh.getElementById(part);
            if (now && next) { now.replaceWith(next); cue(next); }
          });
        })
        .finally(function () { busy = false; });
    }
    liveSocket("/ws/raffles/" + id + "/", refresh);
  }

  /* --- rank over time chart ---------------------------------------------------------------------------- */
  var COLORS = ["#D7FF00", "#60A5FA", "#F472B6", "#34D399", "#FBBF24", "#A78BFA", "#F87171", "#22D3EE", "#FB923C", "#E5E7EB"];
  function chart(box) {
    fetch(box.getAttribute("data-progress-chart"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || data.samples.length < 2) return;
        var last = data.samples[data.samples.length - 1].standings.slice(0, 10);
        var names = last.map(function (s) { return s.uid; });
        var W = 640, H = 260, P = 24, maxRank = 10;
        var t0 = Date.parse(data.samples[0].taken_at), t1 = Date.parse(data.samples[data.samples.length - 1].taken_at);
        var svgNS = "http://www.w3.org/2000/svg";
        var svg = document.createElementNS(svgNS, "svg");
        svg.setAttribute("viewBox", "0 0 " + W + " " + H);
        var legend = el("div", { "class": "legend" });
        names.forEach(function (uid, i) {
          var pts = [];
          data.samples.forEach(function (sample) {
            var hit = sample.standings.find(function (s) { return s.uid === uid; });
            if (!hit || hit.rank > maxRank) return;
            var x = P + (W - 2 * P) * ((Date.parse(sample.taken_at) - t0) / Math.max(1, t1 - t0));
            var y = P + (H - 2 * P) * ((hit.rank - 1) / (maxRank - 1));
            pts.push(x.toFixed(1) + "," + y.toFixed(1));
          });
          var line = document.createElementNS(svgNS, "polyline");
          line.setAttribute("points", pts.join(" "));
          line.setAttribute("fill", "none");
          line.setAttribute("stroke", COLORS[i % COLORS.length]);
          line.setAttribute("stroke-width", "2");
          svg.append(line);
          var swatch = el("span", { "class": "swatch", "aria-hidden": "true" });
          swatch.style.background = COLORS[i % COLORS.length];
          legend.append(el("span", {}, [swatch, " #" + last[i].rank + " " + last[i].name]));
        });
        box.replaceChildren(svg, legend);
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tickCountdowns();
    setInterval(tickCountdowns, 1000);
    document.querySelectorAll("[data-live-board]").forEach(liveBoard);
    document.querySelectorAll("[data-live-race]").forEach(liveRace);
    document.querySelectorAll("[data-raffle]").forEach(liveRaffle);
    document.querySelectorAll("[data-progress-chart]").forEach(chart);
  });
})();
