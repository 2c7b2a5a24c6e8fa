// Live preview of a race's prize table in admin: pool × pct / 100, rounded down to cents, as the server does.
(function () {
  "use strict";
  function cents(pool, pct) {
    // Work in integer thousandths of a percent and cents to avoid float drift.
    var poolCents = Math.round(parseFloat(pool) * 100);
    var milli = Math.round(parseFloat(pct) * 1000);
    return Math.floor((poolCents * milli) / 100000);
  }
  function fmt(c) { return "$" + (c / 100).toFixed(2); }
  function render() {
    var pool = document.getElementById("id_prize_pool");
    var dist = document.getElementById("id_prize_distribution");
    var table = document.querySelector("table.prize-preview");
    if (!pool || !dist || !table) { return; }
    var body = table.querySelector("tbody"), foot = table.querySelector("tfoot th:last-child");
    var parsed;
    try { parsed = JSON.parse(dist.value || "{}"); } catch (e) { foot.textContent = "invalid JSON"; return; }
    var ranks = Object.keys(parsed).sort(function (a, b) { return a - b; });
    var total = 0, pctTotal = 0, html = "";
    ranks.forEach(function (rank) {
      var c = cents(pool.value || "0", parsed[rank]);
      total += c; pctTotal += parseFloat(parsed[rank]);
      html += "<tr><td>#" + rank + "</td><td>" + fmt(c) + "</td></tr>";
    });
    body.innerHTML = html;
    foot.textContent = fmt(total) + (pctTotal > 100 ? "  (over 100 %: will be refused)" : "");
  }
  document.addEventListener("DOMContentLoaded", function () {
    ["id_prize_pool", "id_prize_distribution"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { el.addEventListener("input", render); }
    });
    render();
  });
})();
