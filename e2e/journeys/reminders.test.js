// Reminders (issue 17): the admin turns reminders on, Hugo Blanc books a week ahead,
// the reminder arrives with its links, Hugo follows the confirm link from the email
// without signing in (the page shows the appointment and a button; nothing changes
// until it is pressed), and the appointment's page in the book shows it confirmed.
// The scheduler looks every minute, so the reminder may take up to a minute to come.

import assert from "node:assert/strict";
import { before, test } from "node:test";
import {
  ADMIN, browserSession, follow, mails, newPage, visit, waitForMail,
} from "../lib/harness.js";
import { bookFirstTimeNextWeek, invite } from "../lib/flows.js";

const PASSWORD = "juniper-harbour-violet-83";

const session = browserSession({ staff: ADMIN });
let browser;
let staff;
before(async () => {
  ({ browser, page: staff } = await session.ready);
});

async function setOffsets(text) {
  await visit(staff, "/admin/reminders");
  await staff.getByLabel("Send reminders before each appointment").fill(text);
  await follow(staff, staff.getByRole("button", { name: "Save" }));
  assert.match(await staff.locator("main").innerText(), /Reminder settings saved\./);
}

test("a patient confirms from the reminder's link and the book shows it", { timeout: 180_000 }, async () => {
  // Fourteen days ahead: a booking a week ahead is due for its reminder at once.
  await setOffsets("14d");
  try {
    await confirmFromTheReminder();
  } finally {
    // The other journeys' bookings get no reminders.
    await setOffsets("");
  }
});

async function confirmFromTheReminder() {
  const link = await invite(staff, "Hugo Blanc", "hugo@example.com");
  const patient = await newPage(browser, { width: 375, height: 812, mobile: true });
  await visit(patient, link);
  await patient.getByLabel("New password").fill(PASSWORD);
  await patient.getByLabel("The same password again").fill(PASSWORD);
  await follow(patient, patient.getByRole("button", { name: "Save and sign in" }));
  const before = mails().length;
  const booked = await bookFirstTimeNextWeek(patient, "Physiotherapy follow-up");
  const id = /\/appointments\/(\d+)/.exec(booked.url)[1];
  await patient.context().close();

  // The reminder of this appointment (the desk's journey may have booked Hugo too).
  const { mail, match } = await waitForMail(
    "hugo@example.com",
    new RegExp(`Confirm: (\\S+)[\\s\\S]*/appointments/${id}/reschedule`),
    { after: before, timeout: 90_000 },
  );
  assert.match(mail.subject, /^Reminder: Physiotherapy follow-up/);
  assert.match(mail.text, /Cancel:\s+\S+\/reminder\//);
  assert.match(mail.text, /\/appointments\/\d+\/reschedule/);

  // The link, opened as an email reader would: no session.
  const reader = await newPage(browser, { width: 375, height: 812, mobile: true });
  await visit(reader, match[1]);
  assert.equal(await reader.getByRole("heading", { level: 1 }).innerText(), "Confirm your appointment");
  assert.match(await reader.locator("dl.reminder-ticket").innerText(), /Physiotherapy follow-up/);
  await follow(reader, reader.getByRole("button", { name: "Yes, I will come" }));
  assert.equal(
    await reader.getByRole("heading", { level: 1 }).innerText(),
    "Thank you: your appointment is confirmed",
  );
  // Used once: the same link again says so.
  await visit(reader, match[1], { status: 409 });
  assert.equal(await reader.getByRole("heading", { level: 1 }).innerText(), "This link was already used");
  await reader.context().close();

  // The desk sees it confirmed, on the appointment's page and in the book.
  await visit(staff, `/admin/book/appointments/${id}`);
  assert.match(await staff.locator("main").innerText(), /Confirmed\s+✓?\s*Confirmed/);
  await follow(staff, staff.locator("#main").getByRole("link", { name: "Appointment book" }));
  assert.match(await staff.locator("main").innerText(), /confirmed/);
}
