// Optional: remember the resident's server on this device (localStorage, never a cookie, never sent
// to us), and offer a copy button. Everything works without this file.
// Only the server is kept, never the account name: on a shared device (a helper's tablet, a library
// PC) the next person sees "mastodon.nl", not someone's @name. A bare server name is valid input.
// Only what the resident chose is kept: an address a link filled in (the "voorgesteld" field) is not
// remembered when sent unchanged, only once the resident presses "Go to …" on the page that names it.
// Nothing here ever sends the form by itself.
(function () {
  "use strict";
  var KEY = "praatmee-server";

  function remember(server) {
    try {
      if (server) { window.localStorage.setItem(KEY, server); }
    } catch (e) { /* storage may be off: nothing to remember then */ }
  }

  // "@name@server.nl", "name@server.nl", "https://server.nl/@name", "server.nl" -> "server.nl";
  // "" for anything else (ports, spaces, no dot): then nothing is remembered.
  function serverOf(text) {
    var value = String(text || "").trim().replace(/^acct:/i, "");
    var url = /^https:\/\/([^\/?#]*)(?:\/@[^\/@?#]+@([^\/?#]+))?/i.exec(value);
    if (url) { value = url[2] || url[1]; }
    value = value.slice(value.lastIndexOf("@") + 1).replace(/[\/.]+$/, "").toLowerCase();
    return /^[^\s\/:@?#]+\.[^\s\/:@?#]+$/.test(value) ? value : "";
  }

  var input = document.querySelector("[data-remember]");
  if (input) {
    try {
      var stored = window.localStorage.getItem(KEY);
      var server = serverOf(stored);
      if (stored !== null && stored !== server) {
        // An older version kept the whole address: keep only its server from now on.
        if (server) { window.localStorage.setItem(KEY, server); } else { window.localStorage.removeItem(KEY); }
      }
      if (!input.value && server) { input.value = server; }
    } catch (e) { /* storage may be off: nothing to remember then */ }
    input.form.addEventListener("submit", function () {
      var typed = serverOf(input.value);
      var suggested = input.form.querySelector("[name=voorgesteld]");
      if (suggested && serverOf(suggested.value) === typed) { return; }  // the link's choice, not yet theirs
      remember(typed);
    });
  }
  document.querySelectorAll("[data-remember-server]").forEach(function (link) {
    link.addEventListener("click", function () { remember(serverOf(link.getAttribute("data-remember-server"))); });
  });
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var status = button.parentNode.querySelector("[data-copied]");
    if (!field || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        if (status) { status.textContent = status.getAttribute("data-copied"); }
      }, function () { field.select(); });
    });
  });
}());
