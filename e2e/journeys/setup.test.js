// An admin sets up a new practitioner's week, the way issue 14 asked for it to feel:
// a form that reports every error at once, a colour chosen from presets with a live
// preview, blocks drag-painted into the grid editor with the mouse and saved without
// losing the place on the page, and a portal overlay that was never customised, whose
// first stroke puts the mornings online (not off).

import assert from "node:assert/strict";
import { before, test } from "node:test";
import { ADMIN, RUN, assertNoHorizontalOverflow, browserSession, follow, screenshot, visit } from "../lib/harness.js";

const TYPE = `Setup ${RUN}`;
const PRACTITIONER = `Setup Tester ${RUN}`;

const session = browserSession({ staff: ADMIN });
let page;
before(async () => {
  ({ page } = await session.ready);
});

function cell(day, time) {
  const [h, m] = time.split(":").map(Number);
  return page.locator(`#grid td[role="gridcell"][data-day="${day}"][data-start="${h * 60 + m}"]`);
}

async function label(day, time) {
  return cell(day, time).getAttribute("aria-label");
}

/** Drags the mouse from the middle of one block to the middle of another, passing over every block between. */
async function drag(from, to) {
  // Both ends on the screen: a pointer paints what it passes over in the window.
  await from.evaluate((el) => el.scrollIntoView({ block: "center" }));
  const a = await from.boundingBox();
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  const b = await to.boundingBox();
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 24 });
  await page.mouse.up();
}

test("an empty schedule type form reports both errors at once", async () => {
  await visit(page, "/admin/schedule-types");
  const form = page.locator('form[action$="/admin/schedule-types"]');
  // The browser's own checks would stop an empty form first; the server's answer is
  // what a browser without them, or a form changed since, gets.
  await form.evaluate((f) => {
    f.noValidate = true;
  });
  await page.getByLabel("Name", { exact: true }).fill("");
  await page.getByLabel("Code (optional)").fill("KEPT");
  await page.getByLabel("Default duration (minutes)").fill("");
  await follow(page, page.getByRole("button", { name: "Add schedule type" }), { status: 422 });
  assert.equal(await page.locator("#name-error").innerText(), "Enter a name (at most 100 characters).");
  assert.equal(
    await page.locator("#default_duration_minutes-error").innerText(),
    "Enter the default duration in minutes as a whole number, e.g. 30.",
  );
  assert.equal(await page.getByLabel("Code (optional)").inputValue(), "KEPT", "what was typed is kept");
});

test("a preset colour, previewed live", async () => {
  await page.getByLabel("Name", { exact: true }).fill(TYPE);
  await page.getByLabel("Code (optional)").fill("");
  await page.getByLabel("Default duration (minutes)").fill("30");
  await page.getByRole("radio", { name: "Mint" }).check();
  const preview = page.locator("#colour-preview");
  assert.equal(await preview.innerText(), TYPE);
  const colours = await preview.evaluate((el) => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]);
  assert.deepEqual(colours, ["rgb(209, 250, 229)", "rgb(6, 95, 70)"], "Mint with its readable ink");
  assert.equal(await page.getByLabel("Font colour").inputValue(), "#065f46");
  await follow(page, page.getByRole("button", { name: "Add schedule type" }));
  await assert.doesNotReject(page.getByRole("status").filter({ hasText: "Schedule type saved." }).waitFor());
  assert.ok(await page.getByRole("radio", { name: "Mint" }).isChecked(), "the preset stays chosen");
  await page.getByRole("radio", { name: "Lilac" }).check();
  assert.equal(
    await page.locator("#colour-preview").evaluate((el) => getComputedStyle(el).backgroundColor),
    "rgb(237, 233, 254)",
  );
  await screenshot(page, "schedule-type-colours", { locator: page.locator("#colour-picker").locator("..") });
  await page.getByRole("radio", { name: "Mint" }).check();
});

test("a new practitioner with the schedule type and an availability record", async () => {
  await visit(page, "/admin/practitioners");
  await page.getByLabel("Name", { exact: true }).fill(PRACTITIONER);
  await page.getByLabel("Practitioner type").selectOption({ index: 1 });
  await page.getByLabel("Home clinic").selectOption({ label: "Toronto Downtown" });
  await follow(page, page.getByRole("button", { name: "Add practitioner" }));
  await assert.doesNotReject(page.getByRole("status").filter({ hasText: "Saved." }).waitFor());
  await follow(page, page.getByRole("button", { name: `Add ${TYPE}` }));
  await follow(page, page.getByRole("link", { name: `Availability records of ${PRACTITIONER}` }));
  const today = new Date().toISOString().slice(0, 10);
  await page.getByLabel("Start date").fill(today);
  await follow(page, page.getByRole("button", { name: "Add record" }));
  await assert.doesNotReject(page.locator("#grid").waitFor());
});

test("drag-painted with the mouse, saved where the page was", async () => {
  await page.getByRole("link", { name: TYPE, exact: true }).click();
  await assert.doesNotReject(page.locator("#grid-status", { hasText: `Painting with ${TYPE}` }).waitFor());
  // The whole working day is on the page: no box of its own scrolls.
  const inner = await page.locator(".grid-scroll").evaluate((el) => el.scrollHeight > el.clientHeight + 1);
  assert.equal(inner, false, "the grid has no scroll box of its own");
  // Monday morning, 09:00 to 12:00, in one stroke; Tuesday afternoon in another.
  await drag(cell("mon", "09:00"), cell("mon", "11:45"));
  for (const t of ["09:00", "10:30", "11:45"]) {
    assert.equal(await label("mon", t), `Monday ${t}, ${TYPE}, online`);
  }
  assert.equal(await label("mon", "12:00"), "Monday 12:00, empty");
  await drag(cell("tue", "14:00"), cell("tue", "15:45"));
  assert.equal(await label("tue", "15:00"), `Tuesday 15:00, ${TYPE}, online`);
  // A stroke that starts on a painted block clears.
  await drag(cell("mon", "11:30"), cell("mon", "11:45"));
  assert.equal(await label("mon", "11:30"), "Monday 11:30, empty");
  assert.equal(await label("mon", "11:45"), "Monday 11:45, empty");
  // A diagonal drag fills the rectangle between its two blocks: days by times.
  await drag(cell("sat", "13:00"), cell("sun", "13:45"));
  for (const [day, name] of [["sat", "Saturday"], ["sun", "Sunday"]]) {
    for (const t of ["13:00", "13:45"]) {
      assert.equal(await label(day, t), `${name} ${t}, ${TYPE}, online`);
    }
  }
  // The same drag again starts on a painted block, so it clears the rectangle.
  await drag(cell("sat", "13:00"), cell("sun", "13:45"));
  assert.equal(await label("sun", "13:00"), "Sunday 13:00, empty");

  await cell("mon", "08:00").evaluate((el) => el.scrollIntoView({ block: "start" }));
  await page.evaluate(() => window.scrollBy(0, -90));
  await screenshot(page, "grid-editor");
  // Scrolled down to the save button, as a person clicking it is.
  await page.getByRole("button", { name: "Save grid" }).evaluate((el) => el.scrollIntoView({ block: "center" }));
  const gridTop = () => page.evaluate(() => Math.round(document.getElementById("grid").getBoundingClientRect().top));
  const scrolled = await page.evaluate(() => window.scrollY);
  assert.ok(scrolled > 200, `the page is scrolled (${scrolled})`);
  const before = await gridTop();
  await follow(page, page.getByRole("button", { name: "Save grid" }));
  await assert.doesNotReject(page.getByRole("status").filter({ hasText: "Saved." }).waitFor());
  const after = await gridTop();
  assert.ok(Math.abs(after - before) < 4, `the grid stays where it was on the screen (${before} then ${after})`);
  assert.equal(await label("mon", "09:00"), `Monday 09:00, ${TYPE}, online`);
  assert.equal(await label("mon", "11:15"), `Monday 11:15, ${TYPE}, online`);
  assert.equal(await label("mon", "11:30"), "Monday 11:30, empty");
  assert.equal(await label("tue", "15:45"), `Tuesday 15:45, ${TYPE}, online`);
});

test("the first stroke on an uncustomised overlay puts the mornings online", async () => {
  await page.getByRole("link", { name: "Customize Portal Availability" }).click();
  await assert.doesNotReject(page.locator("#grid-status", { hasText: "not customised" }).waitFor());
  await drag(cell("mon", "09:00"), cell("mon", "11:15"));
  for (const t of ["09:00", "10:00", "11:15"]) {
    assert.equal(await label("mon", t), `Monday ${t}, ${TYPE}, online`, "the stroke puts online, as shown");
  }
  assert.match(await page.locator("#grid-status").innerText(), /put online/);
  // The afternoon stays online: the overlay starts from what was online.
  assert.equal(await label("tue", "14:00"), `Tuesday 14:00, ${TYPE}, online`);
  // Now customised: a second stroke takes the afternoon off.
  await drag(cell("tue", "14:00"), cell("tue", "15:45"));
  assert.equal(await label("tue", "15:00"), `Tuesday 15:00, ${TYPE}, in clinic only, not online`);
  await follow(page, page.getByRole("button", { name: "Save grid", exact: true }));
  for (const t of ["09:00", "10:00", "11:15"]) {
    assert.equal(await label("mon", t), `Monday ${t}, ${TYPE}, online`);
  }
  assert.equal(await label("tue", "14:00"), `Tuesday 14:00, ${TYPE}, in clinic only, not online`);

  // On the customised overlay, a new block says plainly it is not online yet.
  await page.getByRole("link", { name: TYPE, exact: true }).click();
  await cell("wed", "09:00").click();
  assert.equal(await label("wed", "09:00"), `Wednesday 09:00, ${TYPE}, in clinic only, not online`);
  assert.match(await page.locator("#grid-status").innerText(), /not online yet/);
  const outline = await cell("tue", "14:00").evaluate((el) => getComputedStyle(el).outlineStyle);
  assert.equal(outline, "dashed", "a block not online looks different");
});

test("rows of fields line up, and no suggestion list shows as a box", async () => {
  // The record's "Temporary change…" row: both dates' inputs at one height, the button beside them.
  const top = (locator) => locator.evaluate((el) => Math.round(el.getBoundingClientRect().top));
  const from = await top(page.locator("#temporary_start"));
  assert.equal(await top(page.locator("#temporary_end")), from);
  const button = await top(page.getByRole("button", { name: "Copy the record for these dates" }));
  assert.ok(Math.abs(button - from) <= 4, `the button sits beside the inputs (${button} vs ${from})`);
  const editor = page.url();
  await visit(page, "/admin/clinics");
  for (const list of await page.locator("datalist").all()) {
    assert.equal(await list.evaluate((el) => getComputedStyle(el).display), "none");
  }
  // On a phone neither the grid nor the colour picker scrolls sideways.
  await page.setViewportSize({ width: 375, height: 800 });
  for (const url of [editor, "/admin/schedule-types"]) {
    await visit(page, url);
    await assertNoHorizontalOverflow(page, 375);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
});
