// The clinic admin sets a new kind of appointment up from nothing and sees it reach
// the portal: a schedule type with its colours, assigned to a practitioner, painted
// into her availability grid with the mouse and with the keyboard, partly taken off
// the portal, a portal-bookable service for it, and the setup check agreeing.

import assert from "node:assert/strict";
import { before, test } from "node:test";
import { ADMIN, audit, browserSession, follow, screenshot, visit } from "../lib/harness.js";
import { nextWeekday } from "../lib/dates.js";

const TYPE = "Pilates";
const SERVICE = "Pilates class";
const PRACTITIONER = "Christine Roy";

const session = browserSession({ staff: ADMIN });
let page;
before(async () => {
  ({ page } = await session.ready);
});

function cell(day, time) {
  const [h, m] = time.split(":").map(Number);
  return page.locator(`#grid td[role="gridcell"][data-day="${day}"][data-start="${h * 60 + m}"]`);
}

/** Scrolls the page to the painting tools and the grid to `time`, for a screenshot. */
async function showGrid(time) {
  await page.evaluate((t) => {
    document.querySelector(".grid-tools").scrollIntoView({ block: "start" });
    const [h, m] = t.split(":").map(Number);
    // The page scrolls, not a box of the grid's own: the row goes just under the
    // day names, which stay at the top of the window.
    const row = document.querySelector(`#grid td[data-start="${h * 60 + m}"]`).parentElement;
    const head = document.querySelector("#grid thead").offsetHeight;
    window.scrollBy(0, row.getBoundingClientRect().top - head);
  }, time);
}

async function label(day, time) {
  return cell(day, time).getAttribute("aria-label");
}

test("a schedule type with its colours, warned about low contrast", async () => {
  await visit(page, "/admin/schedule-types");
  await page.getByLabel("Name", { exact: true }).fill(TYPE);
  await page.getByLabel("Code (optional)").fill("PIL");
  await page.getByLabel("Default duration (minutes)").fill("30");
  // A pale pair first: saved, with a warning under the colours. (That page is not
  // audited: its swatch has the low contrast the warning is about.)
  await page.getByLabel("Custom background colour").fill("#ffe0b2");
  await page.getByLabel("Font colour").fill("#f4a261");
  await follow(page, page.getByRole("button", { name: "Add schedule type" }), { audit: false });
  await assert.doesNotReject(page.getByRole("status").filter({ hasText: "Schedule type saved." }).waitFor());
  assert.match(await page.locator("#contrast-warning").innerText(), /contrast/i);
  // A readable font colour: the warning goes.
  await page.getByLabel("Font colour").fill("#4a2500");
  await follow(page, page.getByRole("button", { name: "Save", exact: true }));
  assert.equal(await page.locator("#contrast-warning").count(), 0);

  await visit(page, "/admin/schedule-types");
  const row = page.getByRole("row").filter({ hasText: TYPE });
  const text = await row.innerText();
  assert.match(text, /Any clinic\s+30 min\s+Override needed\s+No/);
  assert.doesNotMatch(text, /low contrast/);
  // The swatch shows the colours chosen (from the page's schedule-types.css).
  const swatch = row.getByRole("link", { name: TYPE, exact: true });
  const colours = await swatch.evaluate((el) => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]);
  assert.deepEqual(colours, ["rgb(255, 224, 178)", "rgb(74, 37, 0)"]);
});

test("assigned to a practitioner from her Schedule Types list", async () => {
  await visit(page, "/admin/practitioners");
  await follow(page, page.getByRole("link", { name: PRACTITIONER }));
  const available = page.getByRole("list", { name: "Available" });
  const added = page.getByRole("list", { name: "Added" });
  assert.equal(await added.getByText(TYPE).count(), 0);
  await follow(page, available.getByRole("button", { name: `Add ${TYPE}` }));
  await assert.doesNotReject(added.getByText(TYPE).waitFor());
  assert.equal(await page.getByRole("list", { name: "Available" }).getByText(TYPE).count(), 0);
});

test("painted into the availability grid with click, shift-click and the keyboard", async () => {
  await follow(page, page.getByRole("link", { name: `Availability records of ${PRACTITIONER}` }));
  await follow(page, page.getByRole("table").getByRole("link").first());
  await page.getByRole("link", { name: TYPE, exact: true }).click();
  await assert.doesNotReject(page.locator("#grid-status", { hasText: `Painting with ${TYPE}` }).waitFor());
  assert.equal(await label("sat", "09:00"), "Saturday 09:00, empty");

  // Mouse: a click sets one block, a shift-click fills the range from it.
  // Her record customises the portal overlay, so new blocks start in the clinic only.
  await cell("sat", "09:00").click();
  assert.equal(await label("sat", "09:00"), `Saturday 09:00, ${TYPE}, in clinic only, not online`);
  assert.equal(await label("sat", "09:15"), "Saturday 09:15, empty");
  await cell("sat", "11:45").click({ modifiers: ["Shift"] });
  for (const t of ["09:15", "10:30", "11:45"]) {
    assert.equal(await label("sat", t), `Saturday ${t}, ${TYPE}, in clinic only, not online`);
  }
  assert.equal(await label("sat", "12:00"), "Saturday 12:00, empty");
  assert.match(await page.locator("#grid-status").innerText(), /Saturday to Saturday, 09:00 to 12:00 set to/);

  // Keyboard: the grid is one tab stop, the arrows move, Space sets, Shift+Space fills.
  await page.getByRole("link", { name: "Customize Portal Availability" }).focus();
  for (let i = 0; i < 5; i += 1) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(() => document.activeElement.getAttribute("role") === "gridcell")) {
      break;
    }
  }
  const focused = () => page.evaluate(() => document.activeElement.getAttribute("aria-label"));
  assert.match(await focused(), /^Saturday 11:45/, "Tab reaches the grid at the last block used");
  await page.keyboard.press("ArrowRight");
  for (let i = 0; i < 11; i += 1) {
    await page.keyboard.press("ArrowUp");
  }
  assert.equal(await focused(), "Sunday 09:00, empty");
  // The focused block is visibly marked.
  const ring = await page.evaluate(() => {
    const el = document.activeElement;
    const s = getComputedStyle(el);
    return { visible: el.matches(":focus-visible"), outline: `${s.outlineStyle} ${s.outlineWidth}`, shadow: s.boxShadow };
  });
  assert.ok(ring.visible, "the grid cell matches :focus-visible");
  assert.equal(ring.outline, "solid 3px");
  assert.notEqual(ring.shadow, "none");
  await page.keyboard.press("Space");
  assert.equal(await focused(), `Sunday 09:00, ${TYPE}, in clinic only, not online`);
  for (let i = 0; i < 3; i += 1) {
    await page.keyboard.press("ArrowDown");
  }
  await page.keyboard.press("Shift+Space");
  assert.equal(await focused(), `Sunday 09:45, ${TYPE}, in clinic only, not online`);
  assert.equal(await label("sun", "09:30"), `Sunday 09:30, ${TYPE}, in clinic only, not online`);
  assert.equal(await label("sun", "10:00"), "Sunday 10:00, empty");
  // Space again clears one block.
  await page.keyboard.press("Space");
  assert.equal(await focused(), "Sunday 09:45, empty");
  await page.keyboard.press("Space");
  await audit(page, "after painting");

  await follow(page, page.getByRole("button", { name: "Save grid" }));
  await assert.doesNotReject(page.getByRole("status").filter({ hasText: "Saved." }).waitFor());
  assert.equal(await label("sat", "10:00"), `Saturday 10:00, ${TYPE}, in clinic only, not online`);
  assert.equal(await label("sun", "09:45"), `Sunday 09:45, ${TYPE}, in clinic only, not online`);
  assert.equal(await label("sun", "10:00"), "Sunday 10:00, empty");
  // Every cell is labelled.
  const unlabelled = await page.locator('#grid td[role="gridcell"]:not([aria-label])').count();
  assert.equal(unlabelled, 0);
  // (docs/screenshots/grid-editor.png is the setup journey's, of a drag-painted week.)
});

test("portal overlay customised: part of the new blocks put online", async () => {
  await page.getByRole("link", { name: "Customize Portal Availability" }).click();
  await assert.doesNotReject(page.locator("#grid-status", { hasText: /^Customize Portal Availability$/ }).waitFor());
  assert.equal(await cell("sat", "09:00").getAttribute("aria-selected"), "false");
  await cell("sat", "09:00").click();
  assert.equal(await label("sat", "09:00"), `Saturday 09:00, ${TYPE}, online`);
  await cell("sat", "10:45").click({ modifiers: ["Shift"] });
  assert.equal(await label("sat", "10:15"), `Saturday 10:15, ${TYPE}, online`);
  assert.equal(await cell("sat", "10:15").getAttribute("aria-selected"), "true");
  assert.equal(await label("sat", "11:00"), `Saturday 11:00, ${TYPE}, in clinic only, not online`);
  // An empty block cannot go online.
  await cell("sat", "13:00").click();
  assert.match(await page.locator("#grid-status").innerText(), /is not available: paint it with a schedule type first/);
  assert.equal(await label("sat", "13:00"), "Saturday 13:00, empty");
  await follow(page, page.getByRole("button", { name: "Save grid", exact: true }));
  assert.match(page.url(), /layer=portal/);
  assert.equal(await label("sat", "10:45"), `Saturday 10:45, ${TYPE}, online`);
  assert.equal(await label("sat", "11:00"), `Saturday 11:00, ${TYPE}, in clinic only, not online`);
  assert.equal(await label("sun", "09:00"), `Sunday 09:00, ${TYPE}, in clinic only, not online`);
  await showGrid("08:30");
  await screenshot(page, "portal-overlay");
});

test("a portal-bookable service for the new schedule type", async () => {
  await visit(page, "/admin/services");
  await page.getByLabel("Name", { exact: true }).fill(SERVICE);
  await page.getByLabel("Description (shown in the portal)").fill("Thirty minutes of mat Pilates, one to one.");
  await page.getByLabel("Service duration (minutes)").fill("30");
  await page.getByLabel("Book from portal").check();
  await page.getByRole("group", { name: "Applies to schedule types" }).getByLabel(TYPE).check();
  await follow(page, page.getByRole("button", { name: "Add product or service" }));
  const row = page.getByRole("row").filter({ hasText: SERVICE });
  await assert.doesNotReject(row.waitFor());
  assert.match(await row.innerText(), /30 min\s+Yes/);
  assert.match(await row.innerText(), new RegExp(TYPE));
});

test("the setup check finds nothing in the way, and explains the overlay", async () => {
  await visit(page, "/admin/setup-check");
  const section = page.locator("section.check").filter({ has: page.getByRole("heading", { name: new RegExp(`^${SERVICE}`) }) });
  await assert.doesNotReject(section.waitFor());
  assert.match(await section.innerText(), /Nothing keeps it from the portal\./);

  const saturday = nextWeekday(6);
  const explain = async (time) => {
    await page.getByLabel("Service").selectOption({ label: SERVICE });
    await page.getByLabel("Practitioner").selectOption({ label: PRACTITIONER });
    await page.getByLabel("Date", { exact: true }).fill(saturday);
    await page.getByLabel("Time").fill(time);
    await follow(page, page.getByRole("button", { name: "Explain" }));
    return page.locator(".answer").innerText();
  };
  assert.match(await explain("09:30"), /Offered in the portal\./);
  const refused = await explain("11:00");
  // In a sentence with the time in words, grouped as a real blocker, not as planned time off.
  assert.match(refused, /Not offered in the portal\.\s+Needs attention\s+\w{3} \d{1,2} \w{3} \d{4}, 11:00 E[SD]T: /);
  assert.doesNotMatch(refused, /rule \d+/);
  assert.match(refused, /portal|online|overlay/i);
  await page.locator("#why").scrollIntoViewIfNeeded();
  await screenshot(page, "setup-check");
});
