// The emails' wording (issue 17): an admin opens Emails to patients from the setup page,
// rewords the cancellation email with placeholders, previews it for a sample appointment
// without saving (a wrong placeholder is named under its field), saves it, and goes back
// to the default, so the journeys after this one read the default wording. Then the
// admin asks, on Your account, to be emailed of patients' changes in the portal, and
// turns it off again.

import assert from "node:assert/strict";
import { before, test } from "node:test";
import { ADMIN, browserSession, follow, visit } from "../lib/harness.js";

const session = browserSession({ staff: ADMIN });
let page;
before(async () => {
  ({ page } = await session.ready);
});

test("the setup page leads to the emails, each with its default wording", async () => {
  await visit(page, "/admin/setup");
  await follow(page, page.getByRole("link", { name: "Emails to patients" }));
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Emails to patients");
  const row = page.getByRole("row").filter({ hasText: "Appointment cancelled" });
  assert.match(await row.innerText(), /Default/);
});

test("a wrong placeholder is named under its field, and nothing is saved", async () => {
  await follow(page, page.getByRole("link", { name: "Appointment cancelled" }));
  await page.getByLabel("Subject").fill("Cancelled: {servce}");
  await follow(page, page.getByRole("button", { name: "Preview without saving" }), { status: 422 });
  assert.match(await page.locator("#subject-error").innerText(), /\{servce\} is not a placeholder/);
  assert.equal(await page.getByLabel("Subject").inputValue(), "Cancelled: {servce}", "what was typed is kept");
});

test("the preview fills the placeholders in for a sample appointment, without saving", async () => {
  await page.getByLabel("Subject").fill("{first_name}, your {service} is cancelled");
  await page.getByLabel("Intro paragraph").fill("We are sorry: {practitioner} cannot see you on {when}.");
  await follow(page, page.getByRole("button", { name: "Preview without saving" }));
  const preview = page.getByRole("region", { name: /Preview \(not saved\)/ });
  assert.match(await preview.innerText(), /Subject: Sam, your .+ is cancelled/);
  assert.match(await preview.innerText(), /We are sorry: .+ cannot see you on \w{3} \d+ \w{3} \d{4}, \d\d:\d\d/);
  // The HTML part shows the appointment's facts as a table.
  assert.ok(await preview.locator(".email-body th", { hasText: "Where" }).count());
  await visit(page, "/admin/settings/emails");
  assert.match(await page.getByRole("row").filter({ hasText: "Appointment cancelled" }).innerText(), /Default/);
});

test("saved, the list says so; back to the default, it does not", async () => {
  await follow(page, page.getByRole("link", { name: "Appointment cancelled" }));
  await page.getByLabel("Subject").fill("{first_name}, your {service} is cancelled");
  await follow(page, page.getByRole("button", { name: "Save", exact: true }));
  assert.equal(await page.getByRole("status").innerText(), "Saved.");
  const row = page.getByRole("row").filter({ hasText: "Appointment cancelled" });
  assert.match(await row.innerText(), /Your own: “\{first_name\}, your \{service\} is cancelled”/);
  await follow(page, page.getByRole("link", { name: "Appointment cancelled" }));
  await follow(page, page.getByRole("button", { name: "Go back to the default" }));
  assert.match(await page.getByRole("row").filter({ hasText: "Appointment cancelled" }).innerText(), /Default/);
});

test("on Your account, staff ask to be told of patients' changes in the portal", async () => {
  await follow(page, page.locator('header a[href$="/admin/account"]'));
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Your account");
  const box = page.getByLabel(/Email me about each booking, move and cancellation/);
  assert.equal(await box.isChecked(), false);
  await box.check();
  await follow(page, page.getByRole("button", { name: "Save" }));
  assert.equal(await page.getByLabel(/Email me about each booking/).isChecked(), true);
  await page.getByLabel(/Email me about each booking/).uncheck();
  await follow(page, page.getByRole("button", { name: "Save" }));
  assert.equal(await page.getByLabel(/Email me about each booking/).isChecked(), false);
});
