// End-to-end: log in, open the "Close all" modal, confirm, and watch the
// basket go to `closing` (a stand-in daemon in the Rust test runs the
// command). Screenshots at laptop and phone widths go to SHOT_DIR.
//
// usage: node close_all.mjs <base-url> <password> <shot-dir>
import { chromium } from "playwright-core";

const [base, password, shots] = process.argv.slice(2);
const exe = process.env.CHROMIUM || "/usr/bin/chromium";

function fail(msg) {
  console.error("E2E FAILED: " + msg);
  process.exit(1);
}

const browser = await chromium.launch({
  executablePath: exe,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"],
});
const errors = [];
try {
  for (const [name, viewport] of [["phone", { width: 390, height: 844 }], ["laptop", { width: 1366, height: 900 }]]) {
    const ctx = await browser.newContext({ viewport });
    const page = await ctx.newPage();
    page.on("console", (m) => { if (m.type() === "error") errors.push(`${name}: ${m.text()}`); });
    page.on("pageerror", (e) => errors.push(`${name}: ${e.message}`));
    await page.goto(base + "/");
    if (!page.url().endsWith("/login")) fail("not sent to the login page: " + page.url());
    await page.fill("input[name=username]", "admin");
    await page.fill("input[name=password]", password);
    await Promise.all([page.waitForURL(base + "/"), page.click("button[type=submit]")]);
    await page.waitForSelector("#live");
    // Nothing overflows the screen sideways (tables scroll in their boxes).
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    if (wide > viewport.width) fail(`the dashboard is ${wide}px wide on a ${viewport.width}px screen`);
    await page.screenshot({ path: `${shots}/${name}-dashboard.png`, fullPage: true });
    // Viewport-sized views of each section, as a person scrolls through them.
    for (const sel of ["#status-bar", "article", "#open-orders", "figure", "#events"]) {
      await page.locator(sel).first().scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${shots}/${name}-view-${sel.replace(/[^a-z-]/g, "")}.png` });
    }
    await page.evaluate(() => window.scrollTo(0, 0));
    // The modal opens in place (the refresh of the live part must not close it).
    await page.click("header a.js-close");
    await page.waitForSelector("#close-modal[open] #confirm-close");
    const modal = await page.textContent("#close-modal");
    for (const want of ["Close all positions", "ALL", "entire position", "cannot be undone"]) {
      if (!modal.includes(want)) fail(`modal lacks "${want}"`);
    }
    await page.screenshot({ path: `${shots}/${name}-modal.png` });
    if (name === "phone") {
      // Cancel closes it without sending anything.
      await page.click("#close-modal a.js-cancel");
      await page.waitForSelector("#close-modal:not([open])", { state: "attached" });
      await ctx.close();
      continue;
    }
    // The live part refreshes every 10 s: the modal stays open meanwhile.
    await page.waitForTimeout(11000);
    if (!(await page.isVisible("#close-modal[open] #confirm-close"))) fail("the modal closed on refresh");
    await Promise.all([page.waitForURL(/\/commands\?key=/), page.click("#confirm-close")]);
    await page.screenshot({ path: `${shots}/${name}-progress.png`, fullPage: true });
    // Wait for the stand-in daemon: the page updates itself.
    await page.waitForSelector('[data-finished="1"]', { timeout: 30000 });
    const status = await page.textContent("[data-basket-status]");
    if (!status || !status.includes("closing")) fail("basket status is " + status);
    await page.screenshot({ path: `${shots}/${name}-done.png`, fullPage: true });
    await page.goto(base + "/");
    await page.screenshot({ path: `${shots}/${name}-after.png`, fullPage: true });
    await ctx.close();
  }
} finally {
  await browser.close();
}
if (errors.length) fail("browser errors: " + errors.join(" | "));
console.log("E2E OK");
