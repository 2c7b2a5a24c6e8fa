/* The bell in the header: the unread count, live over /ws/notifications/; polls the API while the socket
   cannot connect. The notifications page also gets new notifications at the top without a reload. */
(function () {
  "use strict";
  var bell = document.getElementById("bell");
  var badge = document.getElementById("bell-count");
  if (!bell || !badge) return;
  var POLL_MS = 30000;
  var unread = Number(bell.getAttribute("data-unread")) || 0;
  var pollTimer = null;

  function show(count) {
    unread = Math.max(0, count);
    badge.textContent = String(unread);
    badge.hidden = unread === 0;
    bell.setAttribute("data-unread", String(unread));
    bell.setAttribute("aria-label", "Notifications, " + unread + " unread");
  }

  function addToList(n) {
    var list = document.getElementById("notification-list");
    if (!list || list.querySelector('[data-id="' + n.id + '"]')) return;
    var item = document.createElement("li");
    item.className = "note unread";
    item.setAttribute("data-id", String(n.id));
    var title = document.createElement("p");
    title.className = "title";
    var strong = document.createElement("strong");
    strong.textContent = n.title;
    title.appendChild(strong);
    item.appendChild(title);
    if (n.body) {
      var body = document.createElement("p");
      body.textContent = n.body;
      item.appendChild(body);
    }
    // Only a page of this site: "//host" and "/\\host" lead elsewhere (the server refuses them too: core/links.py).
    if (n.url && n.url.charAt(0) === "/" && n.url.charAt(1) !== "/" && n.url.charAt(1) !== "\\" && !/\s/.test(n.url)) {
      var open = document.createElement("a");
      open.href = n.url;
      open.textContent = "Open";
      item.appendChild(open);
    }
    list.insertBefore(item, list.firstChild);
    list.hidden = false;
    var empty = document.getElementById("notification-empty");
    if (empty) empty.hidden = true;
  }

  function poll() {
    fetch("/api/v1/notifications/?unread=1&limit=1", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (body) show(body.unread); })
      .catch(function () {});
  }

  function startPolling() {
    if (pollTimer) return;
    poll();
    pollTimer = window.setInterval(poll, POLL_MS);
  }

  function stopPolling() {
    if (pollTimer) window.clearInterval(pollTimer);
    pollTimer = null;
  }

  var retry = 1000;
  function connect() {
    var ws;
    try {
      ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/notifications/");
    } catch (e) {
      startPolling();
      return;
    }
    var opened = false;
    ws.onopen = function () { opened = true; retry = 1000; stopPolling(); };
    ws.onmessage = function (event) {
      var msg;
      try { msg = JSON.parse(event.data); } catch (e) { return; }
      if (msg.type === "snapshot" && msg.data) show(msg.data.unread_count);
      else if (msg.type === "notification" && msg.notification) { show(unread + 1); addToList(msg.notification); }
      else if (msg.type === "notifications.read") show(msg.unread);
    };
    ws.onclose = function (event) {
      if (event.code === 4401 || event.code === 4403) { startPolling(); return; }  // signed out or refused
      startPolling();  // meanwhile the count still moves
      if (!opened && retry > 30000) return;
      window.setTimeout(connect, retry);
      retry = Math.min(retry * 2, 60000);
    };
  }
  if ("WebSocket" in window) connect(); else startPolling();
})();
