// The prize table editor in race admin: the prize of each rank and the totals, live while the operator types,
// computed as the server does (pool × pct / 100, rounded down to cents); "Add a rank" appends a row.
(function () {
  "use strict";
  function cents(pool, pct) {
    // Integer cents and thousandths of a percent: no float drift.
    var poolCents = Math.round(parseFloat(pool) * 100);
    var milli = Math.round(parseFloat(pct) * 1000);
    if (!isFinite(poolCents) || !isFinite(milli)) { return 0; }
    return Math.floor((poolCents * milli) / 100000);
  }
  function fmt(c) {
    return "$" + (c / 100).toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  function update(editor) {
    var pool = document.getElementById("id_prize_pool");
    var poolValue = pool ? pool.value || "0" : "0";
    var totalPct = 0, totalCents = 0;
    editor.querySelectorAll("tbody tr").forEach(function (row) {
      var input = row.querySelector("input.prize-pct");
      var out = row.querySelector(".prize-money");
      var pct = parseFloat(input.value);
      if (input.value === "" || !isFinite(pct)) { out.textContent = ""; return; }
      var c = cents(poolValue, pct);
      totalPct += pct; totalCents += c;
      out.textContent = fmt(c);
    });
    var over = totalPct > 100.0000001;
    var pctCell = editor.querySelector(".prize-total-pct");
    pctCell.textContent = (Math.round(totalPct * 1000) / 1000) + " %" + (over ? " — over 100 %: will be refused" : "");
    pctCell.classList.toggle("errornote", over);
    editor.querySelector(".prize-total-money").textContent = fmt(totalCents);
  }
  function addRow(editor) {
    var body = editor.querySelector("tbody");
    var last = body.querySelector("tr:last-child");
    var rank = body.querySelectorAll("tr").length + 1;
    var row = last.cloneNode(true);
    var input = row.querySelector("input");
    row.querySelector("th").textContent = "#" + rank;
    input.name = editor.getAttribute("data-name") + "__pct_" + rank;
    input.value = "";
    input.removeAttribute("id");
    input.setAttribute("aria-label", "Percent for rank " + rank);
    row.querySelector(".prize-money").textContent = "";
    body.appendChild(row);
    input.focus();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".prize-table-editor").forEach(function (editor) {
      editor.addEventListener("input", function () { update(editor); });
      editor.querySelector(".prize-add-row").addEventListener("click", function () { addRow(editor); update(editor); });
      var pool = document.getElementById("id_prize_pool");
      if (pool) { pool.addEventListener("input", function () { update(editor); }); }
      update(editor);
    });
  });
})();
