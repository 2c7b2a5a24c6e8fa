/* The daily wheel: spin through the API, then turn the wheel to the segment the server picked. */
(function () {
  "use strict";
  var form = document.getElementById("spin-form");
  if (!form) return;
  var wheel = document.getElementById("wheel");
  var out = document.getElementById("spin-result");
  var bounds = [];
  wheel.getAttribute("data-segments").split(",").forEach(function (part) {
    var bits = part.split(":");
    bounds.push({ position: Number(bits[0]), from: Number(bits[1]), to: Number(bits[2]) });
  });
  var button = form.querySelector("button");
  var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  // Keyboard users keep their place: focus moves to the result line (announced: role=status), never to <body>.
  function say(text) {
    out.textContent = text;
    out.focus();
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (button.disabled) return;
    say("Spinning…");
    button.disabled = true;
    var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
    fetch("/api/v1/wheel/spin/", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ client_seed: document.getElementById("client-seed").value })
    }).then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (!res.ok) {
          button.disabled = false;
          say(res.body.error ? res.body.error.message : "Spin refused.");
          return;
        }
        var spin = res.body, seg = bounds.find(function (b) { return b.position === spin.position; });
        var middle = seg ? (seg.from + seg.to) / 2 : 0;
        // The pointer is at the top: turn so the middle of the winning slice ends under it.
        if (still) wheel.style.transition = "none";
        wheel.style.transform = "rotate(" + (5 * 360 + (360 - middle * 3.6)) + "deg)";
        wheel.setAttribute("data-landed", String(spin.position));
        setTimeout(function () {
          say("The wheel stopped on “" + spin.segment + "”." +
            (spin.reward_code ? " Your code: " + spin.reward_code + "." : "") +
            " Server seed: " + spin.server_seed + " (nonce " + spin.nonce + ", client seed " + spin.client_seed + ").");
          out.setAttribute("data-segment", spin.segment);
          form.hidden = true;
        }, still ? 0 : 4200);
      })
      .catch(function () {
        button.disabled = false;
        say("The spin did not go through (network). Try again.");
      });
  });
})();
