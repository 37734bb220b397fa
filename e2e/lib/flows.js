// Steps more than one journey takes.

import assert from "node:assert/strict";
import { audit, follow, mails, screenshot, visit, waitForMail } from "./harness.js";

/**
 * As signed-in staff: opens the patient's Portal Access page from the patient list and
 * sends an invitation. Returns the link emailed to `email`.
 */
export async function invite(page, fullName, email) {
  const before = mails().length;
  await visit(page, "/admin/patients");
  await page.getByLabel("Find by name or email").fill(email);
  await follow(page, page.getByRole("search").getByRole("button", { name: "Search" }));
  await follow(page, page.getByRole("row").filter({ hasText: email }).getByRole("link"));
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), fullName);
  await follow(page, page.getByRole("link", { name: "Manage portal access" }));
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), `Portal access: ${fullName}`);
  await follow(page, page.getByRole("button", { name: /^Send (a new )?invitation$/ }));
  const account = await page.getByRole("region", { name: "Account" }).innerText();
  assert.match(account, /waiting for the patient to set a password/);
  assert.match(account, /Last invitation sent .+; its link works until .+\./);
  assert.equal(await page.getByRole("button", { name: "Send a new invitation" }).count(), 1);
  const { match } = await waitForMail(email, /(https?:\/\/\S+\/portal\/\S+)/, { after: before });
  return match[1];
}

/**
 * As signed-in front desk or admin: adds a patient on the patients page (a new one
 * for a journey that must not meet another journey's, its address made unique by RUN).
 */
export async function addPatient(page, first, last, email) {
  await visit(page, "/admin/patients");
  await page.getByLabel("First name").fill(first);
  await page.getByLabel("Last name").fill(last);
  await page.getByLabel("Email", { exact: true }).fill(email);
  await follow(page, page.getByRole("button", { name: "Add patient" }));
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), `${first} ${last}`);
}

/** The date `days` days from today, YYYY-MM-DD. */
export function daysFromNow(days) {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * On a service's page of open times: chooses the first day marked open on or after
 * `from` (YYYY-MM-DD), moving to the next month when this one has none. The page's
 * script swaps the calendar and the day's times in place (no page load) and puts the
 * day in the address. Returns the day.
 */
export async function chooseDay(page, from) {
  for (let months = 0; months < 4; months++) {
    const days = await page.locator("a.cal-day.open[data-day]").evaluateAll((links) => links.map((a) => a.dataset.day));
    const day = days.find((d) => d >= from);
    if (day) {
      await page.locator(`a.cal-day[data-day="${day}"]`).click();
      await page.locator(`a.cal-day[data-day="${day}"][aria-current="date"]`).waitFor();
      await page.waitForURL(new RegExp(`day=${day}`));
      await audit(page);
      return day;
    }
    const month = await page.locator("#month-heading").innerText();
    await page.getByRole("link", { name: "Next month" }).click();
    await page.waitForFunction((before) => document.getElementById("month-heading")?.innerText !== before, month);
  }
  throw new Error(`no open day from ${from} in four months`);
}

/**
 * As a signed-in patient: books `service` at the first open time a week or more from
 * now, and checks the booking's ticket. Returns the appointment's `when` and `url`
 * (its page in My appointments), the ticket's address (`ticketUrl`), and the slot's
 * link (`slotHref`) on the page of open times (`slotsUrl`). With `shot`, the page of
 * open times is saved as docs/screenshots/SHOT.png.
 */
export async function bookFirstTimeNextWeek(page, service, { shot = null } = {}) {
  await follow(page, page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "Book" }));
  await follow(page, page.getByRole("link", { name: service }));
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), service);
  // A week ahead, well outside the clinic's cancellation notice.
  await chooseDay(page, daysFromNow(7));
  const slot = page.locator(".day-times a.slot").first();
  const label = (await slot.textContent()).trim();
  const slotHref = await slot.getAttribute("href");
  const slotsUrl = page.url();
  if (shot) {
    await screenshot(page, shot);
  }
  await follow(page, slot);
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Confirm your appointment");
  const summary = await page.locator("dl.summary").innerText();
  assert.match(summary, new RegExp(service.replace(/[()]/g, ".")));
  await follow(page, page.getByRole("button", { name: "Book it" }));
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "You are booked");
  assert.match(await page.locator("main").innerText(), /A confirmation is on its way to your email\./);
  const ticketUrl = page.url();
  await follow(page, page.getByRole("link", { name: "its page in My appointments" }));
  const details = await page.locator("dl.summary").innerText();
  assert.match(details, /Status\s+Booked/);
  const when = /When\s+(.+?)\s+\(/.exec(details)[1];
  return { label, when, url: page.url(), ticketUrl, slotHref, slotsUrl };
}

/** How many times the page of open times at `slotsUrl` offers the slot `slotHref`. */
export async function offered(page, slotsUrl, slotHref) {
  await visit(page, slotsUrl);
  return page.locator(`.day-times a.slot[href="${slotHref}"]`).count();
}

/**
 * Signs a new patient up from the portal's home page, confirms the address with the
 * link emailed, and checks the patient is signed in. `check` runs after each page loads.
 */
export async function signUp(page, { first, last, email, password }, check = async () => {}) {
  await visit(page, "/portal");
  await check();
  await follow(page, page.getByRole("link", { name: "New patient? Create an account" }));
  await check();
  await page.getByLabel("First name").fill(first);
  await page.getByLabel("Last name").fill(last);
  await page.getByLabel("Email (your username)").fill(email);
  await page.getByLabel("Password").fill(password);
  // /static/pow.js fetches a challenge and solves it; the button waits for it.
  await page.getByText("Done: you can create your account.").waitFor({ timeout: 60_000 });
  assert.notEqual(await page.locator('input[name="captcha"]').inputValue(), "");
  const before = mails().length;
  await follow(page, page.getByRole("button", { name: "Create account" }));
  await check();
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Check your email");
  assert.match(await page.locator("main").innerText(), new RegExp(`We sent a message to ${email.replace(/\./g, "\\.")}\\.`));
  const { match } = await waitForMail(email, /(https?:\/\/\S+\/portal\/signup\/\S+)/, { after: before });
  await visit(page, match[1]);
  await check();
  // The link proves the address; the password chosen at sign-up proves the person.
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Confirm your account");
  await page.getByLabel("The password you chose when signing up").fill(password);
  await follow(page, page.getByRole("button", { name: "Confirm and sign in" }));
  await check();
  assert.equal(await page.locator("header .signout span").innerText(), first);
}
