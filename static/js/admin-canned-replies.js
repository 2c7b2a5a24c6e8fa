// The ticket page in admin (templates/admin/support/supportticket/change_form.html): picking a canned reply puts
// its text in the reply box at the cursor (the agent edits it before sending), then the picker resets.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var picker = document.getElementById("canned-reply");
    if (!picker) { return; }
    picker.addEventListener("change", function () {
      var option = picker.options[picker.selectedIndex];
      var box = document.getElementById(picker.getAttribute("data-target"));
      if (!option || !option.value || !box) { return; }
      var text = option.getAttribute("data-body") || "";
      var start = box.selectionStart || 0, end = box.selectionEnd || 0;
      if (document.activeElement !== box && box.value) { start = end = box.value.length; text = "\n" + text; }
      box.value = box.value.slice(0, start) + text + box.value.slice(end);
      box.focus();
      box.selectionStart = box.selectionEnd = start + text.length;
      picker.selectedIndex = 0;
    });
  });
})();
