/* Sign in with Telegram without Telegram's script (our CSP runs only our own scripts): embed the login iframe,
   take the signed data it posts to this window, and POST it to our endpoint with the CSRF token — never in a URL. */
(function () {
  "use strict";
  var box = document.getElementById("telegram-login");
  var form = document.getElementById("telegram-login-form");
  if (!box || !form) return;
  var origin = "https://oauth.telegram.org";
  var frame = document.createElement("iframe");
  frame.src = origin + "/embed/" + encodeURIComponent(box.getAttribute("data-bot")) +
    "?origin=" + encodeURIComponent(window.location.origin) + "&size=large&userpic=false&request_access=write";
  frame.title = "Sign in with Telegram";
  frame.width = "238";
  frame.height = "40";
  frame.style.border = "none";
  box.appendChild(frame);
  var fields = ["id", "first_name", "last_name", "username", "photo_url", "auth_date", "hash"];
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || event.source !== frame.contentWindow) return;
    var data = event.data;
    if (typeof data === "string") {
      try { data = JSON.parse(data); } catch (e) { return; }
    }
    var user = data && (data.event === "auth_user" ? data.auth_data : data.event === "auth_result" ? data.result : null);
    if (!user || !user.hash) return;
    fields.forEach(function (name) {
      if (user[name] === undefined || user[name] === null) return;
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = String(user[name]);
      form.appendChild(input);
    });
    form.submit();
  });
})();
