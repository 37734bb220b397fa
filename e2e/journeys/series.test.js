// Treatment plans: the front desk books a weekly series from the booking form (a
// preview of every occurrence first), then cancels the last two; a new patient books
// the same time weekly for four weeks on a phone, all or none, and gets one email
// listing every appointment.

import assert from "node:assert/strict";
import { before, test } from "node:test";
import {
  BASE, DESK, RUN, assertNoHorizontalOverflow, browserSession, follow, mails, newPage, screenshot, visit, waitForMail,
} from "../lib/harness.js";
import { nextWeekday } from "../lib/dates.js";
import { chooseDay, daysFromNow, signUp } from "../lib/flows.js";

const session = browserSession({ staff: DESK, width: 1280, height: 900 });
let browser;
let staff;
before(async () => {
  ({ browser, page: staff } = await session.ready);
});

test("the desk previews and books a weekly series, then cancels this and following", async () => {
  // A Monday three weeks ahead or later, at 16:00: past the mornings the portal offers
  // and the Monday the desk journey uses.
  const date = nextWeekday(1, { minDays: 21 });
  await visit(staff, `/admin/book?date=${date}`);
  await follow(staff, staff.getByRole("link", { name: /^Book Christine Roy, .*, 16:00$/ }));
  const combo = staff.getByRole("combobox", { name: /Find a patient/ });
  await combo.pressSequentially("Grace", { delay: 30 });
  await staff.getByRole("option", { name: /Grace Mills/ }).click();
  assert.match(await staff.getByLabel("Patient", { exact: true }).locator("option:checked").innerText(), /Grace Mills/);
  await staff.getByLabel("Service", { exact: true }).selectOption({ label: "Physiotherapy follow-up (30 min)" });
  await staff.getByLabel("Repeat", { exact: true }).selectOption({ label: "Every week" });
  await staff.getByLabel("Number of occurrences").fill("4");
  await follow(staff, staff.getByRole("button", { name: "Preview the series" }));

  // Every occurrence, before anything is booked.
  const preview = staff.getByRole("region", { name: /The series: 4 occurrences/ });
  const rows = preview.locator("tbody tr");
  assert.equal(await rows.count(), 4);
  for (let i = 0; i < 4; i += 1) {
    assert.match(await rows.nth(i).innerText(), /16:00 E[SD]T\s+Yes/);
  }
  assert.match(await preview.innerText(), /4 of 4 can be booked as they are/);
  await screenshot(staff, "desk-series-preview", { locator: preview });
  await follow(staff, staff.getByRole("button", { name: "Book the series" }));
  assert.match(staff.url(), /notice=series_booked/);
  assert.match(await staff.locator("main").innerText(), /Series booked: every occurrence is listed below\./);
  const occurrences = staff.locator("ul.series-occurrences li");
  assert.equal(await occurrences.count(), 4);
  assert.equal(await staff.locator("ul.series-occurrences .status-booked").count(), 4);

  // From the third on: cancel this and following.
  await follow(staff, occurrences.nth(2).getByRole("link"));
  await staff.getByLabel("Reason (optional, shown to staff)").last().fill("Plan shortened after the review");
  await follow(staff, staff.getByRole("button", { name: /^Cancel the 2 still to come from this one$/ }));
  assert.equal(await staff.locator("ul.series-occurrences .status-cancelled").count(), 2);
  assert.equal(await staff.locator("ul.series-occurrences .status-booked").count(), 2);
});

test("a new patient books the same time weekly for four weeks, on a phone", async () => {
  const page = await newPage(browser, { width: 375, height: 812, mobile: true });
  const email = `series-${RUN}@example.com`;
  await signUp(page, { first: "Iris", last: "Weekly", email, password: "juniper-harbour-lantern-42" });
  await follow(page, page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "Book" }));
  await follow(page, page.getByRole("link", { name: "Physiotherapy follow-up" }));
  await chooseDay(page, daysFromNow(7));
  const slotsUrl = page.url();
  const times = await page.locator(".day-times a.slot").evaluateAll((links) => links.map((a) => a.getAttribute("href")));
  assert.ok(times.length > 0);

  // The first time of the day whose next three weeks are free too.
  let booked = false;
  for (const href of times.slice(0, 8)) {
    await visit(page, `${BASE}${href}`);
    assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Confirm your appointment");
    const offer = page.getByRole("region", { name: "Book this time weekly" });
    await offer.getByLabel("Book this time weekly for").selectOption({ label: "4 weeks" });
    await follow(page, offer.getByRole("button", { name: "See every date" }));
    const dates = page.locator("ol.series-dates li");
    assert.equal(await dates.count(), 4);
    const all = page.getByRole("button", { name: "Book all 4" });
    if ((await all.count()) === 0) {
      assert.match(await page.locator("main").innerText(), /Not every week is free/);
      continue;
    }
    assert.equal(await dates.filter({ hasText: /: free$/ }).count(), 4);
    await assertNoHorizontalOverflow(page, 375);
    await screenshot(page, "phone-portal-series");
    const before = mails().length;
    await follow(page, all);
    assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Your weekly appointments");
    assert.equal(await page.locator("ol.series-dates li a").count(), 4);
    assert.equal(await page.getByRole("link", { name: "Add all to calendar (.ics)" }).count(), 1);
    const { mail } = await waitForMail(email, /Physiotherapy follow-up/, { after: before });
    assert.match(mail.subject, /4 appointments confirmed: Physiotherapy follow-up/);
    assert.equal((mail.text.match(/^ {2}- /gm) ?? []).length, 4, "the email lists every appointment");
    booked = true;
    break;
  }
  assert.ok(booked, `no time on ${slotsUrl} had four free weeks`);

  // My appointments lists all four.
  await follow(page, page.getByRole("link", { name: "My appointments" }).first());
  assert.ok((await page.locator("main").innerText()).match(/Physiotherapy follow-up/g).length >= 4);
  await page.context().close();
});
