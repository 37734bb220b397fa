// An admin sets up a room (issue 16): adds it under Rooms & equipment, gives it
// morning-only availability on weekdays, makes a new service need it, and finds both in
// their lists. Server-rendered forms only: the block rows and "Add another need" work
// without script. The service is a new one, so the demo's services behave as before
// for the journeys after this one.

import assert from "node:assert/strict";
import { before, test } from "node:test";
import { ADMIN, RUN, browserSession, follow, visit } from "../lib/harness.js";

const ROOM = `Room ${RUN}`;
const SERVICE = `Room service ${RUN}`;

const session = browserSession({ staff: ADMIN });
let page;
before(async () => {
  ({ page } = await session.ready);
});

test("the setup page leads to rooms and equipment", async () => {
  await visit(page, "/admin/setup");
  await follow(page, page.getByRole("link", { name: "Rooms & equipment" }));
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Rooms & equipment");
  // The demo's own rooms are listed with their clinic and capacity.
  const machine = page.getByRole("row").filter({ hasText: "Shockwave machine" });
  assert.match(await machine.innerText(), /Equipment\s+Toronto Downtown\s+1/);
});

test("a capacity out of range is shown next to its field, and nothing is saved", async () => {
  const form = page.locator('form[action$="/admin/resources"]');
  await form.evaluate((f) => {
    f.noValidate = true;
  });
  await page.getByLabel("Name", { exact: true }).fill(ROOM);
  await page.getByLabel("Clinic").selectOption({ label: "Toronto Downtown" });
  await page.getByLabel("Capacity").fill("0");
  await follow(page, page.getByRole("button", { name: "Add room or equipment" }), { status: 422 });
  assert.match(await page.locator("#capacity-error").innerText(), /from 1 to 10000/);
  assert.equal(await page.getByLabel("Name", { exact: true }).inputValue(), ROOM, "what was typed is kept");
  assert.equal(await page.getByRole("row").filter({ hasText: ROOM }).count(), 0);
});

test("an admin adds a room available only by its records", async () => {
  await page.getByLabel("Capacity").fill("1");
  await page.getByLabel(/Always available/).uncheck();
  await follow(page, page.getByRole("button", { name: "Add room or equipment" }));
  const row = page.getByRole("row").filter({ hasText: ROOM });
  assert.match(await row.innerText(), /Room\s+Toronto Downtown\s+1\s+Never: no availability record yet/);
});

test("the room is available on weekday mornings only", async () => {
  await follow(page, page.getByRole("link", { name: ROOM }));
  await page.getByLabel("First date").fill("2026-01-01");
  const first = page.getByRole("group", { name: "Block 1" });
  for (const day of ["Mon", "Tue", "Wed", "Thu", "Fri"]) {
    await first.getByRole("checkbox", { name: day }).check();
  }
  await page.getByLabel("Block 1 from").fill("08:00");
  await page.getByLabel("Block 1 to").fill("12:00");
  await follow(page, page.getByRole("button", { name: "Add record" }));
  assert.match(await page.locator("main").innerText(), /Mon Tue Wed Thu Fri 08:00–12:00/);
  await visit(page, "/admin/resources");
  const row = page.getByRole("row").filter({ hasText: ROOM });
  assert.match(await row.innerText(), /Today's record: Mon Tue Wed Thu Fri 08:00–12:00/);
});

test("a new service needs the room", async () => {
  await visit(page, "/admin/services");
  await page.getByLabel("Name", { exact: true }).fill(SERVICE);
  await page.getByLabel("Service duration (minutes)").fill("30");
  // One more need row, without script and without saving anything.
  await follow(page, page.getByRole("button", { name: "Add another need" }));
  assert.equal(await page.getByRole("group", { name: "Need 2: one of" }).count(), 1);
  assert.equal(await page.getByLabel("Name", { exact: true }).inputValue(), SERVICE, "what was typed is kept");
  await page.getByRole("group", { name: "Need 1: one of" }).getByRole("checkbox", { name: ROOM }).check();
  await follow(page, page.getByRole("button", { name: "Add product or service" }));
  const row = page.getByRole("row").filter({ hasText: SERVICE });
  assert.match(await row.innerText(), new RegExp(`${ROOM}$`));
});
