// Optional: remember the resident's own server on this device (localStorage, never a cookie, never
// sent to us), and offer a copy button. Everything works without this file.
(function () {
  "use strict";
  var input = document.querySelector("[data-remember]");
  if (input) {
    var key = input.getAttribute("data-remember");
    try {
      if (!input.value && window.localStorage.getItem(key)) {
        input.value = window.localStorage.getItem(key);
      }
      input.form.addEventListener("submit", function () {
        if (input.value.trim()) { window.localStorage.setItem(key, input.value.trim()); }
      });
    } catch (e) { /* storage may be off: nothing to remember then */ }
  }
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
