// Optional: refresh the kiosk every minute without ever leaving the page. When the network drops,
// the screen keeps what it shows; without JavaScript a <noscript> meta refresh does the job.
(function () {
  "use strict";
  var seconds = parseInt(document.body.getAttribute("data-refresh"), 10) || 60;
  function refresh() {
    fetch(window.location.href, {cache: "no-store", credentials: "omit"}).then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.text();
    }).then(function (html) {
      var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("kiosk");
      var current = document.getElementById("kiosk");
      if (fresh && current) { current.replaceWith(fresh); }
    }).catch(function () { /* offline or server trouble: keep showing the last content */ });
  }
  window.setInterval(refresh, seconds * 1000);
}());
