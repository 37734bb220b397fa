// The appointment book (admin/book.html) and the staff booking form
// (admin/book_form.html), progressively enhanced.
//
// Both pages work without this script: the book's filters have a Show button, every
// free time is a link to the booking form, an appointment's own page moves it, and the
// booking form searches patients by reloading. With the script:
// - the filters apply as soon as one changes;
// - an appointment can be dragged with the mouse to another time or practitioner, or
//   its lower edge dragged to change its length; the keyboard does the same (arrow keys
//   move a focused appointment by one row or one column, Shift with up or down changes
//   its length, Enter saves, Escape puts it back), announced in a live region. Both
//   call the appointments API's move, which the engine checks: a refusal is shown and
//   the appointment goes back;
// - the booking form's patient search is an ARIA 1.2 combobox over the patients API.
(function () {
  "use strict";

  // The filters: apply on change; the Show button is only for pages without script.
  const filters = document.getElementById("book-filters");
  if (filters) {
    const show = filters.querySelector(".filters-show");
    if (show) {
      show.hidden = true;
    }
    filters.addEventListener("change", function () {
      filters.requestSubmit();
    });
  }

  // The offset of `zone` from UTC, in minutes, at the instant `ms`.
  function offsetAt(zone, ms) {
    const parts = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    }).formatToParts(new Date(ms));
    const v = {};
    parts.forEach(function (p) {
      v[p.type] = Number(p.value);
    });
    const asUtc = Date.UTC(v.year, v.month - 1, v.day, v.hour, v.minute, v.second);
    return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60000);
  }

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  // `date` (YYYY-MM-DD) at `minute` past midnight on the wall clock of `zone`, in RFC
  // 3339 with the zone's offset then.
  function zoned(date, minute, zone) {
    const d = date.split("-").map(Number);
    const wall = Date.UTC(d[0], d[1] - 1, d[2], 0, minute);
    let ms = wall - offsetAt(zone, wall) * 60000;
    ms = wall - offsetAt(zone, ms) * 60000;
    const off = offsetAt(zone, ms);
    const sign = off < 0 ? "-" : "+";
    const abs = Math.abs(off);
    const day = new Date(wall);
    return (
      day.getUTCFullYear() + "-" + pad(day.getUTCMonth() + 1) + "-" + pad(day.getUTCDate()) +
      "T" + pad(day.getUTCHours()) + ":" + pad(day.getUTCMinutes()) + ":00" +
      sign + pad(Math.floor(abs / 60)) + ":" + pad(abs % 60)
    );
  }

  function clock(minute) {
    const m = ((minute % 1440) + 1440) % 1440;
    return pad(Math.floor(m / 60)) + ":" + pad(m % 60);
  }

  const grid = document.getElementById("book-grid");
  if (grid) {
    calendar(grid);
  }
  const bookingForm = document.getElementById("booking-form");
  if (bookingForm) {
    patientCombobox(bookingForm);
  }

  function calendar(table) {
    const zone = table.dataset.zone;
    const step = Number(table.dataset.step) || 15;
    const api = table.dataset.api;
    const csrf = table.dataset.csrf;
    const live = document.getElementById("book-live");
    const refusal = document.getElementById("book-refusal");
    const columns = Array.from(table.querySelectorAll("thead tr.columns th[data-practitioner]"));
    const rows = Array.from(table.querySelectorAll("tbody tr[data-time]"));
    if (!columns.length || !rows.length) {
      return;
    }
    function rowPitch() {
      if (rows.length < 2) {
        return rows[0].getBoundingClientRect().height;
      }
      const a = rows[0].getBoundingClientRect();
      const b = rows[rows.length - 1].getBoundingClientRect();
      return (b.top - a.top) / (rows.length - 1);
    }

    function columnAtX(x) {
      let best = -1;
      columns.forEach(function (c, i) {
        const r = c.getBoundingClientRect();
        if (x >= r.left && x < r.right) {
          best = i;
        }
      });
      return best;
    }

    function say(text) {
      if (live) {
        live.textContent = text;
      }
    }

    function refuse(text) {
      if (refusal) {
        refusal.textContent = text;
        refusal.hidden = false;
      }
      say(text);
    }

    // What an appointment is now, read from its data.
    function itemState(el) {
      const start = el.dataset.start; // 2026-03-02T09:00:00-05:00 on the axis's clock
      const date = start.slice(0, 10);
      const minute = Number(start.slice(11, 13)) * 60 + Number(start.slice(14, 16));
      let column = columns.findIndex(function (c) {
        return c.dataset.practitioner === el.dataset.practitioner && c.dataset.date === date;
      });
      if (column < 0) {
        column = columnAtX(el.getBoundingClientRect().left + 2);
      }
      return {
        id: el.dataset.id,
        column: column,
        date: date,
        minute: minute,
        minutes: Number(el.dataset.minutes),
      };
    }

    function nameOf(el) {
      const strong = el.querySelector("strong");
      return strong ? strong.textContent : "The appointment";
    }

    // The change `d` (rows, columns, length in steps) applied to `s`.
    function target(s, d) {
      const column = Math.max(0, Math.min(columns.length - 1, s.column + d.columns));
      const minutes = Math.max(step, s.minutes + d.length * step);
      const minute = Math.max(0, Math.min(1440 - minutes, s.minute + d.rows * step));
      const c = columns[column];
      return {
        column: column,
        date: c.dataset.date,
        practitioner: c.dataset.practitioner,
        label: c.dataset.label,
        minute: minute,
        minutes: minutes,
      };
    }

    function describe(el, t) {
      return nameOf(el) + ": " + clock(t.minute) + "–" + clock(t.minute + t.minutes) + ", " + t.label;
    }

    // Draws the pending change: the appointment shifted and resized where it would go.
    function preview(el, s, t) {
      const pitch = rowPitch();
      const from = columns[s.column].getBoundingClientRect().left;
      const to = columns[t.column].getBoundingClientRect().left;
      const dy = ((t.minute - s.minute) / step) * pitch;
      el.style.transform = "translate(" + (to - from) + "px, " + dy + "px)";
      el.style.height = (t.minutes / step) * pitch - 2 + "px";
      el.classList.add("moving");
      const time = el.querySelector(".time");
      if (time) {
        if (!time.dataset.was) {
          time.dataset.was = time.textContent;
        }
        time.textContent = clock(t.minute) + "–" + clock(t.minute + t.minutes);
      }
    }

    function revert(el) {
      el.style.transform = "";
      el.style.height = "";
      el.classList.remove("moving");
      const time = el.querySelector(".time");
      if (time && time.dataset.was) {
        time.textContent = time.dataset.was;
        delete time.dataset.was;
      }
    }

    function unchanged(s, t) {
      return (
        t.column === s.column && t.minute === s.minute && t.minutes === s.minutes
      );
    }

    // Moves through the API; the engine checks the new place. On success the page
    // reloads with the notice; a refusal is shown and the appointment goes back.
    function submit(el, s, t) {
      const body = { start: zoned(t.date, t.minute, zone) };
      if (columns[s.column].dataset.practitioner !== t.practitioner) {
        body.practitioner = Number(t.practitioner);
      }
      if (t.minutes !== s.minutes) {
        body.duration_minutes = t.minutes;
      }
      say("Saving " + describe(el, t) + "…");
      fetch(api + "/" + s.id + "/move", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, Accept: "application/json" },
        body: JSON.stringify(body),
      })
        .then(function (res) {
          if (res.ok) {
            const url = new URL(window.location.href);
            url.searchParams.set("notice", "moved");
            url.searchParams.set("appointment", s.id);
            window.location.assign(url.toString());
            return null;
          }
          return res.json().then(
            function (j) {
              const e = (j && j.error) || {};
              const reasons = (e.details && e.details.needs_override) || [];
              let text = "Not moved: " + (reasons.length ? reasons.join("; ") : e.message || "refused") + ".";
              if (reasons.length) {
                text += " To move it anyway, open the appointment and give a reason for the override.";
              }
              revert(el);
              refuse(text);
            },
            function () {
              revert(el);
              refuse("Not moved: the server refused (" + res.status + ").");
            }
          );
        })
        .catch(function () {
          revert(el);
          refuse("Not moved: the server could not be reached.");
        });
    }

    // The calendar scrolls inside its own box: show the appointment just booked or
    // moved, else the first one, rather than the top of the day.
    const box = table.closest(".book-scroll");
    const shown = table.querySelector(".appt.highlight") || table.querySelector(".appt");
    if (box && shown) {
      const head = table.querySelector("thead");
      const offset = shown.getBoundingClientRect().top - box.getBoundingClientRect().top;
      box.scrollTop += offset - (head ? head.getBoundingClientRect().height : 0) - 2 * rowPitch();
    }

    const items = Array.from(table.querySelectorAll("a.appt[data-id]"));
    let suppressClick = false;
    items.forEach(function (el) {
      el.draggable = false;
      const grip = document.createElement("span");
      grip.className = "grip";
      grip.setAttribute("aria-hidden", "true");
      el.appendChild(grip);
      if (document.getElementById("book-help")) {
        el.setAttribute("aria-describedby", "book-help");
      }

      // The mouse.
      el.addEventListener("pointerdown", function (e) {
        if (e.pointerType !== "mouse" || e.button !== 0) {
          return;
        }
        const resize = e.target === grip;
        const s = itemState(el);
        const x0 = e.clientX;
        const y0 = e.clientY;
        let dragging = false;
        let t = null;
        function move(ev) {
          const dx = ev.clientX - x0;
          const dy = ev.clientY - y0;
          if (!dragging && Math.abs(dx) + Math.abs(dy) < 5) {
            return;
          }
          dragging = true;
          const steps = Math.round(dy / rowPitch());
          let d;
          if (resize) {
            d = { rows: 0, columns: 0, length: steps };
          } else {
            const col = columnAtX(ev.clientX);
            d = { rows: steps, columns: col < 0 ? 0 : col - s.column, length: 0 };
          }
          t = target(s, d);
          preview(el, s, t);
          say(describe(el, t));
        }
        function up() {
          el.removeEventListener("pointermove", move);
          el.removeEventListener("pointerup", up);
          el.removeEventListener("pointercancel", cancel);
          if (!dragging) {
            return;
          }
          suppressClick = true;
          if (!t || unchanged(s, t)) {
            revert(el);
            return;
          }
          submit(el, s, t);
        }
        function cancel() {
          el.removeEventListener("pointermove", move);
          el.removeEventListener("pointerup", up);
          el.removeEventListener("pointercancel", cancel);
          revert(el);
        }
        // Captured at once: a pull down on the lower edge leaves the appointment with
        // its first pixel, and its moves must still come here.
        el.setPointerCapture(e.pointerId);
        el.addEventListener("pointermove", move);
        el.addEventListener("pointerup", up);
        el.addEventListener("pointercancel", cancel);
        e.preventDefault();
      });
      el.addEventListener("click", function (e) {
        if (suppressClick) {
          suppressClick = false;
          e.preventDefault();
        }
      });
      el.addEventListener("dragstart", function (e) {
        e.preventDefault();
      });

      // The keyboard twin.
      let pending = null;
      el.addEventListener("keydown", function (e) {
        const keys = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
        if (keys[e.key]) {
          e.preventDefault();
          const s = itemState(el);
          if (!pending) {
            pending = { s: s, d: { rows: 0, columns: 0, length: 0 } };
          }
          const k = keys[e.key];
          if (e.shiftKey && k[0] !== 0) {
            pending.d.length += k[0];
          } else {
            pending.d.rows += k[0];
            pending.d.columns += k[1];
          }
          const t = target(pending.s, pending.d);
          pending.t = t;
          preview(el, pending.s, t);
          say(describe(el, t) + ". Enter to save, Escape to cancel.");
        } else if (e.key === "Enter" && pending) {
          e.preventDefault();
          const p = pending;
          pending = null;
          if (!p.t || unchanged(p.s, p.t)) {
            revert(el);
            say("Nothing changed.");
            return;
          }
          submit(el, p.s, p.t);
        } else if (e.key === "Escape" && pending) {
          e.preventDefault();
          pending = null;
          revert(el);
          say("Move cancelled: " + nameOf(el) + " stays where it was.");
        }
      });
      el.addEventListener("blur", function () {
        if (pending) {
          pending = null;
          revert(el);
        }
      });
    });
  }

  // The patient search as an ARIA 1.2 combobox: typing lists at most ten of the
  // organisation's patients; up and down move through them, Enter chooses, Escape
  // closes. Choosing selects the patient in the form's own select.
  function patientCombobox(form) {
    const input = document.getElementById("patient_q");
    const select = document.getElementById("patient");
    const url = form.dataset.patients;
    if (!input || !select || !url) {
      return;
    }
    const hint = document.getElementById("patient_q-hint");
    const list = document.createElement("ul");
    list.id = "patient_q-listbox";
    list.className = "combo-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Patients found");
    list.hidden = true;
    input.parentNode.insertAdjacentElement("afterend", list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    if (hint) {
      hint.textContent = "Type a name, email or phone; choose with the arrow keys and Enter, or click.";
    }
    let found = [];
    let active = -1;
    let timer = null;
    let asked = 0;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(i) {
      active = i;
      Array.from(list.children).forEach(function (li, k) {
        li.setAttribute("aria-selected", k === i ? "true" : "false");
      });
      if (i >= 0 && list.children[i]) {
        input.setAttribute("aria-activedescendant", list.children[i].id);
        list.children[i].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    // The desk sees a patient's missed appointments as it books them.
    function noShows(p) {
      const n = p.no_show_count || 0;
      return n === 0 ? "" : " · " + n + (n === 1 ? " no-show" : " no-shows");
    }

    function choose(i) {
      const p = found[i];
      if (!p) {
        return;
      }
      const value = String(p.id);
      let option = Array.from(select.options).find(function (o) {
        return o.value === value;
      });
      if (!option) {
        option = document.createElement("option");
        option.value = value;
        option.textContent = p.first_name + " " + p.last_name + " · " + p.email + noShows(p);
        select.appendChild(option);
      }
      select.value = value;
      input.value = p.first_name + " " + p.last_name;
      close();
      if (hint) {
        hint.textContent = "Chosen: " + p.first_name + " " + p.last_name + noShows(p) + ".";
      }
    }

    function render() {
      list.textContent = "";
      found.forEach(function (p, i) {
        const li = document.createElement("li");
        li.id = "patient_q-option-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent =
          p.first_name + " " + p.last_name + " · " + p.email + (p.phone ? " · " + p.phone : "") +
          noShows(p);
        li.addEventListener("mousedown", function (e) {
          e.preventDefault();
        });
        li.addEventListener("click", function () {
          choose(i);
        });
        list.appendChild(li);
      });
      if (!found.length) {
        const li = document.createElement("li");
        li.className = "muted";
        li.setAttribute("role", "option");
        li.setAttribute("aria-disabled", "true");
        li.id = "patient_q-none";
        li.textContent = "No patient matches.";
        list.appendChild(li);
      }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(found.length ? 0 : -1);
    }

    function search() {
      const q = input.value.trim();
      if (q.length < 2) {
        found = [];
        close();
        return;
      }
      const ask = ++asked;
      fetch(url + "?limit=10&q=" + encodeURIComponent(q), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (res) {
          return res.ok ? res.json() : [];
        })
        .then(function (patients) {
          if (ask !== asked) {
            return;
          }
          found = Array.isArray(patients) ? patients.slice(0, 10) : [];
          render();
        })
        .catch(function () {
          close();
        });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
    input.addEventListener("keydown", function (e) {
      const open = !list.hidden;
      if (e.key === "ArrowDown") {
        e.preventDefault();
        if (!open) {
          search();
        } else if (found.length) {
          highlight((active + 1) % found.length);
        }
      } else if (e.key === "ArrowUp" && open && found.length) {
        e.preventDefault();
        highlight((active - 1 + found.length) % found.length);
      } else if (e.key === "Enter") {
        if (open && active >= 0) {
          e.preventDefault();
          choose(active);
        } else if (open) {
          e.preventDefault();
        }
      } else if (e.key === "Escape" && open) {
        e.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () {
      setTimeout(close, 150);
    });
  }
})();
