// The schedule type's colour picker (admin/schedule_type_form.html): a live preview.
//
// Without this script the form posts the preset ticked, or "custom" with the native
// picker's colour, and the preview shows the colours as saved. With it, choosing a
// preset also sets the font colour to the preset's readable ink, touching the custom
// picker ticks "custom", and the preview chip shows the name on the colour at once.
(function () {
  "use strict";

  const picker = document.getElementById("colour-picker");
  const preview = document.getElementById("colour-preview");
  const font = document.getElementById("font_color");
  const custom = document.getElementById("background_color");
  const name = document.getElementById("name");
  if (!picker || !preview || !font || !custom) {
    return;
  }
  const radios = Array.from(picker.querySelectorAll('input[type="radio"][name="background_color"]'));

  function background() {
    const ticked = radios.find(function (r) {
      return r.checked;
    });
    return !ticked || ticked.value === "custom" ? custom.value : ticked.value;
  }

  // CSSOM writes are allowed by the page's style-src 'self' (style attributes in the
  // markup are not).
  function show() {
    preview.style.backgroundColor = background();
    preview.style.color = font.value;
    preview.style.borderColor = font.value;
    if (name) {
      preview.textContent = name.value.trim() || "Schedule type";
    }
  }

  radios.forEach(function (r) {
    r.addEventListener("change", function () {
      if (r.checked && r.dataset.ink) {
        font.value = r.dataset.ink;
      }
      show();
    });
  });
  custom.addEventListener("input", function () {
    const c = radios.find(function (r) {
      return r.value === "custom";
    });
    if (c) {
      c.checked = true;
    }
    show();
  });
  font.addEventListener("input", show);
  if (name) {
    name.addEventListener("input", show);
  }
  show();
})();
