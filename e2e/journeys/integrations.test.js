// Other systems (issue 18): an admin opens API keys from the setup page, makes a key
// that may only read the schedule, copies its token (shown once), and another system
// reads the clinics with it; the API reference at /api/docs loads under the strict
// content security policy; the admin revokes the key and it stops at once. Then a
// webhook endpoint is added (its secret shown once) and a practitioner's calendar
// feed turned on, and the feed's address serves the calendar.

import assert from "node:assert/strict";
import { before, test } from "node:test";
import { ADMIN, BASE, browserSession, follow, visit } from "../lib/harness.js";

const session = browserSession({ staff: ADMIN });
let page;
let token;
before(async () => {
  ({ page } = await session.ready);
});

const clinics = (key) =>
  fetch(`${BASE}/api/v1/orgs/demo/clinics`, { headers: { Authorization: `Bearer ${key}` } });

test("the setup page leads to API keys, where a key is made with one scope", async () => {
  await visit(page, "/admin/setup");
  await follow(page, page.getByRole("link", { name: "API keys", exact: true }));
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "API keys");
  await page.getByRole("textbox", { name: /^Name/ }).fill(`Website widget ${Date.now()}`);
  await page.getByRole("checkbox", { name: /schedule:read/ }).check();
  await follow(page, page.getByRole("button", { name: "Make key" }), { status: 201 });
  assert.match(await page.getByRole("status").innerText(), /Copy it now/);
  token = await page.getByLabel("The key", { exact: true }).inputValue();
  assert.match(token, /^osk_[A-Za-z0-9_-]{43}$/);
  // The Copy button puts it on the clipboard, and says so.
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.getByRole("button", { name: "Copy the key" }).click();
  await page.getByRole("button", { name: "Copy the key" }).filter({ hasText: "Copied" }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
});

test("another system reads the clinics with the key, and may not change them", async () => {
  const read = await clinics(token);
  assert.equal(read.status, 200);
  assert.ok((await read.json()).length > 0);
  const write = await fetch(`${BASE}/api/v1/orgs/demo/clinics`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "Annex", timezone: "America/Toronto" }),
  });
  assert.equal(write.status, 403);
});

test("the API reference loads from this server under the strict policy", async () => {
  await visit(page, `${BASE}/api/docs/`, { audit: false });
  await page.getByRole("heading", { name: /Openslot API/ }).waitFor();
  assert.ok(await page.getByRole("button", { name: /Authorize/ }).count());
  assert.deepEqual(page.scriptErrors || [], [], "no script error and nothing blocked");
  assert.deepEqual(page.failedLoads || [], [], "every file loads");
});

test("revoked, the key stops at once", async () => {
  await visit(page, "/admin/api-keys");
  const row = page.getByRole("row").filter({ hasText: token.slice(0, 12) });
  await follow(page, row.getByRole("button", { name: /^Revoke/ }));
  assert.match(await page.getByRole("row").filter({ hasText: token.slice(0, 12) }).innerText(), /Revoked/);
  assert.equal((await clinics(token)).status, 401);
});

test("a webhook endpoint is added, its secret shown once with a Copy button", async () => {
  await visit(page, "/admin/setup");
  await follow(page, page.getByRole("link", { name: "Webhooks", exact: true }));
  await page.getByRole("textbox", { name: /^Name/ }).fill(`EHR ${Date.now()}`);
  await page.getByRole("textbox", { name: /^Address/ }).fill("http://127.0.0.1:9/hooks");
  await page.getByRole("checkbox", { name: "appointment.booked" }).check();
  await follow(page, page.getByRole("button", { name: "Add endpoint" }));
  const secret = await page.getByLabel("Signing secret", { exact: true }).inputValue();
  assert.match(secret, /^whsec_/);
  assert.ok(await page.getByRole("button", { name: "Copy the secret" }).count());
});

test("a practitioner's calendar feed is turned on, its address shown once", async () => {
  await visit(page, "/admin/practitioners");
  await follow(page, page.getByRole("link", { name: "Christine Roy" }).first());
  await follow(page, page.getByRole("link", { name: "Calendar feed" }));
  await follow(page, page.getByRole("button", { name: "Turn the feed on" }));
  const address = await page.locator("#https-address").inputValue();
  assert.match(address, /\/calendar\/.+\.ics$/);
  const feed = await fetch(address);
  assert.equal(feed.status, 200);
  assert.match(await feed.text(), /BEGIN:VCALENDAR/);
});
