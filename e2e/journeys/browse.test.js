// Finding a time before having an account (issue 14), on a 375 px phone: a new visitor
// opens a service, browses its month, picks a day and a time, is asked to sign up at
// "Book it", signs up, follows the emailed link, lands back on the chosen time, books
// it, reads the ticket and downloads the calendar file. No page scrolls sideways.

import assert from "node:assert/strict";
import { before, test } from "node:test";
import {
  RUN, assertNoHorizontalOverflow, browserSession, follow, mails, screenshot, visit, waitForMail,
} from "../lib/harness.js";
import { chooseDay, daysFromNow } from "../lib/flows.js";

const WIDTH = 375;
const SERVICE = "Physiotherapy initial assessment";

const session = browserSession({ width: WIDTH, height: 812, mobile: true });
let page;
before(async () => {
  ({ page } = await session.ready);
});

async function fits() {
  await assertNoHorizontalOverflow(page, WIDTH);
}

test("a new visitor browses a month, picks a time, signs up and books it", async () => {
  const email = `browse-${RUN}@example.org`;
  const password = "pebble-orchard-lantern-93";

  // No account yet: the service's month is there, days with times marked.
  await visit(page, "/portal");
  await follow(page, page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "Book" }));
  await fits();
  await follow(page, page.getByRole("link", { name: SERVICE }));
  await fits();
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), SERVICE);
  assert.ok(await page.locator("a.cal-day.open").count() > 0, "open days are marked");
  assert.ok(await page.locator("span.cal-day.closed").count() > 0, "days without times are not links");
  // The page is short: a month and one day, not a list of every time.
  const height = await page.evaluate(() => document.scrollingElement.scrollHeight);
  assert.ok(height < 2600, `the page is ${height} px tall`);
  console.log(`# the service page is ${height} px tall at ${WIDTH} px`);

  // A day a week ahead, then a time: the day's times swap in without a page load.
  const day = await chooseDay(page, daysFromNow(7));
  await fits();
  await page.locator("section.month").evaluate((month) => month.scrollIntoView());
  await screenshot(page, "portal-day-picker");
  const slot = page.locator(".day-times a.slot").first();
  const time = (await slot.textContent()).trim().slice(0, 5);
  const chosen = await slot.getAttribute("href");
  await follow(page, slot);

  // "Book it" needs an account: sign-in first, with a way to sign up that comes back.
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Sign in");
  assert.match(await page.locator("main").innerText(), /To book the time you chose, sign in or create an account/);
  await fits();
  await follow(page, page.getByRole("link", { name: "Create an account" }));
  await fits();
  await page.getByLabel("First name").fill("Noor");
  await page.getByLabel("Last name").fill("Haddad");
  await page.getByLabel("Email (your username)").fill(email);
  await page.getByLabel("Password").fill(password);
  // /static/pow.js solves the CAPTCHA in the page.
  await page.getByText("Done: you can create your account.").waitFor({ timeout: 60_000 });
  const sent = mails().length;
  await follow(page, page.getByRole("button", { name: "Create account" }));
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Check your email");

  // The emailed link carries the chosen time: confirming lands on it.
  const { match } = await waitForMail(email, /(https?:\/\/\S+\/portal\/signup\/\S+)/, { after: sent });
  assert.match(match[1], /\?next=/);
  await visit(page, match[1]);
  await fits();
  await page.getByLabel("The password you chose when signing up").fill(password);
  await follow(page, page.getByRole("button", { name: "Confirm and sign in" }));
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Confirm your appointment");
  assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, chosen);
  await fits();
  const summary = await page.locator("dl.summary").innerText();
  assert.match(summary, new RegExp(time));

  // Booked: the ticket says what, who, when with its zone, where, and how to change it.
  const booked = mails().length;
  await follow(page, page.getByRole("button", { name: "Book it" }));
  await fits();
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "You are booked");
  const ticket = await page.locator("dl.summary").innerText();
  assert.match(ticket, new RegExp(`What\\s+${SERVICE}`));
  assert.match(ticket, /Who\s+\S+/);
  assert.match(ticket, new RegExp(`When\\s+\\w+ \\d+ \\w+ \\d{4}, ${time}\\s+\\w+ time \\([A-Z]{3}, UTC[-+−]\\d\\d:\\d\\d\\)`));
  assert.match(ticket, /Where\s+\S+/);
  assert.match(await page.locator("main").innerText(), /You can change or cancel it online until .+\(24 hours before it starts\)/);
  await screenshot(page, "portal-ticket");
  const mail = await waitForMail(email, /What: {2}Physiotherapy initial assessment/, { after: booked });
  assert.match(mail.mail.text, /Change or cancel: https?:\/\/\S+\/portal\/appointments\/\d+/);

  // "Add to calendar": an iCalendar file of this appointment, at the chosen time.
  const href = await page.getByRole("link", { name: "Add to calendar (.ics)" }).getAttribute("href");
  const response = await page.request.get(new URL(href, page.url()).href);
  assert.equal(response.status(), 200);
  assert.match(response.headers()["content-type"], /^text\/calendar/);
  const ics = await response.text();
  assert.match(ics, new RegExp(`DTSTART;TZID=[A-Za-z_/]+:${day.replace(/-/g, "")}T${time.replace(":", "")}00`));
});
