// A "Copy" button beside every read-only field marked `data-copy="what it is"` (an API key, a
// webhook's signing secret, a calendar feed's address: each shown once). The field
// works without this: it can be selected and copied by hand. The button says
// "Copied" for a moment, and a screen reader hears it.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-copy]").forEach(function (field) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary copy";
      button.textContent = "Copy";
      // `data-copy="the key"`: the button is read as "Copy the key".
      if (field.dataset.copy) {
        button.setAttribute("aria-label", "Copy " + field.dataset.copy);
      }
      const said = document.createElement("span");
      said.className = "visually-hidden";
      said.setAttribute("aria-live", "polite");
      field.insertAdjacentElement("afterend", said);
      field.insertAdjacentElement("afterend", button);
      button.addEventListener("click", function () {
        const done = function () {
          button.textContent = "Copied";
          said.textContent = "Copied to the clipboard";
          window.setTimeout(function () {
            button.textContent = "Copy";
            said.textContent = "";
          }, 2000);
        };
        field.select();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(field.value).then(done, function () {
            if (document.execCommand("copy")) {
              done();
            }
          });
        } else if (document.execCommand("copy")) {
          done();
        }
      });
    });
  });
})();
