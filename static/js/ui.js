/* Site-wide behaviour, on every page (loaded in <head>, tiny, so <html> is marked as scripted before the first
   paint and the phone menu starts folded):
   - the phone menu: below 860 px the main links fold behind the Menu button (a disclosure: aria-expanded on the
     button, the nav it controls shown or hidden); Escape closes it and gives the focus back. Without this script
     the links simply stay open.
   - copy buttons: <button data-copy="TEXT"> copies TEXT and says so for two seconds (also to screen readers). */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function menu() {
    var button = document.querySelector(".menu-toggle"), nav = document.getElementById("main-nav");
    if (!button || !nav) return;
    function set(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("open", open);
    }
    button.addEventListener("click", function () { set(button.getAttribute("aria-expanded") !== "true"); });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") { set(false); button.focus(); }
    });
  }

  function copied(button) {
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    button.setAttribute("data-copied", "");
    button.textContent = "Copied";
    setTimeout(function () { button.textContent = label; button.removeAttribute("data-copied"); }, 2000);
  }

  function copyButtons() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-copy]");
      if (!button) return;
      var text = button.getAttribute("data-copy");
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { copied(button); }, function () { select(button); });
      } else {
        select(button);
      }
    });
  }

  // Without the clipboard API (plain http): select the code's text so the player can copy it themselves.
  function select(button) {
    var target = document.getElementById(button.getAttribute("aria-controls") || "");
    if (!target) return;
    var range = document.createRange();
    range.selectNodeContents(target);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.addEventListener("DOMContentLoaded", function () { menu(); copyButtons(); });
})();
