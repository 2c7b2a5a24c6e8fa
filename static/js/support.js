/* A support thread that updates live: /ws/support/<id>/ pushes "ticket.message" events, each with the ticket's
   state after it (a staff reply moves an open ticket to "in progress"), shown in the header. */
(function () {
  "use strict";
  var thread = document.getElementById("thread");
  if (!thread) return;
  var seen = {};
  thread.querySelectorAll("[data-id]").forEach(function (n) { seen[n.getAttribute("data-id")] = true; });
  function add(m) {
    if (seen[m.id]) return;
    seen[m.id] = true;
    var box = document.createElement("div");
    box.className = "msg" + (m.is_staff_reply ? " staff" : "");
    box.setAttribute("data-id", m.id);
    var who = document.createElement("p");
    who.className = "who";
    who.textContent = m.signature;  // signed by the server (TicketMessage.signature), never composed here
    var body = document.createElement("p");
    body.textContent = m.body;
    box.append(who, body);
    thread.append(box);
  }
  var statusBox = document.getElementById("ticket-status");
  var statusVersion = 0;
  function showStatus(ticket, version) {
    // Events can arrive after a newer snapshot (reconnects): only a newer state replaces the one shown.
    if (!statusBox || !ticket || !ticket.status_label || version < statusVersion) return;
    statusVersion = version;
    statusBox.textContent = ticket.status_label;
    statusBox.setAttribute("data-status", ticket.status);
  }
  // Closed by staff while the page is open: no reply box, and the page says why. Reopened: the page is
  // reloaded once, to get a fresh form (with its CSRF token) from the server.
  function replyBox(status) {
    var form = document.querySelector("form.reply");
    if (status === "closed" && form) {
      var note = document.createElement("div");
      note.id = "ticket-closed";
      var says = document.createElement("p");
      says.className = "empty";
      says.textContent = "This ticket is closed. Open a new one if you need more help.";
      note.append(says);
      var draft = form.querySelector("textarea");
      if (draft && draft.value.trim()) {  // nothing typed is lost: the unsent text stays, to copy
        var kept = document.createElement("textarea");
        kept.readOnly = true;
        kept.rows = 3;
        kept.value = draft.value;
        kept.setAttribute("aria-label", "Your unsent message");
        note.append(kept);
      }
      form.replaceWith(note);
    } else if (status !== "closed" && !form && !window.__noReload) {
      location.replace(location.pathname);  // a GET, even if this page answered a POST
    }
  }
  var attempt = 0;
  function connect() {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host +
      "/ws/support/" + thread.getAttribute("data-ticket") + "/");
    ws.onopen = function () { attempt = 0; };
    ws.onmessage = function (event) {
      var msg = JSON.parse(event.data);
      if (msg.type === "snapshot") {
        // A snapshot carries the latest messages only: if even its oldest is new to this page, messages were
        // missed in between (a long time away), so the page is read again instead of showing a gap.
        var first = msg.data.messages[0];
        if (msg.data.more && first && !seen[first.id] && !window.__noReload) {
          location.replace(location.pathname);
          return;
        }
        msg.data.messages.forEach(add);
        showStatus(msg.data.ticket, msg.version);
        if (msg.data.ticket) replyBox(msg.data.ticket.status);
      }
      if (msg.type === "ticket.message") {
        add(msg.message);
        showStatus(msg.ticket, msg.version);
      }
      if (msg.type === "ticket.updated") {
        showStatus(msg.ticket, msg.version);
        replyBox(msg.ticket.status);
      }
    };
    ws.onclose = function (event) {
      if (event.code >= 4400 && event.code < 4500) return;  // refused: retrying will not help
      attempt += 1;
      setTimeout(connect, Math.min(30000, 500 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2));
    };
  }
  connect();
})();
