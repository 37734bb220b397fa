// The front desk's calendar: a free time opens the booking form filled in, the patient
// is found by typing, an appointment is dragged to another time and another moved with
// the keyboard, time is blocked on purpose, and the week fits a phone.

import assert from "node:assert/strict";
import { before, test } from "node:test";
import { DESK, assertNoHorizontalOverflow, audit, browserSession, follow, screenshot, visit } from "../lib/harness.js";
import { nextWeekday } from "../lib/dates.js";

const session = browserSession({ staff: DESK, width: 1440, height: 900 });
let page;
// A Monday two weeks ahead or later: Christine Roy works 09:00–17:00 in Toronto and
// the portal offers only her mornings, so the afternoon is this journey's own.
let date;
before(async () => {
  ({ page } = await session.ready);
  date = nextWeekday(1, { minDays: 14 });
});

/** Christine Roy's appointment of `patient` in the day's grid. */
function appointment(patient) {
  return page.locator("table.book a.appt", { hasText: patient });
}

/** Opens the day, clicks Christine Roy's free time `time` and checks the form. */
async function clickFreeTime(time) {
  await visit(page, `/admin/book?date=${date}`);
  await follow(page, page.getByRole("link", { name: new RegExp(`^Book Christine Roy, .*, ${time}$`) }));
  assert.equal(await page.getByLabel("Practitioner").locator("option:checked").innerText(), "Christine Roy");
  assert.equal(await page.getByLabel("Date", { exact: true }).inputValue(), date);
  assert.equal(await page.getByLabel("Start time").inputValue(), time);
}

/** Types `typed` into the patient combobox and picks the option `name`. */
async function pickPatient(typed, name) {
  const combo = page.getByRole("combobox", { name: /Find a patient/ });
  await combo.pressSequentially(typed, { delay: 30 });
  const option = page.getByRole("option", { name: new RegExp(name) });
  await option.waitFor();
  assert.equal(await combo.getAttribute("aria-expanded"), "true");
  await audit(page, "the patient combobox open");
  await option.click();
  assert.match(await page.getByLabel("Patient", { exact: true }).locator("option:checked").innerText(), new RegExp(name));
}

test("click a free time, find the patient by typing, book", async () => {
  await clickFreeTime("14:00");
  await pickPatient("Hugo", "Hugo Blanc");
  await page.getByLabel("Service", { exact: true }).selectOption({ label: "Physiotherapy follow-up (30 min)" });
  await follow(page, page.getByRole("button", { name: "Book", exact: true }));
  assert.match(page.url(), /notice=booked/);
  assert.match(await appointment("Hugo Blanc").innerText(), /14:00–14:30/);
});

test("drag an appointment to another time", async () => {
  const hugo = appointment("Hugo Blanc");
  await hugo.scrollIntoViewIfNeeded();
  const box = await hugo.boundingBox();
  const rowTop = async (time) => (await page.locator(`table.book tr[data-time="${time}"]`).boundingBox()).y;
  const hour = (await rowTop("15:00")) - (await rowTop("14:00"));
  const x = box.x + box.width / 2;
  const y = box.y + 6;
  await page.mouse.move(x, y);
  await page.mouse.down();
  for (let i = 1; i <= 10; i += 1) {
    await page.mouse.move(x, y + (hour * i) / 10);
  }
  await Promise.all([page.waitForURL(/notice=moved/), page.mouse.up()]);
  await page.waitForLoadState("load");
  await audit(page, "after the drag");
  assert.match(await appointment("Hugo Blanc").innerText(), /15:00–15:30/);
});

test("pull an appointment's lower edge down to make it longer", async () => {
  const hugo = appointment("Hugo Blanc");
  await hugo.scrollIntoViewIfNeeded();
  const grip = hugo.locator(".grip");
  const box = await grip.boundingBox();
  const rowTop = async (time) => (await page.locator(`table.book tr[data-time="${time}"]`).boundingBox()).y;
  const half = ((await rowTop("15:00")) - (await rowTop("14:00"))) / 2;
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  // Straight down, as a person pulls an edge: the first pixel already leaves the appointment.
  await page.mouse.move(x, y);
  await page.mouse.down();
  for (let i = 1; i <= 10; i += 1) {
    await page.mouse.move(x, y + (half * i) / 10);
  }
  // The page is already at a "moved" address from the drag before: wait for a new load.
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.mouse.up()]);
  await page.waitForLoadState("load");
  await audit(page, "after the resize");
  assert.match(await appointment("Hugo Blanc").innerText(), /15:00–16:00/);
});

test("move Ada Lane's appointment with the keyboard", async () => {
  await clickFreeTime("16:00");
  await pickPatient("Ada", "Ada Lane");
  await page.getByLabel("Service", { exact: true }).selectOption({ label: "Physiotherapy follow-up (30 min)" });
  await follow(page, page.getByRole("button", { name: "Book", exact: true }));
  const ada = appointment("Ada Lane");
  assert.match(await ada.innerText(), /16:00–16:30/);
  await ada.focus();
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  assert.match(await page.locator("#book-live").innerText(), /Ada Lane: 16:30–17:00, Christine Roy.*Enter to save/);
  // Escape puts it back; moving again and Enter saves.
  await page.keyboard.press("Escape");
  assert.match(await page.locator("#book-live").innerText(), /stays where it was/);
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  await Promise.all([page.waitForURL(/notice=moved/), page.keyboard.press("Enter")]);
  await page.waitForLoadState("load");
  await audit(page, "after the keyboard move");
  assert.match(await appointment("Ada Lane").innerText(), /16:30–17:00/);
});

test("block time on purpose", async () => {
  await visit(page, `/admin/book?date=${date}&practitioner=all`);
  await follow(page, page.getByRole("link", { name: "Block time" }));
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Block time");
  await page.getByLabel("Practitioner").selectOption({ label: "Christine Roy" });
  await page.getByLabel("Date", { exact: true }).fill(date);
  await page.getByLabel("Start time").fill("12:00");
  await page.getByLabel("Length (minutes)").fill("60");
  await page.getByLabel("What the time is for (optional)").fill("Team meeting");
  await follow(page, page.getByRole("button", { name: "Block time" }));
  assert.match(page.url(), /notice=blocked/);
  assert.match(await page.locator("p.ok[role=status]").innerText(), /Time blocked \(Team meeting\) for Christine Roy/);
  assert.match(await appointment("Blocked: Team meeting").innerText(), /12:00–13:00/);
  await page.evaluate(() => document.querySelector(".book-scroll").scrollIntoView({ block: "start" }));
  await screenshot(page, "appointment-book-calendar");
});

test("the week and the day fit a phone", async () => {
  await page.setViewportSize({ width: 375, height: 800 });
  for (const url of [`/admin/book?view=week&date=${date}`, `/admin/book?view=week&date=${date}&practitioner=all`, `/admin/book?date=${date}`]) {
    await visit(page, url);
    const { scrollWidth, innerWidth } = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
    }));
    assert.ok(scrollWidth <= innerWidth, `${url}: ${scrollWidth} > ${innerWidth}`);
    await assertNoHorizontalOverflow(page, 375);
  }
  // The week is one practitioner's by default.
  await visit(page, `/admin/book?view=week&date=${date}`);
  assert.equal(await page.locator("table.book thead tr.columns th[data-practitioner]").count(), 7);
  await page.setViewportSize({ width: 1440, height: 900 });
});
