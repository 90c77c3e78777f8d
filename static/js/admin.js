/* Admin users page: copy a secret shown once to the clipboard (the input stays selectable without JS). */
(function () {
  "use strict";
  document.querySelectorAll("[data-olr-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.querySelector(button.getAttribute("data-olr-copy"));
      if (!input) return;
      input.select();
      var done = function () { button.textContent = "Copied"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () { /* selected: Ctrl+C works */ });
      } else {
        try { if (document.execCommand("copy")) done(); } catch (e) { /* selected: Ctrl+C works */ }
      }
    });
  });
})();
