// The portal on a phone (375 px wide): a new patient signs up, confirms the address,
// books and sees the appointment, and no page scrolls sideways.

import assert from "node:assert/strict";
import { before, test } from "node:test";
import { assertNoHorizontalOverflow, browserSession, follow, screenshot } from "../lib/harness.js";
import { chooseDay, daysFromNow, signUp } from "../lib/flows.js";

const WIDTH = 375;

const session = browserSession({ width: WIDTH, height: 812, mobile: true });
let page;
before(async () => {
  ({ page } = await session.ready);
});

/** Every page of this journey is audited by visit/follow and checked for overflow. */
async function go(step) {
  await step();
  await assertNoHorizontalOverflow(page, WIDTH);
}

test("sign up and book at 375 px, without sideways scrolling", async () => {
  const fits = () => assertNoHorizontalOverflow(page, WIDTH);
  await signUp(page, {
    first: "Pia",
    last: "Lindqvist-Oyelaran",
    email: "pia.lindqvist-oyelaran@example.org",
    password: "harbour-kettle-violet-77",
  }, fits);
  await go(() => follow(page, page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "Book" })));
  await go(() => follow(page, page.getByRole("link", { name: "Physiotherapy initial assessment" })));
  await go(() => chooseDay(page, daysFromNow(7)));
  const slot = page.locator(".day-times a.slot").first();
  const time = (await slot.textContent()).trim();
  await screenshot(page, "phone-portal-booking");
  await go(() => follow(page, slot));
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Confirm your appointment");
  await go(() => follow(page, page.getByRole("button", { name: "Book it" })));
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "You are booked");
  assert.match(await page.locator("dl.summary").innerText(), new RegExp(time.slice(0, 5)));
  await screenshot(page, "phone-portal-confirmation");
  await go(() => follow(page, page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "My appointments" })));
  assert.equal(await page.locator("ul.cards li").count(), 1);
  assert.match(await page.locator("ul.cards li").innerText(), /Physiotherapy initial assessment with .+\s+Booked$/);
});
