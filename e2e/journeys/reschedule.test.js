// Changing an appointment: Farid Khan, invited to the portal, books a time a week
// ahead, moves it to another time (the list of times by day, the "Move from X to Y"
// step), then cancels it with a reason; the front desk sees the reason and undoes the
// cancellation.

import assert from "node:assert/strict";
import { before, test } from "node:test";
import {
  DESK, assertNoHorizontalOverflow, browserSession, follow, mails, newPage, screenshot, visit, waitForMail,
} from "../lib/harness.js";
import { bookFirstTimeNextWeek, invite } from "../lib/flows.js";

const PASSWORD = "saffron-lantern-orbit-57";

const session = browserSession({ staff: DESK });
let browser;
let staff;
before(async () => {
  ({ browser, page: staff } = await session.ready);
});

test("a patient reschedules, cancels with a reason, and the desk undoes it", async () => {
  const link = await invite(staff, "Farid Khan", "farid@example.com");
  const page = await newPage(browser, { width: 375, height: 812, mobile: true });
  await visit(page, link);
  await page.getByLabel("New password").fill(PASSWORD);
  await page.getByLabel("The same password again").fill(PASSWORD);
  await follow(page, page.getByRole("button", { name: "Save and sign in" }));

  const booked = await bookFirstTimeNextWeek(page, "Physiotherapy follow-up");
  const appointmentUrl = page.url();
  const id = /\/appointments\/(\d+)/.exec(appointmentUrl)[1];

  // Reschedule: the times by day, short on a phone, with "Later".
  await follow(page, page.getByRole("link", { name: "Reschedule" }));
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Change the time");
  assert.ok(await page.locator("section.reschedule-day").count() >= 1);
  assert.ok(await page.locator("section.reschedule-day").count() <= 4);
  await assertNoHorizontalOverflow(page, 375);
  await screenshot(page, "portal-reschedule");
  const time = page.locator(".reschedule-times a.slot").nth(1);
  await follow(page, time);
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Move your appointment?");
  const step = await page.locator("main").innerText();
  assert.match(step, new RegExp(`move from ${booked.when.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
  const before = mails().length;
  await follow(page, page.getByRole("button", { name: "Move it" }));
  assert.match(await page.locator("main").innerText(), /Moved\. An email with the new time is on its way\./);
  const moved = /When\s+(.+?)\s+\(/.exec(await page.locator("dl.summary").innerText())[1];
  assert.notEqual(moved, booked.when);
  assert.equal(page.url().split("?")[0], appointmentUrl.split("?")[0], "the same appointment");
  await waitForMail("farid@example.com", /You moved your Physiotherapy follow-up/, { after: before });

  // Cancel, with a confirmation step and a reason.
  await follow(page, page.getByRole("link", { name: "Cancel this appointment" }));
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Cancel this appointment?");
  await page.getByLabel("Reason").fill("Travelling for work that week");
  await follow(page, page.getByRole("button", { name: "Yes, cancel it" }));
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Appointment cancelled");
  assert.match(await page.locator("dl.summary").innerText(), /Reason given\s+Travelling for work that week/);

  // The desk sees the reason and who cancelled, and undoes it.
  await visit(staff, `/admin/book/appointments/${id}`);
  const facts = await staff.locator("dl.facts").innerText();
  assert.match(facts, /Cancelled by\s+The patient \(portal\)/);
  assert.match(facts, /Cancellation reason\s+Travelling for work that week/);
  await follow(staff, staff.getByRole("button", { name: "Undo cancellation" }));
  assert.match(await staff.locator("main").innerText(), /Cancellation undone/);
  assert.match(await staff.locator("dl.facts").innerText(), /Status\s+booked/);
  await page.context().close();
});
