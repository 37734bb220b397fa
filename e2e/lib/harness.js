// What every journey shares: Debian's Chromium driven by playwright-core, axe-core run
// on every page a journey visits, screenshots, and the server's mailbox folder.
//
// e2e/run starts the server and sets E2E_BASE_URL, E2E_MAILBOX and E2E_DB.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, mkdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before } from "node:test";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = path.resolve(HERE, "../../docs/screenshots");

function env(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the journeys with e2e/run`);
  }
  return value;
}

export const BASE = env("E2E_BASE_URL");
export const MAILBOX = env("E2E_MAILBOX");
export const DB_FILE = env("E2E_DB");
export const ORG = `${BASE}/o/demo`;
export const ADMIN = { email: "admin@demo.example", password: "open-slot-demo-admin" };
export const DESK = { email: "desk@demo.example", password: "open-slot-demo-desk" };

/** Debian's Chromium, headless; nothing is downloaded. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.E2E_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

// The pages audited by this journey file (paths with ids as N), counted at exit.
const audited = new Set();
process.on("exit", () => {
  if (audited.size > 0) {
    console.log(`# axe-core audited ${audited.size} distinct pages in ${path.basename(process.argv[1])}`);
  }
});

/**
 * A fresh browser context (its own cookies) and page, 1280 x 800 unless told; `audit`
 * collects its script errors and failed loads.
 */
export async function newPage(browser, { width = 1280, height = 800, mobile = false } = {}) {
  const context = await browser.newContext({
    viewport: { width, height },
    isMobile: mobile,
    hasTouch: mobile,
    deviceScaleFactor: 1,
    reducedMotion: "reduce",
  });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  page.on("pageerror", (error) => {
    page.scriptErrors = (page.scriptErrors || []).concat(String(error));
  });
  // Every style sheet, script and image a page asks for must load.
  page.on("response", (response) => {
    const type = response.request().resourceType();
    if (response.status() >= 400 && ["stylesheet", "script", "image", "font", "fetch", "xhr"].includes(type)) {
      page.failedLoads = (page.failedLoads || []).concat(`${response.status()} ${type} ${response.url()}`);
    }
  });
  page.on("console", (message) => {
    // The content security policy reports what it blocked on the console.
    if (message.type() === "error" && /Content Security Policy/i.test(message.text())) {
      page.scriptErrors = (page.scriptErrors || []).concat(message.text());
    }
  });
  return page;
}

/**
 * Runs axe-core on the page as it is now and fails on any serious or critical
 * violation, printing each with the elements concerned; fails too on a script error,
 * a content security policy refusal, a resource that did not load, or a page wider
 * than the window (a sideways scroll).
 */
export async function audit(page, what = "") {
  const has = await page.evaluate(() => typeof window.axe !== "undefined");
  if (!has) {
    // Through the DevTools protocol: the page's content security policy stays in force.
    await page.evaluate(AXE_SOURCE);
  }
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, {
      resultTypes: ["violations"],
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
    }));
  });
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  audited.add(`${new URL(page.url()).pathname.replace(/\d+/g, "N")} ${what}`);
  if (bad.length > 0) {
    const text = bad
      .map((v) =>
        `  [${v.impact}] ${v.id}: ${v.help}\n` +
        v.nodes.slice(0, 8).map((n) => `      at ${n.target}\n        ${n.summary.replace(/\n/g, "\n        ")}`).join("\n"))
      .join("\n");
    assert.fail(`accessibility violations on ${page.url()}${what ? ` (${what})` : ""}:\n${text}`);
  }
  assert.deepEqual(page.scriptErrors || [], [], `script errors on ${page.url()}`);
  assert.deepEqual(page.failedLoads || [], [], `resources that did not load on ${page.url()}`);
  // No page scrolls sideways, at whatever width the journey looks at it (375 px phones too).
  await assertNoHorizontalOverflow(page, page.viewportSize().width);
}

/**
 * Goes to `url` (relative to the organisation or absolute), expects `status` and
 * audits the page (`audit: false` only where a journey shows on purpose what the app
 * warns against, and audits the page once it is fixed).
 */
export async function visit(page, url, { status = 200, audit: check = true } = {}) {
  const target = url.startsWith("http") ? url : `${ORG}${url}`;
  const response = await page.goto(target);
  assert.equal(response.status(), status, `GET ${target}`);
  if (check) {
    await audit(page);
  }
  return response;
}

/** Clicks something that loads a new page (a link or a submit button), then audits it. */
export async function follow(page, locator, { status = 200, audit: check = true } = {}) {
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: "load" }),
    locator.click(),
  ]);
  assert.ok(response, "the click loaded a page");
  assert.equal(response.status(), status, `after the click: ${page.url()}`);
  if (check) {
    await audit(page);
  }
  return response;
}

/** A screenshot of the viewport (or of `locator`) into docs/screenshots/NAME.png. */
export async function screenshot(page, name, { locator = null, fullPage = false } = {}) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  // The screenshots must not show a moving caret or a focus ring from the last click.
  if (locator) {
    await locator.screenshot({ path: file, animations: "disabled", caret: "hide" });
  } else {
    await page.screenshot({ path: file, fullPage, animations: "disabled", caret: "hide" });
  }
  return file;
}

/**
 * One browser for a journey file, launched before its tests and closed after them,
 * with a first page (signed in as `staff` when given): `session.browser`,
 * `session.page` once `session.ready` has settled.
 */
export function browserSession({ staff = null, ...viewport } = {}) {
  const session = {};
  let started;
  // `ready` settles once the browser is up (and staff signed in): await it in a hook.
  session.ready = new Promise((resolve, reject) => {
    started = { resolve, reject };
  });
  before(async () => {
    try {
      session.browser = await launch();
      session.page = await newPage(session.browser, viewport);
      if (staff) {
        await staffSignIn(session.page, staff);
      }
      started.resolve(session);
    } catch (error) {
      started.reject(error);
      throw error;
    }
  });
  after(async () => {
    await session.browser?.close();
  });
  return session;
}

/** Signs staff in at /o/demo/admin/signin. */
export async function staffSignIn(page, who) {
  await visit(page, "/admin/signin");
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await follow(page, page.getByRole("button", { name: "Sign in" }));
  await assert.doesNotReject(page.getByRole("button", { name: "Sign out" }).waitFor());
}

// The mailbox folder: one .eml file per email (lettre's file transport).

function decodePart(headers, body) {
  const encoding = (/^content-transfer-encoding:\s*(\S+)/im.exec(headers) || [])[1] || "7bit";
  if (/base64/i.test(encoding)) {
    return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  }
  if (/quoted-printable/i.test(encoding)) {
    const bytes = body
      .replace(/=\r?\n/g, "")
      .replace(/=([0-9A-F]{2})/gi, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, "latin1").toString("utf8");
  }
  return body;
}

/** The text/plain body of one raw email (or MIME part), or null when it has none. */
export function plainText(raw) {
  const split = raw.search(/\r?\n\r?\n/);
  const headers = raw.slice(0, split).replace(/\r?\n[ \t]+/g, " ");
  const body = raw.slice(split).replace(/^\r?\n\r?\n/, "");
  const type = ((/^content-type:\s*([^;\s]+)/im.exec(headers) || [])[1] || "text/plain").toLowerCase();
  if (type.startsWith("multipart/")) {
    const boundary = /boundary="?([^";\s]+)"?/i.exec(headers);
    const parts = boundary ? body.split(`--${boundary[1]}`).slice(1) : [];
    for (const part of parts) {
      if (part.startsWith("--")) {
        break;
      }
      const text = plainText(part.replace(/^\r?\n/, ""));
      if (text !== null) {
        return text;
      }
    }
    return null;
  }
  return type === "text/plain" ? decodePart(headers, body) : null;
}

/** Every email written so far, oldest first: {file, to, subject, text}. */
export function mails() {
  return readdirSync(MAILBOX)
    .filter((f) => f.endsWith(".eml"))
    .map((f) => {
      const file = path.join(MAILBOX, f);
      const raw = readFileSync(file, "utf8");
      const head = raw.slice(0, raw.search(/\r?\n\r?\n/)).replace(/\r?\n[ \t]+/g, " ");
      return {
        file,
        mtime: statSync(file).mtimeMs,
        to: (/^to:\s*(.*)$/im.exec(head) || [])[1] || "",
        subject: (/^subject:\s*(.*)$/im.exec(head) || [])[1] || "",
        text: plainText(raw) || "",
      };
    })
    .sort((a, b) => a.mtime - b.mtime);
}

/**
 * Waits for an email to `address` (among those after the first `after` ones) whose text matches
 * `pattern`, and returns the match.
 */
export async function waitForMail(address, pattern, { after = 0, timeout = 15_000 } = {}) {
  const until = Date.now() + timeout;
  for (;;) {
    const found = mails()
      .slice(after)
      .reverse()
      .find((m) => m.to.includes(address) && pattern.test(m.text));
    if (found) {
      return { mail: found, match: pattern.exec(found.text) };
    }
    if (Date.now() > until) {
      const seen = mails().map((m) => `${m.to} | ${m.subject}`).join("\n  ");
      assert.fail(`no email to ${address} matching ${pattern} within ${timeout} ms; mailbox:\n  ${seen}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Runs one SQL statement on the server's SQLite file with the sqlite3 command. */
export function sql(statement) {
  return execFileSync("sqlite3", ["-bail", "-cmd", ".timeout 5000", DB_FILE, statement], { encoding: "utf8" }).trim();
}

/** Asserts the page does not scroll sideways at its current width. */
export async function assertNoHorizontalOverflow(page, width) {
  const { scrollWidth, offenders } = await page.evaluate((w) => {
    const offenders = Array.from(document.querySelectorAll("body *"))
      .filter((el) => el.getBoundingClientRect().right > w + 0.5)
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${el.className ? "." + String(el.className).replace(/\s+/g, ".") : ""}`);
    return { scrollWidth: document.scrollingElement.scrollWidth, offenders };
  }, width);
  const message = `${page.url()} scrolls sideways at ${width} px: scrollWidth ${scrollWidth}; widest: ${offenders.join(", ")}`;
  if (process.env.E2E_LIST_OVERFLOW === "1") {
    // While fixing layouts: list every page that is too wide instead of stopping at the first.
    if (scrollWidth > width) console.log(`# too wide: ${message}`);
    return;
  }
  assert.ok(scrollWidth <= width, message);
}

/** A unique suffix for names made by one run. */
export const RUN = Date.now().toString(36);
