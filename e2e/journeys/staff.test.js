// The front desk: invites a patient to the portal from the patient's Portal Access
// page, and books from the appointment book, overriding a conflict on purpose.

import assert from "node:assert/strict";
import { before, test } from "node:test";
import { DESK, browserSession, follow, screenshot, visit } from "../lib/harness.js";
import { invite } from "../lib/flows.js";
import { nextWeekday } from "../lib/dates.js";

const session = browserSession({ staff: DESK });
let page;
before(async () => {
  ({ page } = await session.ready);
});

test("invite a patient from the Portal Access page", async () => {
  const link = await invite(page, "Ben Cho", "ben@example.com");
  assert.match(link, /\/o\/demo\/portal\//);
  // The patient's page tells the same story.
  await follow(page, page.getByRole("link", { name: "Ben Cho" }));
  assert.match(await page.locator("#portal-access").innerText(), /may see and book only:\s+Christine Roy\s+Omar Haddad/);
});

/**
 * Fills the new booking form opened from the "+" of Christine Roy's column; `patient`
 * is found with the form's patient search.
 */
async function fillBooking({ patient, date, time }) {
  await follow(page, page.getByRole("link", { name: /^New booking with Christine Roy on / }));
  assert.equal(await page.getByLabel("Practitioner").locator("option:checked").innerText(), "Christine Roy");
  await page.getByLabel("Find a patient by name, email or phone").fill(patient);
  await follow(page, page.getByRole("button", { name: "Search" }));
  await page.getByLabel("Patient", { exact: true }).selectOption({ index: 1 });
  await page.getByLabel("Service", { exact: true }).selectOption({ label: "Physiotherapy follow-up (30 min)" });
  await page.getByLabel("Date", { exact: true }).fill(date);
  await page.getByLabel("Start time").fill(time);
}

test("book from the appointment book, with a conflict override", async () => {
  // A Wednesday next week or later: Christine Roy works in Toronto, and the demo's own
  // appointments are all this week.
  const date = nextWeekday(3, { minDays: 7 });
  await visit(page, `/admin/book?date=${date}`);
  assert.match(await page.locator(".appointments, main").first().innerText(), /No appointments\./);

  await fillBooking({ patient: "ada@example.com", date, time: "14:00" });
  await follow(page, page.getByRole("button", { name: "Book", exact: true }));
  assert.match(page.url(), /notice=booked/);
  const listed = page.locator("ul.appointments li");
  assert.equal(await listed.count(), 1);
  assert.match(await listed.first().innerText(), /Christine Roy: .*14:00.*Ada Lane/s);

  // The same time for another patient: Christine Toronto allows no conflicts.
  await fillBooking({ patient: "emma@example.com", date, time: "14:00" });
  await follow(page, page.getByRole("button", { name: "Book", exact: true }), { status: 409 });
  const warning = page.getByRole("alert");
  assert.match(await warning.innerText(), /This booking needs an override\. Nothing was booked, because:/);
  assert.match(await warning.innerText(), /already at 14:00/);
  // Without a reason the override is refused.
  await page.getByLabel("Book anyway, overriding the reasons above").check();
  await follow(page, page.getByRole("button", { name: "Book with override" }), { status: 422 });
  assert.ok(await page.locator("#override_reason-error").isVisible(), "a reason is required");
  await page.getByLabel("Book anyway, overriding the reasons above").check();
  await page.getByLabel("Why (required for an override)").fill("Emma is in pain today; Christine agreed to see both.");
  await follow(page, page.getByRole("button", { name: "Book with override" }));
  assert.match(page.url(), /notice=booked/);
  assert.equal(await listed.count(), 2);
  const both = await listed.allInnerTexts();
  assert.ok(both.some((t) => /14:00.*Ada Lane/s.test(t)), both.join(" | "));
  assert.ok(both.some((t) => /14:00.*Emma Roux/s.test(t)), both.join(" | "));
  // Both show in Christine Roy's column of the day's grid.
  const column = page.locator("table.book td.booked");
  assert.match(await column.allInnerTexts().then((t) => t.join(" ")), /Ada Lane[\s\S]*Emma Roux|Emma Roux[\s\S]*Ada Lane/);
  await page.evaluate(() => document.querySelector(".book-scroll").scrollIntoView({ block: "start" }));
  await screenshot(page, "appointment-book");
});
