// The waitlist (issue 17): Iris Wait (a patient of its own) joins the waitlist for the exact time Emma Roux
// has booked; Emma cancels; the server's matcher holds the freed time and emails Iris an
// offer; Iris follows the link from the email, accepts, and sees the appointment in
// the portal.

import assert from "node:assert/strict";
import { before, test } from "node:test";
import { DESK, RUN, browserSession, follow, mails, newPage, sql, visit, waitForMail } from "../lib/harness.js";
import { addPatient, bookFirstTimeNextWeek, invite } from "../lib/flows.js";

const PASSWORD = "marigold-canyon-ferry-83";

const session = browserSession({ staff: DESK });
let browser;
let staff;
before(async () => {
  ({ browser, page: staff } = await session.ready);
});

/** Opens the invitation link and sets the password: the patient is signed in. */
async function signUpFrom(link) {
  const page = await newPage(browser);
  await visit(page, link);
  await page.getByLabel("New password").fill(PASSWORD);
  await page.getByLabel("The same password again").fill(PASSWORD);
  await follow(page, page.getByRole("button", { name: "Save and sign in" }));
  return page;
}

/** `HH:MM` of a clinic-local time plus `minutes`. */
function later(hhmm, minutes) {
  const [h, m] = hhmm.split(":").map(Number);
  const total = h * 60 + m + minutes;
  return `${String(Math.floor(total / 60)).padStart(2, "0")}:${String(total % 60).padStart(2, "0")}`;
}

test("a patient on the waitlist is offered a cancelled time by email and takes it", async () => {
  const emma = await signUpFrom(await invite(staff, "Emma Roux", "emma@example.com"));
  // A patient of this journey's own: the demo's are invited by other journeys too.
  const waiting = `iris.${RUN}@example.com`;
  await addPatient(staff, "Iris", "Wait", waiting);
  const hugo = await signUpFrom(await invite(staff, "Iris Wait", waiting));

  // Emma books; her time, practitioner and clinic zone, as the server keeps them.
  const booked = await bookFirstTimeNextWeek(emma, "Physiotherapy follow-up");
  const id = /\/appointments\/(\d+)/.exec(booked.url)[1];
  const [practitioner, startNs, zone] = sql(
    `SELECT a.practitioner_id, a.start_ns, c.timezone FROM appointments a JOIN clinics c ON c.id = a.clinic_id WHERE a.id = ${id}`,
  ).split("|");
  const start = new Date(Number(BigInt(startNs) / 1_000_000n));
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).formatToParts(start).map((p) => [p.type, p.value]),
  );
  const day = `${parts.year}-${parts.month}-${parts.day}`;
  const time = `${parts.hour}:${parts.minute}`;

  // Iris finds that time taken and joins the waitlist from the booking page.
  await follow(hugo, hugo.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "Book" }));
  await follow(hugo, hugo.getByRole("link", { name: "Physiotherapy follow-up" }));
  await follow(hugo, hugo.getByRole("link", { name: "Join the waitlist" }));
  assert.equal(await hugo.getByRole("heading", { level: 1 }).innerText(), "Waitlist");
  await hugo.getByLabel("Service").selectOption({ label: "Physiotherapy follow-up" });
  await hugo.getByLabel("Practitioner").selectOption(practitioner);
  await hugo.getByLabel("From date").fill(day);
  await hugo.getByLabel("To date").fill(day);
  await hugo.getByLabel("Not before").fill(time);
  await hugo.getByLabel("Starting before").fill(later(time, 1));
  await follow(hugo, hugo.getByRole("button", { name: "Join the waitlist" }));
  assert.match(await hugo.locator("main").innerText(), /You are on the waitlist\./);
  assert.match(await hugo.locator("ul.waitlist-entries").innerText(), /Physiotherapy follow-up.+Waiting/s);

  // Emma cancels; the freed time is offered to Iris by email.
  const before = mails().length;
  await visit(emma, new URL(booked.url).pathname.replace(/^\/o\/[^/]+/, ""));
  await follow(emma, emma.getByRole("link", { name: "Cancel this appointment" }));
  await follow(emma, emma.getByRole("button", { name: "Yes, cancel it" }));
  assert.equal(await emma.getByRole("heading", { level: 1 }).innerText(), "Appointment cancelled");
  const { match } = await waitForMail(waiting, /(https?:\/\/\S+\/portal\/offers\/\S+)/, {
    after: before,
    timeout: 45_000,
  });

  // The link shows the offer (opening it changes nothing) and a button that takes it.
  await visit(hugo, match[1]);
  assert.equal(await hugo.getByRole("heading", { level: 1 }).innerText(), "A time has come free");
  assert.match(await hugo.locator("dl.summary").innerText(), /Physiotherapy follow-up/);
  await follow(hugo, hugo.getByRole("button", { name: "Accept this time" }));
  assert.equal(await hugo.getByRole("heading", { level: 1 }).innerText(), "This time is yours");
  await follow(hugo, hugo.getByRole("link", { name: "See it in My appointments" }));
  const details = await hugo.locator("dl.summary").innerText();
  assert.match(details, /Status\s+Booked/);
  assert.match(details, new RegExp(booked.when.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  await waitForMail(waiting, /Your appointment is booked\./, { after: before });
  // The desk's waitlist page: Iris's entry is booked, so nobody waits for that day.
  await visit(staff, `/admin/waitlist?date=${day}`);
  assert.equal(await staff.getByRole("heading", { level: 1 }).innerText(), "Waitlist");
  await emma.context().close();
  await hugo.context().close();
});
