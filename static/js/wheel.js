/* The daily wheel: spin through the API, light up the prize row the server drew and fill in the result card
   (templates/vip/wheel.html) from the spin's JSON and the wheel's state after it (the next commitment and the next
   spin time). The card's markup lives in the template; this only fills its slots. */
(function () {
  "use strict";
  var out = document.getElementById("spin-result");
  if (!out) return;
  var form = document.getElementById("spin-form");
  var card = document.getElementById("spin-card");
  var ladder = document.getElementById("prize-ladder");
  var commitment = document.getElementById("commitment");
  var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  // Same words as vip.views.wait_text: "5 h 12 m".
  function waitText(until) {
    var minutes = Math.max(0, Math.floor((until - Date.now()) / 60000));
    var h = Math.floor(minutes / 60), m = minutes % 60;
    if (h) return h + " h " + m + " m";
    return m ? m + " m" : "less than a minute";
  }
  function tick() {
    document.querySelectorAll("[data-slot=wait][data-until]").forEach(function (node) {
      var until = Date.parse(node.getAttribute("data-until"));
      if (isNaN(until)) return;
      node.textContent = until <= Date.now() ? "a moment — reload the page" : waitText(until);
    });
  }
  tick();
  setInterval(tick, 20000);

  function money(text) {
    var n = Number(text);
    return "$" + (isFinite(n) ? n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : text);
  }
  function fill(name, text) {
    card.querySelectorAll("[data-slot=" + name + "]").forEach(function (node) { node.textContent = String(text); });
  }

  var copy = document.getElementById("copy-code");
  if (copy && navigator.clipboard) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      navigator.clipboard.writeText(document.getElementById("reward-code").textContent.trim()).then(function () {
        copy.textContent = "Copied";
        setTimeout(function () { copy.textContent = "Copy"; }, 2000);
      });
    });
  }

  // Keyboard users keep their place: focus moves to the result line (announced: role=status), never to <body>.
  function say(text) {
    out.textContent = text;
    out.focus();
  }
  function mark(position) {
    if (!ladder) return;
    ladder.classList.remove("is-drawing");
    ladder.querySelectorAll("tr[data-positions]").forEach(function (row) {
      var hit = row.getAttribute("data-positions").split(" ").indexOf(String(position)) !== -1;
      row.classList.toggle("is-hit", hit);
    });
  }

  /* The card for `spin` (POST /api/v1/wheel/spin/) and `state` (GET /api/v1/wheel/ after it, or null if that
     failed: then no commitment is shown rather than the one the spin just used). */
  function show(spin, state) {
    var won = Boolean(spin.reward_code);
    card.setAttribute("data-state", won ? "win" : "none");
    card.querySelector("[data-when=win]").hidden = !won;
    card.querySelector("[data-when=none]").hidden = won;
    fill("amount", money(spin.reward_amount));
    fill("code", spin.reward_code || "");
    ["server_seed", "server_seed_hash", "client_seed", "nonce", "roll"].forEach(function (k) { fill(k, spin[k]); });
    document.getElementById("verify-link").href = "/wheel/verify/?server_seed=" + encodeURIComponent(spin.server_seed) +
      "&client_seed=" + encodeURIComponent(spin.client_seed) + "&nonce=" + spin.nonce;
    var fresh = state && state.server_seed_hash !== spin.server_seed_hash;
    if (fresh) document.getElementById("seed-hash").textContent = state.server_seed_hash;
    // The next spin: as the state says, else the UTC midnight after the spin's day (one spin per UTC day).
    var next = state && state.next_spin_at ? state.next_spin_at
      : new Date(Date.parse(spin.spin_date + "T00:00:00Z") + 86400000).toISOString();
    card.querySelectorAll("[data-slot=wait]").forEach(function (n) { n.setAttribute("data-until", next); });
    commitment.hidden = !fresh;
    if (form) form.hidden = true;
    card.hidden = false;
    mark(spin.position);
    out.setAttribute("data-segment", spin.segment);
    out.setAttribute("data-state", won ? "win" : "none");
    if (won) {
      say("You won " + spin.segment);
    } else {
      out.textContent = "No prize today — next spin in ";
      var wait = document.createElement("span");
      wait.setAttribute("data-slot", "wait");
      wait.setAttribute("data-until", next);
      wait.textContent = waitText(Date.parse(next));
      out.append(wait);
      out.focus();
    }
    tick();
  }

  if (!form) return;
  var button = document.getElementById("spin");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (button.disabled) return;
    say("Drawing your spin…");
    button.disabled = true;
    button.textContent = "Drawing…";
    if (ladder && !still) ladder.classList.add("is-drawing");
    // The hash on screen is the one this spin is about to use: it stops being "the next spin's" now.
    commitment.hidden = true;
    var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
    var started = Date.now();
    fetch("/api/v1/wheel/spin/", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ client_seed: document.getElementById("client-seed").value })
    }).then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (!res.ok) {
          if (ladder) ladder.classList.remove("is-drawing");
          button.disabled = false;
          button.textContent = "Spin now";
          commitment.hidden = false;
          say(res.body.error ? res.body.error.message : "Spin refused.");
          return;
        }
        var spin = res.body;
        var state = fetch("/api/v1/wheel/", { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : null; })
          .catch(function () { return null; });
        var wait = still ? 0 : Math.max(0, 1400 - (Date.now() - started));
        state.then(function (s) { setTimeout(function () { show(spin, s); }, wait); });
      })
      .catch(function () {
        if (ladder) ladder.classList.remove("is-drawing");
        button.disabled = false;
        button.textContent = "Spin now";
        commitment.hidden = false;
        say("The spin did not go through (network). Press Spin now again.");
      });
  });
})();
