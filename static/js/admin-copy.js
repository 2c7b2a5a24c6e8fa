/* Admin: a "Copy" button copies the text field just before it (the overlay URL). */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-previous]");
    if (!button) return;
    var field = button.previousElementSibling;
    while (field && field.tagName !== "INPUT") field = field.previousElementSibling;
    if (!field) return;
    field.select();
    var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy"; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(field.value).then(done, function () {});
    else if (document.execCommand("copy")) done();
  });
})();
