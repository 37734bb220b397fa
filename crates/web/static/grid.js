// The availability grid editor (admin/availability_record.html).
//
// The page works without this script: a plain form with one checkbox per block of the
// layer shown, and hidden inputs for every other cell. This script reads those inputs
// into a model of the week (one entry per cell of the organisation's resolution),
// removes them, and from then on keeps one hidden input per run of cells in sync with
// the model, so the server reads the same `cell` fields either way
// (`LAYER/DAY/HH:MM-HH:MM`, LAYER a schedule type's row id or `p` for the portal
// overlay).
//
// A person paints with the mouse, a pen or a finger (pointer events: pressing a block
// sets or clears it, and dragging on paints every block passed over the same way until
// the pointer is released; shift-click fills or clears every block between the last one
// clicked and this one) or with the keyboard (arrow keys, Home/End, Page Up/Down move;
// Space or Enter toggles; Shift+Space fills or clears from the last block). The table
// is an ARIA grid with a roving tabindex.
//
// On a portal overlay that is not customised yet every available block is online, so
// a stroke there could only take blocks off; the first stroke instead makes the
// overlay customised (everything online, as shown) and then puts the blocks stroked
// online, as the help line says. Saving keeps the page where it was: the scroll
// position rides in sessionStorage across the redirect.
(function () {
  "use strict";

  const form = document.getElementById("grid-form");
  const table = document.getElementById("grid");
  if (!form || !table) {
    return;
  }

  const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  const DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
  const res = Number(table.dataset.resolution);
  const perDay = 1440 / res;

  // The model: the schedule type of every cell (null: not available), and whether it
  // is in the portal overlay. `customised` false means every available cell is online
  // and `online` is not used.
  const owner = new Array(7 * perDay).fill(null);
  const online = new Uint8Array(7 * perDay);
  let customised = table.dataset.customised === "1";
  let layer = table.dataset.layer;
  let dirty = false;

  const names = {};
  const layerLinks = Array.from(document.querySelectorAll("a.layer[data-layer]"));
  layerLinks.forEach(function (a) {
    names[a.dataset.layer] = a.dataset.name;
  });

  const status = document.getElementById("grid-status");
  const helpMode = document.getElementById("grid-help-mode");
  const cellsBox = document.getElementById("grid-cells");
  const resetButton = document.getElementById("portal-reset");

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function hhmm(minute) {
    return pad(Math.floor(minute / 60)) + ":" + pad(minute % 60);
  }

  function minutesOf(text) {
    const parts = text.split(":");
    return Number(parts[0]) * 60 + Number(parts[1]);
  }

  function at(day, minute) {
    return day * perDay + Math.floor(minute / res);
  }

  // The grid, as rows of cells with their day and minutes.
  const grid = Array.from(table.tBodies[0].rows).map(function (tr) {
    return Array.from(tr.querySelectorAll('td[role="gridcell"]')).map(function (td) {
      return {
        td: td,
        day: DAYS.indexOf(td.dataset.day),
        start: Number(td.dataset.start),
        end: Number(td.dataset.end),
      };
    });
  });
  if (grid.length === 0) {
    return;
  }

  // Read what the server rendered: ticked checkboxes and hidden inputs.
  form.querySelectorAll('input[name="cell"]').forEach(function (input) {
    if (input.type === "checkbox" && !input.checked) {
      return;
    }
    const parts = input.value.split("/");
    const day = DAYS.indexOf(parts[1]);
    const range = (parts[2] || "").split("-");
    if (parts.length !== 3 || day < 0 || range.length !== 2) {
      return;
    }
    const start = minutesOf(range[0]);
    const end = minutesOf(range[1]);
    for (let m = start; m < end; m += res) {
      const i = at(day, m);
      if (parts[0] === "p") {
        online[i] = 1;
      } else if (owner[i] === null) {
        owner[i] = parts[0];
      }
    }
  });
  form.querySelectorAll('input[name="cell"]').forEach(function (input) {
    const box = input.closest("label.cellbox");
    (box || input).remove();
  });

  function isOnline(i) {
    return owner[i] !== null && (!customised || online[i] === 1);
  }

  // The label, classes and state of one block; the server computes the same.
  function describe(cell) {
    const types = [];
    let count = 0;
    let available = 0;
    let on = 0;
    let mine = 0;
    for (let m = cell.start; m < cell.end; m += res) {
      const i = at(cell.day, m);
      count += 1;
      if (owner[i] !== null) {
        available += 1;
        if (types.indexOf(owner[i]) < 0) {
          types.push(owner[i]);
        }
        if (isOnline(i)) {
          on += 1;
        }
        if (owner[i] === layer) {
          mine += 1;
        }
      }
    }
    const when = DAY_NAMES[cell.day] + " " + hhmm(cell.start);
    const selected = layer === "portal" ? available > 0 && on === available : mine === count;
    if (types.length === 0) {
      return { label: when + ", empty", className: "cell", selected: selected, available: 0 };
    }
    let className = "cell painted t-" + types[0];
    let label;
    if (available === count && types.length === 1) {
      label = when + ", " + nameOf(types[0]);
    } else {
      className += " part";
      label = when + ", partly " + types.map(nameOf).join(" and ");
    }
    if (on === available) {
      className += " online";
      label += ", online";
    } else if (on > 0) {
      className += " part-online";
      label += ", partly online";
    } else {
      // Only a customised overlay leaves available blocks off the portal.
      className += " offline";
      label += ", in clinic only, not online";
    }
    return { label: label, className: className, selected: selected, available: available };
  }

  function nameOf(type) {
    return names[type] || "schedule type " + type;
  }

  function render(cell) {
    const d = describe(cell);
    cell.td.className = d.className;
    cell.td.setAttribute("aria-label", d.label);
    cell.td.setAttribute("aria-selected", d.selected ? "true" : "false");
    return d;
  }

  function renderAll() {
    grid.forEach(function (row) {
      row.forEach(render);
    });
  }

  // One hidden input per run of cells of one layer on one day.
  function sync() {
    cellsBox.textContent = "";
    function add(value) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = "cell";
      input.value = value;
      cellsBox.appendChild(input);
    }
    function runs(day, keyOf) {
      let c = 0;
      while (c < perDay) {
        const key = keyOf(day * perDay + c);
        if (key === null) {
          c += 1;
          continue;
        }
        let e = c + 1;
        while (e < perDay && keyOf(day * perDay + e) === key) {
          e += 1;
        }
        add(key + "/" + DAYS[day] + "/" + hhmm(c * res) + "-" + hhmm(e * res));
        c = e;
      }
    }
    for (let day = 0; day < 7; day += 1) {
      runs(day, function (i) {
        return owner[i];
      });
      if (customised) {
        runs(day, function (i) {
          return isOnline(i) ? "p" : null;
        });
      }
    }
    form.elements.portal_customised.value = customised ? "1" : "0";
    if (resetButton) {
      resetButton.hidden = !customised;
    }
  }

  // Painting.

  // The overlay becomes customised at its first change, starting from what is online
  // now: every available cell.
  function beginPortalEdit() {
    if (!customised) {
      customised = true;
      for (let i = 0; i < owner.length; i += 1) {
        online[i] = owner[i] !== null ? 1 : 0;
      }
    }
  }

  function apply(cell, fill) {
    for (let m = cell.start; m < cell.end; m += res) {
      const i = at(cell.day, m);
      if (layer === "portal") {
        if (owner[i] !== null) {
          online[i] = fill ? 1 : 0;
        }
      } else if (fill) {
        if (owner[i] === null) {
          online[i] = 0;
        }
        owner[i] = layer;
      } else if (owner[i] === layer) {
        owner[i] = null;
        online[i] = 0;
      }
    }
  }

  let anchor = null;
  let anchorFill = true;
  let focusRow = 0;
  let focusCol = 0;

  function what(fill) {
    if (layer === "portal") {
      return fill ? "put online" : "taken off the portal";
    }
    if (fill && customised) {
      // Portal availability is customised: a new block is not online until it is put
      // online on the portal layer.
      return "set to " + nameOf(layer) + ", not online yet";
    }
    return fill ? "set to " + nameOf(layer) : "cleared of " + nameOf(layer);
  }

  function toggle(r, c) {
    const cell = grid[r][c];
    const d = describe(cell);
    if (layer === "portal" && d.available === 0) {
      announce(DAY_NAMES[cell.day] + " " + hhmm(cell.start) +
        " is not available: paint it with a schedule type first");
      return;
    }
    const fill = strokeFill(d);
    if (layer === "portal") {
      beginPortalEdit();
    }
    apply(cell, fill);
    anchor = { r: r, c: c };
    anchorFill = fill;
    changed([cell]);
    announce(DAY_NAMES[cell.day] + " " + hhmm(cell.start) + " " + what(fill));
    return fill;
  }

  // What a stroke starting on a block does: the opposite of what the block shows,
  // except on a portal overlay not customised yet, where every block shows online and
  // a stroke puts blocks online (see the top of this file).
  function strokeFill(d) {
    if (layer === "portal" && !customised) {
      return true;
    }
    return !d.selected;
  }

  function fillRange(r, c) {
    if (anchor === null) {
      toggle(r, c);
      return;
    }
    if (layer === "portal") {
      beginPortalEdit();
    }
    const r0 = Math.min(anchor.r, r);
    const r1 = Math.max(anchor.r, r);
    const c0 = Math.min(anchor.c, c);
    const c1 = Math.max(anchor.c, c);
    const touched = [];
    for (let i = r0; i <= r1; i += 1) {
      for (let j = c0; j <= c1; j += 1) {
        apply(grid[i][j], anchorFill);
        touched.push(grid[i][j]);
      }
    }
    const first = grid[r0][c0];
    const last = grid[r1][c1];
    anchor = { r: r, c: c };
    changed(touched);
    announce(DAY_NAMES[first.day] + " to " + DAY_NAMES[last.day] + ", " + hhmm(first.start) +
      " to " + hhmm(last.end) + " " + what(anchorFill));
  }

  function changed(cells) {
    // A block's label and colours depend on its own cells only, so only the touched
    // blocks are drawn again.
    cells.forEach(render);
    dirty = true;
    sync();
  }

  function announce(text) {
    status.textContent = text;
  }

  // Focus: one cell is in the tab order at a time.

  function focusCell(r, c) {
    r = Math.max(0, Math.min(grid.length - 1, r));
    c = Math.max(0, Math.min(grid[r].length - 1, c));
    grid[focusRow][focusCol].td.tabIndex = -1;
    focusRow = r;
    focusCol = c;
    const td = grid[r][c].td;
    td.tabIndex = 0;
    td.focus();
  }

  function position(td) {
    for (let r = 0; r < grid.length; r += 1) {
      for (let c = 0; c < grid[r].length; c += 1) {
        if (grid[r][c].td === td) {
          return { r: r, c: c };
        }
      }
    }
    return null;
  }

  grid.forEach(function (row) {
    row.forEach(function (cell) {
      cell.td.tabIndex = -1;
    });
  });
  grid[0][0].td.tabIndex = 0;

  // Pointer painting: the block pressed sets the stroke's way (set or clear), every
  // block entered while the pointer is down is painted the same way, and releasing or
  // cancelling ends the stroke. Touch gets the same: `touch-action: none` on the table
  // (app.css) keeps the finger from scrolling while it paints.
  let stroke = null;

  function cellAt(event) {
    const hit = document.elementFromPoint(event.clientX, event.clientY);
    const td = hit && hit.closest('td[role="gridcell"]');
    return td && table.contains(td) ? position(td) : null;
  }

  table.addEventListener("pointerdown", function (event) {
    if (event.button !== 0) {
      return;
    }
    const p = cellAt(event);
    if (!p) {
      return;
    }
    // Neither the page's text nor the checkbox under the pointer takes the press.
    event.preventDefault();
    focusCell(p.r, p.c);
    if (event.shiftKey) {
      fillRange(p.r, p.c);
      return;
    }
    toggle(p.r, p.c);
    // The week as the press left it: each move of the drag paints the rectangle from
    // the block pressed to the block under the pointer over this, so a diagonal drag
    // fills a rectangle (days by times) and pulling back unpaints what it left.
    stroke = { start: p, last: p, owner: owner.slice(), online: online.slice(), rect: [p.r, p.r, p.c, p.c] };
    if (table.setPointerCapture) {
      try {
        table.setPointerCapture(event.pointerId);
      } catch (e) {
        // A pointer that cannot be captured still paints while over the table.
      }
    }
  });

  table.addEventListener("pointermove", function (event) {
    if (stroke === null) {
      return;
    }
    const p = cellAt(event);
    if (!p || (p.r === stroke.last.r && p.c === stroke.last.c)) {
      return;
    }
    stroke.last = p;
    paintRectangle(p);
  });

  function cellsIn(rect) {
    const cells = [];
    for (let i = rect[0]; i <= rect[1]; i += 1) {
      for (let j = rect[2]; j <= rect[3]; j += 1) {
        cells.push(grid[i][j]);
      }
    }
    return cells;
  }

  function paintRectangle(p) {
    const s0 = stroke.start;
    const rect = [Math.min(s0.r, p.r), Math.max(s0.r, p.r), Math.min(s0.c, p.c), Math.max(s0.c, p.c)];
    const before = cellsIn(stroke.rect);
    for (let i = 0; i < owner.length; i += 1) {
      owner[i] = stroke.owner[i];
      online[i] = stroke.online[i];
    }
    const now = cellsIn(rect);
    now.forEach(function (cell) {
      apply(cell, anchorFill);
    });
    stroke.rect = rect;
    anchor = { r: p.r, c: p.c };
    changed(before.concat(now));
    const first = grid[rect[0]][rect[2]];
    const last = grid[rect[1]][rect[3]];
    announce(DAY_NAMES[first.day] + " to " + DAY_NAMES[last.day] + ", " + hhmm(first.start) +
      " to " + hhmm(last.end) + " " + what(anchorFill));
  }

  function endStroke() {
    if (stroke !== null) {
      focusCell(stroke.last.r, stroke.last.c);
      stroke = null;
    }
  }
  table.addEventListener("pointerup", endStroke);
  table.addEventListener("pointercancel", endStroke);
  table.addEventListener("lostpointercapture", endStroke);

  // The pointer handlers did the painting; a click (the checkbox's label) must not
  // toggle the block back.
  table.addEventListener("click", function (event) {
    if (event.target.closest('td[role="gridcell"]')) {
      event.preventDefault();
    }
  });

  table.addEventListener("keydown", function (event) {
    const p = position(event.target);
    if (!p) {
      return;
    }
    const page = Math.max(1, Math.round(60 / Number(table.dataset.step)));
    let r = p.r;
    let c = p.c;
    switch (event.key) {
      case "ArrowUp":
        r -= 1;
        break;
      case "ArrowDown":
        r += 1;
        break;
      case "ArrowLeft":
        c -= 1;
        break;
      case "ArrowRight":
        c += 1;
        break;
      case "PageUp":
        r -= page;
        break;
      case "PageDown":
        r += page;
        break;
      case "Home":
        c = 0;
        if (event.ctrlKey) {
          r = 0;
        }
        break;
      case "End":
        c = grid[r].length - 1;
        if (event.ctrlKey) {
          r = grid.length - 1;
        }
        break;
      case " ":
      case "Spacebar":
      case "Enter":
        event.preventDefault();
        if (event.shiftKey) {
          fillRange(p.r, p.c);
        } else {
          toggle(p.r, p.c);
        }
        return;
      default:
        return;
    }
    event.preventDefault();
    focusCell(r, c);
  });

  // Layers: switching is instant, nothing is lost; the address keeps the layer so a
  // reload shows the same one.

  function setLayer(next) {
    layer = next;
    anchor = null;
    table.dataset.layer = next;
    table.classList.toggle("portal-mode", next === "portal");
    layerLinks.forEach(function (a) {
      if (a.dataset.layer === next) {
        a.setAttribute("aria-current", "true");
      } else {
        a.removeAttribute("aria-current");
      }
    });
    document.querySelectorAll('input[type="hidden"][name="layer"]').forEach(function (input) {
      input.value = next;
    });
    document.querySelectorAll("a.hours-link").forEach(function (a) {
      const url = new URL(a.href);
      url.searchParams.set("layer", next);
      a.href = url.toString();
    });
    if (helpMode) {
      helpMode.textContent = next === "portal"
        ? "Click an available block, or drag across several, to put them online or take them off the portal; the darker edge with a dot is bookable online."
        : "Click a block to set or clear it for the schedule type chosen above, or drag from one block to another to set or clear the whole rectangle between them (days by times).";
    }
    announce(next === "portal"
      ? "Customize Portal Availability" + (customised ? "" : ": not customised, every available block is online")
      : "Painting with " + nameOf(next));
    renderAll();
  }

  layerLinks.forEach(function (a) {
    a.addEventListener("click", function (event) {
      event.preventDefault();
      setLayer(a.dataset.layer);
      history.replaceState(null, "", a.href);
    });
  });

  window.addEventListener("beforeunload", function (event) {
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  // Saving reloads the page; it opens with the grid where it was on the screen (what
  // sits above the grid may have changed: a notice came or went).
  const scrollKey = "openslot-grid-top:" + location.pathname;
  form.addEventListener("submit", function () {
    sync();
    dirty = false;
    try {
      sessionStorage.setItem(scrollKey, String(table.getBoundingClientRect().top));
    } catch (e) {
      // Without storage the page opens at the top after saving, as without script.
    }
  });

  function restoreScroll() {
    try {
      const kept = sessionStorage.getItem(scrollKey);
      if (kept !== null) {
        sessionStorage.removeItem(scrollKey);
        window.scrollBy(0, table.getBoundingClientRect().top - Number(kept));
      }
    } catch (e) {
      // No storage: nothing to restore.
    }
  }

  form.classList.add("grid-live");
  document.querySelectorAll(".nojs-only").forEach(function (p) {
    p.hidden = true;
  });
  renderAll();
  sync();
  restoreScroll();
})();
