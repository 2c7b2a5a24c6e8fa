/* The cookie notice (docs/experiments.md, "Consent"). The page's HTML is the same for everyone (so cached pages
   stay shared); this script shows the notice when the gv_consent cookie holds no answer, writes the answer
   ("granted" or "denied", a functional cookie kept 180 days), and reopens the notice from "Cookie settings".
   Focus follows the visitor: to the confirmation after an answer, to the question when reopened, back to the
   footer button when hidden. No analytics cookie is set here: the server sets gv_vid only after "granted". */
(function () {
  "use strict";
  var NAME = "gv_consent", MAX_AGE = 180 * 24 * 3600;
  var notice = document.querySelector("[data-consent-notice]");
  var reopen = document.querySelector("[data-consent-reopen]");
  if (!notice) return;
  var question = notice.querySelector("[data-consent-question]");
  var done = notice.querySelector("[data-consent-done]");

  function answer() {
    var match = document.cookie.match(/(?:^|;\s*)gv_consent=(granted|denied)(?:;|$)/);
    return match ? match[1] : "";
  }

  function remember(value) {
    var secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = NAME + "=" + value + "; Max-Age=" + MAX_AGE + "; Path=/; SameSite=Lax" + secure;
  }

  function ask() {
    question.hidden = false;
    done.hidden = true;
    notice.hidden = false;
  }

  notice.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) return;
    if (button.hasAttribute("data-consent")) {
      var value = button.getAttribute("data-consent");
      remember(value);
      done.querySelectorAll("[data-consent-said]").forEach(function (p) {
        p.hidden = p.getAttribute("data-consent-said") !== value;
      });
      question.hidden = true;
      done.hidden = false;
      done.focus();
    } else if (button.hasAttribute("data-consent-hide")) {
      notice.hidden = true;
      if (reopen) reopen.focus();
    }
  });

  if (reopen) {
    reopen.hidden = false;
    reopen.addEventListener("click", function () {
      ask();
      notice.scrollIntoView({ block: "nearest" });
      var first = question.querySelector("button");
      if (first) first.focus();
    });
  }

  if (!answer()) ask();
})();
