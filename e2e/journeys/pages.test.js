// Every page, on a phone: staff and patients crawl every page their menus and pages link
// to, at 375 px, and each one passes the harness's audit (axe with no serious or critical
// violation, no script error or CSP refusal, every resource loaded, and no sideways
// scroll). One address per page kind: ids become N and only the query's names count, so
// "Later →" links do not walk the calendar for ever.

import assert from "node:assert/strict";
import { test } from "node:test";
import { ADMIN, BASE, audit, browserSession, newPage, visit } from "../lib/harness.js";
import { signUp } from "../lib/flows.js";
import { RUN } from "../lib/harness.js";

const PHONE = { width: 375, height: 812, mobile: true };
const session = browserSession({ staff: ADMIN, ...PHONE });

/** The kind of page an address is: its path with numbers as N and its query's names. */
function kind(url) {
  const u = new URL(url);
  const names = [...new Set([...u.searchParams.keys()])].sort().join("&");
  return `${u.pathname.replace(/\d+/g, "N")}?${names}`;
}

/** Links worth following from the page: same origin, under `prefix`, pages not files. */
async function links(page, prefix) {
  const hrefs = await page.locator("a[href]").evaluateAll((as) => as.map((a) => a.href));
  return hrefs.filter((h) => {
    if (!h.startsWith(`${BASE}${prefix}`)) return false;
    const path = new URL(h).pathname;
    return !/\.(ics|json|png|svg|css|js)$/.test(path) && path !== "/o/demo/logo" && !/signout/.test(path);
  });
}

/** Visits every page reachable from `start` under `prefix`, one per kind; their kinds. */
async function crawl(page, start, prefix, limit = 120) {
  const seen = new Set();
  const queue = [start];
  while (queue.length > 0 && seen.size < limit) {
    const url = queue.shift();
    const k = kind(url);
    if (seen.has(k)) continue;
    seen.add(k);
    const response = await page.goto(url);
    assert.ok(response.status() < 400, `GET ${url}: ${response.status()}`);
    await audit(page, "375 px");
    for (const next of await links(page, prefix)) {
      if (!seen.has(kind(next))) queue.push(next);
    }
  }
  return seen;
}

test("an admin's every page works on a 375 px phone", async () => {
  const { page } = await session.ready;
  const kinds = await crawl(page, `${BASE}/o/demo/admin/setup`, "/o/demo/admin");
  // The menus' pages at least, and the setup pages beneath them.
  for (const expected of ["/o/demo/admin/book?", "/o/demo/admin/patients?", "/o/demo/admin/setup-check?", "/o/demo/admin/audit?", "/o/demo/admin/clinics?", "/o/demo/admin/services?", "/o/demo/admin/settings/logo?"]) {
    assert.ok(kinds.has(expected), `crawled ${expected} (crawled: ${[...kinds].join(" ")})`);
  }
  assert.ok(kinds.size >= 25, `crawled ${kinds.size} kinds of admin page`);
  console.log(`# ${kinds.size} kinds of admin page passed at 375 px`);
});

test("a patient's every portal page works on a 375 px phone", async () => {
  const { browser } = await session.ready;
  const page = await newPage(browser, PHONE);
  // Before signing in.
  const anonymous = await crawl(page, `${BASE}/o/demo/portal`, "/o/demo/portal");
  // Signed in, as a new patient of this run.
  await signUp(page, { first: "Pia", last: "Crawl", email: `pia-${RUN}@example.com`, password: "a long crawl password" });
  const signedIn = await crawl(page, `${BASE}/o/demo/portal`, "/o/demo/portal");
  await visit(page, "/portal/account");
  console.log(`# ${anonymous.size} portal pages before signing in and ${signedIn.size} after passed at 375 px`);
  assert.ok(signedIn.size >= 5, `crawled ${[...signedIn].join(" ")}`);
});
