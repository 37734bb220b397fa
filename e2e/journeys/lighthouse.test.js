// Lighthouse (npm lighthouse@12.2.3, in Debian's Chromium, mobile profile with its
// simulated slow phone and network) on the portal's main pages, before and after
// signing in: accessibility ≥ 98, best practices ≥ 95, performance ≥ 95 (docs/ux.md).
//
// Performance is simulated from a trace of the page's load, so a busy CI machine can
// dent one run; a page that misses a target is measured again, up to three runs, and
// every run's scores are printed (a run Lighthouse could not trace counts as a miss).
// Accessibility and best practices do not vary.

import assert from "node:assert/strict";
import { test } from "node:test";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import { BASE, RUN, browserSession, newPage } from "../lib/harness.js";
import { signUp } from "../lib/flows.js";

const TARGETS = { accessibility: 98, "best-practices": 95, performance: 95 };
const session = browserSession({ width: 375, height: 812, mobile: true });

async function scores(port, url, cookie) {
  const options = {
    port,
    output: "json",
    logLevel: "error",
    onlyCategories: Object.keys(TARGETS),
    extraHeaders: cookie ? { Cookie: cookie } : undefined,
  };
  const { lhr } = await lighthouse(url, options);
  if (lhr.runtimeError) {
    // Lighthouse could not trace this load (it says to run it again): a missed run.
    console.log(`# lighthouse ${url}: ${lhr.runtimeError.code}`);
    return { accessibility: 0, "best-practices": 0, performance: 0, failing: [lhr.runtimeError.code] };
  }
  const out = {};
  for (const name of Object.keys(TARGETS)) {
    out[name] = Math.round(lhr.categories[name].score * 100);
  }
  const failing = Object.values(lhr.audits)
    .filter((a) => a.score !== null && a.score < 0.9 && a.scoreDisplayMode === "binary")
    .map((a) => a.id);
  return { ...out, failing };
}

function passes(s) {
  return Object.entries(TARGETS).every(([name, min]) => s[name] >= min);
}

test("the portal's main pages meet the Lighthouse targets on a phone", { timeout: 900_000 }, async () => {
  const { browser } = await session.ready;
  // A patient of this run, for the pages behind sign-in.
  const page = await newPage(browser, { width: 375, height: 812, mobile: true });
  await signUp(page, { first: "Lia", last: "Lighthouse", email: `lia-${RUN}@example.com`, password: "a long lighthouse password" });
  const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
  await page.goto(`${BASE}/o/demo/portal/book`);
  const service = await page.locator("main a[href*='/portal/book/']").first().getAttribute("href");
  assert.ok(service, "the Book page links a service");

  const pages = [
    ["home", "/o/demo/portal", null],
    ["sign in", "/o/demo/portal/signin", null],
    ["sign up", "/o/demo/portal/signup", null],
    ["services", "/o/demo/portal/book", null],
    ["open times", service, cookie],
    ["my appointments", "/o/demo/portal/appointments", cookie],
  ];
  const chrome = await chromeLauncher.launch({
    chromePath: process.env.E2E_CHROMIUM || "/usr/bin/chromium",
    chromeFlags: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  const report = [];
  try {
    for (const [name, path, withCookie] of pages) {
      let runs = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        const s = await scores(chrome.port, `${BASE}${path}`, withCookie);
        runs.push(s);
        if (passes(s)) break;
      }
      const best = runs.find(passes) || runs[runs.length - 1];
      report.push({ name, path, runs, best });
      console.log(`# lighthouse ${name.padEnd(16)} ${runs.map((r) => `${r.accessibility}/${r["best-practices"]}/${r.performance}`).join(", ")} (accessibility/best practices/performance)`);
    }
  } finally {
    await chrome.kill();
  }
  for (const { name, best } of report) {
    for (const [category, min] of Object.entries(TARGETS)) {
      assert.ok(best[category] >= min, `${name}: ${category} ${best[category]} < ${min}; failing audits: ${best.failing.join(", ")}`);
    }
  }
});
