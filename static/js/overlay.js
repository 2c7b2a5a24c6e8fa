/* Stream overlays (OBS browser sources): race, leaderboard, raffle and ticker. The page's data island carries
   the first snapshot, the socket path and the poll URL. The socket sends a fresh snapshot on every change; while
   it is down the page polls data.json every few seconds and reconnects with backoff. A 4404 close (the link was
   revoked or rotated) blanks the overlay for good. Names come from the feed: they are only ever textContent. */
(function () {
  "use strict";

  var island = JSON.parse(document.getElementById("overlay-data").textContent);
  var root = document.getElementById("overlay");
  var html = document.documentElement;
  var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var POLL_MS = 4000, RESNAPSHOT_MS = 60000, GONE = 4404;
  var PERIODS = { today: "Today", weekly: "This week", monthly: "This month", all_time: "All time" };
  var last = null, lastVersion = 0, deadline = null, countdownNodes = [];

  /* --- formatting -------------------------------------------------------------------------------------- */
  /* Amounts cut (never rounded up): wagers in whole dollars, prizes with cents only when they have some. */
  function money(text, whole) {
    var n = Number(text);
    if (!isFinite(n)) return "$" + text;
    var cents = Math.floor(n * 100 + 1e-6) / 100, digits = whole || cents % 1 === 0 ? 0 : 2;
    if (whole) cents = Math.floor(cents);
    return "$" + cents.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  function duration(seconds) {
    var s = Math.max(0, Math.floor(seconds)), d = Math.floor(s / 86400);
    var h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    function two(x) { return (x < 10 ? "0" : "") + x; }
    return (d ? d + "d " : "") + two(h) + ":" + two(m) + ":" + two(sec);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /* --- options: theme, accent, font size ----------------------------------------------------------------- */
  function applyOptions(options) {
    options = options || {};
    html.setAttribute("data-theme", options.theme === "light" ? "light" : "dark");
    if (/^#[0-9a-fA-F]{6}$/.test(options.accent || "")) html.style.setProperty("--accent", options.accent);
    var fs = Number(options.font_size);
    if (fs >= 12 && fs <= 72) html.style.setProperty("--fs", String(fs));
  }

  /* --- the countdown --------------------------------------------------------------------------------------- */
  function setCountdown(node, seconds, prefix) {
    countdownNodes = node ? [node] : [];
    deadline = typeof seconds === "number" ? { at: Date.now() + seconds * 1000, prefix: prefix || "" } : null;
    tick();
  }

  function tick() {
    if (!countdownNodes.length || !deadline) return;
    var left = (deadline.at - Date.now()) / 1000;
    countdownNodes.forEach(function (node) { node.textContent = left > 0 ? deadline.prefix + duration(left) : "Ended"; });
  }

  /* --- the panel and its rows (keyed by uid, so a rank change moves the row) ---------------------------- */
  var panel = null, list = null, rowsByUid = {};

  function panelFor(kind) {
    if (panel && panel.getAttribute("data-kind") === kind) return panel;
    root.textContent = "";
    panel = el("section", "panel");
    panel.setAttribute("data-kind", kind);
    var head = el("header", "panel-head");
    head.append(el("div", "panel-title"), el("div", "countdown"));
    list = el("ol", "rows");
    panel.append(head, list, el("p", "note"));
    root.append(panel);
    rowsByUid = {};
    return panel;
  }

  function head(title, sub) {
    var titleNode = panel.querySelector(".panel-title");
    titleNode.textContent = title;
    var count = panel.querySelector(".countdown");
    count.textContent = sub || "";
    return count;
  }

  function note(text) {
    var node = panel.querySelector(".note");
    node.textContent = text || "";
    node.hidden = !text;
  }

  function rowNode(uid) {
    var row = rowsByUid[uid];
    if (row) return row;
    row = el("li", "row new");
    row.setAttribute("data-uid", uid);
    row.append(el("span", "rank"), el("span", "name"), el("span", "figure"), el("span", "prize"));
    rowsByUid[uid] = row;
    return row;
  }

  /* Draw `items` ({uid, rank, name, figure, prize?}) in order. FLIP: rows that moved slide from where they were
     (no slide with reduced motion); a row that climbed flashes. */
  function drawRows(items, withPrize) {
    var before = {};
    Object.keys(rowsByUid).forEach(function (uid) {
      before[uid] = { top: rowsByUid[uid].getBoundingClientRect().top, rank: Number(rowsByUid[uid].getAttribute("data-rank")) };
    });
    var keep = {};
    items.forEach(function (item) {
      var row = rowNode(item.uid);
      keep[item.uid] = true;
      row.setAttribute("data-rank", String(item.rank));
      row.classList.toggle("with-prize", !!withPrize);
      row.children[0].textContent = String(item.rank);
      row.children[1].textContent = item.name;
      row.children[2].textContent = item.figure;
      row.children[3].textContent = withPrize ? item.prize : "";
      row.children[3].hidden = !withPrize;
      list.append(row); // appending in order moves existing rows into place
    });
    Object.keys(rowsByUid).forEach(function (uid) {
      if (!keep[uid]) { rowsByUid[uid].remove(); delete rowsByUid[uid]; }
    });
    items.forEach(function (item) {
      var row = rowsByUid[item.uid], was = before[item.uid];
      if (!was) return;
      row.classList.remove("new", "up");
      if (item.rank < was.rank) { void row.offsetWidth; row.classList.add("up"); }
      var dy = was.top - row.getBoundingClientRect().top;
      if (!dy || reduced || !row.animate) return;
      row.animate([{ transform: "translateY(" + dy + "px)" }, { transform: "none" }],
                  { duration: 600, easing: "cubic-bezier(.2,.8,.2,1)" });
    });
  }

  /* --- the kinds ---------------------------------------------------------------------------------------- */
  function drawRace(data) {
    panelFor("race");
    var race = data.race;
    if (!race) {
      var next = data.next_race;
      setCountdown(head(next ? next.title : "No live race", ""), next ? next.starts_in_seconds : null, "Starts in ");
      drawRows([], false);
      note(next ? "" : "The next race shows here when it starts.");
      return;
    }
    var count = head(race.title);
    if (race.status === "live") setCountdown(count, race.time_left_seconds, "Ends in ");
    else { setCountdown(null, null); count.textContent = race.status === "completed" ? "Final" : ""; }
    drawRows(race.rows.map(function (r) {
      return { uid: r.uid, rank: r.rank, name: r.name, figure: money(r.wagered, true), prize: Number(r.prize) > 0 ? money(r.prize) : "" };
    }), true);
    note(race.rows.length ? "" : "No wagers yet. Be the first!");
  }

  function drawLeaderboard(data) {
    panelFor("leaderboard");
    var board = data.leaderboard || { rows: [] };
    setCountdown(null, null);
    head("Leaderboard", PERIODS[board.period] || board.period);
    drawRows(board.rows.map(function (r) {
      return { uid: r.uid, rank: r.rank, name: r.name, figure: money(r.wagered, true) };
    }), false);
    note(board.rows.length ? "" : "No wagers yet in this period.");
  }

  function drawRaffle(data) {
    panelFor("raffle");
    var raffle = data.raffle;
    if (!raffle) {
      setCountdown(null, null);
      head("No open raffle", "");
      drawRows([], false);
      note("The next raffle shows here when it opens.");
      return;
    }
    var count = head(raffle.title);
    if (raffle.status === "drawn") {
      setCountdown(null, null);
      count.textContent = "Winners";
      drawRows(raffle.winners.map(function (w) {
        return { uid: w.uid, rank: w.position, name: w.name, figure: w.tickets + (w.tickets === 1 ? " ticket" : " tickets"), prize: Number(w.prize) > 0 ? money(w.prize) : "" };
      }), true);
      note(raffle.winners.length ? "" : "Drawn: no entries.");
      return;
    }
    if (raffle.status === "open") setCountdown(count, raffle.time_left_seconds, "Draw in ");
    else { setCountdown(null, null); count.textContent = raffle.status === "cancelled" ? "Cancelled" : "Soon"; }
    drawRows(raffle.rows.map(function (r) {
      return { uid: r.uid, rank: r.rank, name: r.name, figure: r.tickets + (r.tickets === 1 ? " ticket" : " tickets") };
    }), false);
    note(raffle.rows.length ? "" : "No tickets yet.");
  }

  function tickerItem(label, parts) {
    var item = el("span", "ticker-item");
    if (label) item.append(el("span", "label", label));
    parts.forEach(function (p) { item.append(el("span", p[0], p[1])); });
    return item;
  }

  function drawTicker(data) {
    var moving = root.querySelector(".ticker-track");
    if (!moving) root.textContent = "";
    panel = null;
    var bar = el("div", "ticker"), track = el("div", "ticker-copy"), race = data.race;
    if (race) {
      var left = el("span", "countdown");
      track.append(tickerItem(race.title, [["figure", "Prize pool " + money(race.prize_pool)]]));
      var ends = tickerItem("Ends in", []);
      ends.append(left);
      track.append(ends);
      setCountdown(left, race.status === "live" ? race.time_left_seconds : null, "");
      race.rows.forEach(function (r) {
        var parts = [["name", "#" + r.rank + " " + r.name], ["figure", money(r.wagered, true)]];
        if (Number(r.prize) > 0) parts.push(["prize", "wins " + money(r.prize)]);
        track.append(tickerItem("", parts));
      });
    } else {
      setCountdown(null, null);
    }
    var board = data.leaderboard;
    if (board && board.rows.length) {
      track.append(tickerItem(PERIODS[board.period] || board.period, []));
      board.rows.forEach(function (r) {
        track.append(tickerItem("", [["name", "#" + r.rank + " " + r.name], ["figure", money(r.wagered, true)]]));
      });
    }
    // Two copies side by side scroll by one copy's width, then start again: a loop without a seam.
    var copy = track.cloneNode(true);
    countdownNodes = countdownNodes.concat(Array.prototype.slice.call(copy.querySelectorAll(".countdown")));
    tick();
    if (moving) { moving.replaceChildren(track, copy); return; } // new figures; the scroll goes on where it was
    moving = el("div", "ticker-track");
    moving.append(track, copy);
    bar.append(moving);
    root.append(bar);
    // The same speed whatever the length: about 8 characters a second at the chosen size.
    var seconds = Math.max(20, Math.round(track.textContent.length / 8));
    moving.style.setProperty("--ticker-seconds", seconds + "s");
  }

  var DRAW = { race: drawRace, leaderboard: drawLeaderboard, raffle: drawRaffle, ticker: drawTicker };

  function render(data) {
    if (!data || !DRAW[data.kind]) return;
    last = data;
    applyOptions(data.options);
    DRAW[data.kind](data);
    html.setAttribute("data-renders", String(Number(html.getAttribute("data-renders") || 0) + 1));
  }

  /* --- the link is gone: blank, for good ---------------------------------------------------------------- */
  var gone = false;
  function goneForGood() {
    gone = true;
    stopPolling();
    root.textContent = "";
    panel = null;
    countdownNodes = [];
    html.setAttribute("data-state", "revoked");
  }

  /* --- polling while the socket is down -------------------------------------------------------------------- */
  var pollTimer = null;
  function poll() {
    fetch(island.poll, { credentials: "omit", cache: "no-store" }).then(function (response) {
      if (response.status === 404) { goneForGood(); return null; }
      return response.ok ? response.json() : null;
    }).then(function (data) { if (data && !gone) render(data); }).catch(function () {});
  }
  function startPolling() {
    if (pollTimer || gone) return;
    html.setAttribute("data-state", "polling");
    poll();
    pollTimer = setInterval(poll, POLL_MS);
  }
  function stopPolling() {
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
  }

  /* --- the socket ------------------------------------------------------------------------------------------ */
  var attempt = 0, socket = null, resnapshot = null;
  function connect() {
    if (gone) return;
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + island.socket;
    try { socket = new WebSocket(url); } catch (e) { return retry(); }
    socket.onopen = function () {
      attempt = 0;
      stopPolling();
      html.setAttribute("data-state", "live");
      // A race that starts or a raffle that opens sends no event to this socket yet: ask again now and then.
      resnapshot = setInterval(function () {
        if (socket && socket.readyState === 1) socket.send('{"type": "snapshot"}');
      }, RESNAPSHOT_MS);
    };
    socket.onmessage = function (event) {
      var msg = null;
      try { msg = JSON.parse(event.data); } catch (e) { return; }
      if (!msg || msg.type !== "snapshot" || msg.version < lastVersion) return;
      lastVersion = msg.version;
      render(msg.data);
    };
    socket.onclose = function (event) {
      if (resnapshot) clearInterval(resnapshot);
      resnapshot = null;
      socket = null;
      if (event.code === GONE) { goneForGood(); return; }
      startPolling();
      retry();
    };
  }
  function retry() {
    attempt += 1;
    var delay = Math.min(30000, 1000 * Math.pow(2, attempt - 1)) * (0.75 + Math.random() / 4);
    setTimeout(connect, delay);
  }

  render(island.data);
  setInterval(tick, 1000);
  connect();
  // For tests and OBS's "Interact": the last data drawn.
  window.overlayState = function () { return last; };
})();
