// Patients on their own: an invited patient sets a password, books, sees the
// confirmation and cancels; a new patient signs up (the page solves the proof-of-work
// itself), confirms the address from the email and books; an invitation whose three
// days have passed shows its own page.

import assert from "node:assert/strict";
import { before, test } from "node:test";
import {
  DESK, browserSession, follow, mails, newPage, screenshot, sql, visit, waitForMail,
} from "../lib/harness.js";
import { bookFirstTimeNextWeek, invite, offered, signUp } from "../lib/flows.js";

const PASSWORD = "kettle-harbour-violet-42";

const session = browserSession({ staff: DESK });
let browser;
let staff;
before(async () => {
  ({ browser, page: staff } = await session.ready);
});

test("an invited patient sets a password, books, sees the confirmation and cancels", async () => {
  const link = await invite(staff, "Carla Diaz", "carla@example.com");
  const page = await newPage(browser);
  await visit(page, link);
  assert.match(await page.getByRole("heading", { level: 1 }).innerText(), /: choose your password$/);
  assert.match(await page.locator("main").innerText(), /Your username: carla@example\.com/);
  // Two different passwords: refused, nothing changes.
  await page.getByLabel("New password").fill(PASSWORD);
  await page.getByLabel("The same password again").fill(`${PASSWORD}x`);
  await follow(page, page.getByRole("button", { name: "Save and sign in" }), { status: 422 });
  assert.ok(await page.locator("#password_confirmation-error").isVisible());
  await page.getByLabel("New password").fill(PASSWORD);
  await page.getByLabel("The same password again").fill(PASSWORD);
  await follow(page, page.getByRole("button", { name: "Save and sign in" }));
  assert.equal(await page.locator("header .signout span").innerText(), "Carla");

  const before = mails().length;
  const booked = await bookFirstTimeNextWeek(page, "Physiotherapy follow-up", { shot: "portal-booking" });
  await screenshot(page, "portal-confirmation");
  const { mail } = await waitForMail("carla@example.com", /Physiotherapy follow-up/, { after: before });
  assert.match(mail.text, new RegExp(booked.when.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));

  assert.equal(await offered(page, booked.slotsUrl, booked.slotHref), 0, "the time booked is no longer offered");
  await follow(page, page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "My appointments" }));
  const upcoming = page.locator("ul.cards li").filter({ hasText: booked.when });
  assert.equal(await upcoming.count(), 1);
  assert.match(await upcoming.innerText(), /Physiotherapy follow-up with .+\s+Booked$/);
  await follow(page, upcoming.getByRole("link", { name: booked.when }));
  assert.match(await page.locator("main").innerText(), /You can cancel online until \w{3} \d{1,2} \w{3} \d{4}, \d\d:\d\d\./);
  await follow(page, page.getByRole("link", { name: "Cancel this appointment" }));
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Cancel this appointment?");
  await follow(page, page.getByRole("button", { name: "Yes, cancel it" }));
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Appointment cancelled");
  assert.match(await page.locator("dl.summary").innerText(), /Status\s+Cancelled/);
  assert.equal(await page.getByRole("link", { name: "Cancel this appointment" }).count(), 0);
  await follow(page, page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "My appointments" }));
  assert.equal(await page.locator("ul.cards li").filter({ hasText: booked.when }).count(), 0, "no longer upcoming");
  assert.match(await page.locator("ul.plain li").filter({ hasText: booked.when }).innerText(), /\(cancelled\)$/i);
  assert.equal(await offered(page, booked.slotsUrl, booked.slotHref), 1, "the time is offered again");

  // The link worked once.
  const again = await newPage(browser);
  await visit(again, link, { status: 404 });
  assert.equal(await again.getByRole("heading", { level: 1 }).innerText(), "This invitation is no longer valid");
  await again.context().close();
  await page.context().close();
});

test("a new patient signs up, confirms the address and books", async () => {
  const page = await newPage(browser);
  await signUp(page, { first: "Nora", last: "Quist", email: "nora@example.org", password: PASSWORD });
  const booked = await bookFirstTimeNextWeek(page, "Massage therapy, 60 minutes");
  await follow(page, page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "My appointments" }));
  assert.equal(await page.locator("ul.cards li").filter({ hasText: booked.when }).count(), 1);
  await page.context().close();
});

test("an invitation whose three days have passed says so", async () => {
  const link = await invite(staff, "Dev Patel", "dev@example.com");
  // Three days and a minute later, as the database sees it.
  sql(`UPDATE auth_tokens SET expires_at_ns = (CAST(strftime('%s', 'now') AS INTEGER) - 60) * 1000000000
       WHERE purpose = 'invitation' AND used_at_ns IS NULL AND account_kind = 'portal'
         AND account_id = (SELECT a.id FROM portal_accounts a JOIN patients p ON p.id = a.patient_id
                           WHERE p.email = 'dev@example.com')`);
  const page = await newPage(browser);
  await visit(page, link, { status: 410 });
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "This invitation has expired");
  assert.match(await page.locator("main").innerText(), /ask the clinic to send a new one/);
  assert.equal(await page.getByLabel("New password").count(), 0);
  await page.context().close();
  // A new invitation works again (and the old link stays dead).
  const fresh = await invite(staff, "Dev Patel", "dev@example.com");
  assert.notEqual(fresh, link);
  const retry = await newPage(browser);
  await visit(retry, fresh);
  assert.match(await retry.getByRole("heading", { level: 1 }).innerText(), /: choose your password$/);
  await retry.context().close();
});
