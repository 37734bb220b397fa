// Where, when and how (issue 13) on the demo, whose clinics are in Toronto and
// Vancouver: a patient sees each clinic's open times under its name with its zone, and
// books counselling by video, told the join link on the page and in the email; the
// front desk's book reads one clock and says the other zone's own times.

import assert from "node:assert/strict";
import { before, test } from "node:test";
import {
  DESK, ORG, browserSession, follow, mails, newPage, screenshot, visit, waitForMail,
} from "../lib/harness.js";
import { nextWeekday } from "../lib/dates.js";
import { chooseDay, daysFromNow, invite } from "../lib/flows.js";

const PASSWORD = "lantern-meadow-copper-58";

const session = browserSession({ staff: DESK });
let browser;
let staff;
before(async () => {
  ({ browser, page: staff } = await session.ready);
});

async function openService(page, service) {
  await follow(page, page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "Book" }));
  await follow(page, page.getByRole("link", { name: service }));
}

test("a patient sees both zones labelled and books counselling by video", async () => {
  const link = await invite(staff, "Grace Mills", "grace@example.com");
  const page = await newPage(browser);
  await visit(page, link);
  await page.getByLabel("New password").fill(PASSWORD);
  await page.getByLabel("The same password again").fill(PASSWORD);
  await follow(page, page.getByRole("button", { name: "Save and sign in" }));

  // Physiotherapy is given in both cities: each clinic's times under its name and zone.
  // A day shows each clinic's times under its name and zone; a week of days has both.
  await openService(page, "Physiotherapy follow-up");
  const groups = [];
  let day = daysFromNow(7);
  for (let n = 0; n < 7 && !(groups.some((g) => /Toronto/.test(g)) && groups.some((g) => /Vancouver/.test(g))); n++) {
    day = await chooseDay(page, day);
    groups.push(...(await page.locator(".day-times .clinic-group").allInnerTexts()));
    day = new Date(Date.parse(day) + 86_400_000).toISOString().slice(0, 10);
  }
  assert.ok(groups.some((g) => /Toronto[\s\S]*Times in Toronto time \(E[SD]T\)/.test(g)), groups.join("\n"));
  assert.ok(groups.some((g) => /Vancouver[\s\S]*Times in Vancouver time \(P[SD]T\)/.test(g)), groups.join("\n"));
  await screenshot(page, "portal-two-zones");

  // Counselling may be held by video: choose it, and only video times are listed.
  await openService(page, "Counselling session");
  // The choice applies at once (the page's script submits it).
  await follow(page, page.getByLabel("Video"));
  await chooseDay(page, daysFromNow(7));
  const slot = page.locator(".day-times a.slot").first();
  assert.match(await slot.getAttribute("href"), /mode=video/);
  await follow(page, slot);
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Confirm your appointment");
  const summary = await page.locator("dl.summary").innerText();
  assert.match(summary, /Where\s+Video appointment/);
  assert.match(summary, /· (Vancouver|Toronto) time \([A-Z]{3}, UTC-0\d:00\)/);
  const sent = mails().length;
  await follow(page, page.getByRole("button", { name: "Book it" }));
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "You are booked");
  const details = await page.locator("dl.summary").innerText();
  assert.match(details, /Where\s+Video appointment: join from your own device at this link/);
  assert.match(await page.getByRole("link", { name: "this link" }).getAttribute("href"), /^https:\/\//);
  await screenshot(page, "portal-video-appointment");
  await waitForMail("grace@example.com", /Video appointment, from your own device: join at https:\/\/\S+/, { after: sent });
  await page.context().close();
});

test("the front desk's book reads one clock and labels the other zone's times", async () => {
  const date = nextWeekday(2);
  await visit(staff, `${ORG}/admin/book?view=day&date=${date}&zone=America/Toronto`);
  assert.match(await staff.locator("main").innerText(), /Times in America\/Toronto\./);
  assert.equal(await staff.getByLabel("Times in").inputValue(), "America/Toronto");
  assert.ok(await staff.getByText(/Vancouver time/).count() > 0, "availability in Vancouver says its own time");
  await screenshot(staff, "appointment-book-two-zones");
});
