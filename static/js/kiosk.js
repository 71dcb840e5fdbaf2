// Optional: refresh the kiosk every minute without ever leaving the page. When the network drops,
// the screen keeps what it shows; without JavaScript a <noscript> meta refresh does the job.
(function () {
  "use strict";
  var seconds = parseInt(document.body.getAttribute("data-refresh"), 10) || 60;
  // What moderation decided when this content was made; when it moves (staff hid or approved a
  // reply), the content is reloaded at once instead of at the next refresh.
  var moderation = document.body.getAttribute("data-moderation");
  var moderationUrl = document.body.getAttribute("data-moderation-url");
  var loading = false;
  function refresh() {
    if (loading) { return; }
    loading = true;
    fetch(window.location.href, {cache: "no-store", credentials: "omit"}).then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.text();
    }).then(function (html) {
      var page = new DOMParser().parseFromString(html, "text/html");
      var fresh = page.getElementById("kiosk");
      var current = document.getElementById("kiosk");
      if (fresh && current) {
        current.replaceWith(fresh);
        moderation = page.body.getAttribute("data-moderation") || moderation;
      }
    }).catch(function () { /* offline or server trouble: keep showing the last content */ }).then(function () {
      loading = false;
    });
  }
  function checkModeration() {
    fetch(moderationUrl, {cache: "no-store", credentials: "omit"}).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (state) {
      if (state && state.moderation !== moderation) { refresh(); }
    }).catch(function () { /* offline: the next check tries again */ });
  }
  window.setInterval(refresh, seconds * 1000);
  if (moderationUrl) { window.setInterval(checkModeration, 1000); }
}());
