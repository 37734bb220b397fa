// A form shown again with errors: its summary (the first alert of the page) is brought
// into view and given the focus, so a person who pressed Save at the bottom of a long
// page reads what to correct, and a screen reader reads it first. Pages work without
// this; it only saves a scroll.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    const alert = document.querySelector('main .error[role="alert"], main .warning[role="alert"]');
    if (!alert || window.location.hash) {
      return;
    }
    if (!alert.hasAttribute("tabindex")) {
      alert.setAttribute("tabindex", "-1");
    }
    alert.focus({ preventScroll: true });
    alert.scrollIntoView({ block: "center" });
  });
})();
