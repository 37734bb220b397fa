// The portal's day picker, progressively enhanced. Without JavaScript the page is
// complete: the filters submit with their button, and the calendar's days and months
// are links to whole pages. With it, a filter applies as soon as it changes, and a day
// or month is fetched and swapped in place (the same server-rendered page, so there is
// one way of drawing it), with the address updated so Back and reload work.
(function () {
  "use strict";

  var form = document.querySelector("form[data-autosubmit]");
  if (form) {
    form.addEventListener("change", function () {
      if (form.requestSubmit) {
        form.requestSubmit();
      } else {
        form.submit();
      }
    });
  }

  function picker(doc) {
    return doc.querySelector("[data-day-picker]");
  }

  function show(href, push) {
    var current = picker(document);
    if (!current || !window.fetch || !window.DOMParser) {
      window.location.href = href;
      return;
    }
    current.setAttribute("aria-busy", "true");
    fetch(href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.text();
      })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        var next = picker(doc);
        if (!next) {
          throw new Error("no picker");
        }
        current.replaceWith(document.importNode(next, true));
        var month = form && form.querySelector("input[name=month]");
        var shown = doc.querySelector("form[data-autosubmit] input[name=month]");
        if (month && shown) {
          month.value = shown.value;
        }
        if (push) {
          window.history.pushState({ picker: true }, "", href);
        }
        var heading = document.getElementById("day-heading");
        if (heading) {
          heading.focus();
        }
      })
      .catch(function () {
        window.location.href = href;
      });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-picker-link]");
    if (!link || event.defaultPrevented || event.button !== 0 ||
        event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    show(link.href, true);
  });

  window.addEventListener("popstate", function () {
    show(window.location.href, false);
  });
})();
