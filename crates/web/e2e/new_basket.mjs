// End-to-end: the "New basket" form with the real worker behind it (run by
// crates/web/tests/e2e.rs). Laptop: the live preview appears (rules assumed:
// no basket has traded the symbol), a refused config shows its error next
// to the field (as typed, then after a submit), a budget above the balance
// comes back failed with the daemon's reason, a valid basket is created and
// opens from the progress page, and once paused its config is edited from
// its page. Phone (390 px): the form, the preview,
// the dashboard, the command list and the basket page do not overflow the
// screen sideways. Screenshots go to SHOT_DIR.
//
// usage: node new_basket.mjs <base-url> <password> <shot-dir>
import { chromium } from "playwright-core";

const [base, password, shots] = process.argv.slice(2);
const exe = process.env.CHROMIUM || "/usr/bin/chromium";

const errors = [];

function fail(msg) {
  console.error("E2E FAILED: " + msg + (errors.length ? " | browser errors: " + errors.join(" | ") : ""));
  process.exit(1);
}

async function login(page) {
  await page.goto(base + "/");
  await page.fill("input[name=username]", "admin");
  await page.fill("input[name=password]", password);
  await Promise.all([page.waitForURL(base + "/"), page.click("button[type=submit]")]);
}

async function errorNextTo(page, field) {
  return (await page.textContent(`[data-error-for="${field}"]`)) || "";
}

// Locators wait without evaluating strings in the page (its CSP forbids
// eval, which page.waitForFunction needs).
async function waitError(page, field, want) {
  await page.locator(`[data-error-for="${field}"]`, { hasText: want }).waitFor({ timeout: 10000 })
    .catch(async () => fail(`no "${want}" next to ${field}: "${await errorNextTo(page, field)}"`));
}

async function waitPreview(page, want) {
  await page.locator("#preview:not([aria-busy])", { hasText: want }).waitFor({ timeout: 10000 })
    .catch(async () => fail(`preview lacks "${want}": ${await page.textContent("#preview")}`));
}

async function waitValue(page, selector, prefix) {
  for (let i = 0; i < 100; i++) {
    if ((await page.inputValue(selector)).startsWith(prefix)) return;
    await page.waitForTimeout(100);
  }
  fail(`${selector} is "${await page.inputValue(selector)}", not "${prefix}…"`);
}

// The page's width against the phone's (not window.innerWidth: a mobile
// browser widens its layout viewport to a page that overflows).
async function noSidewaysScroll(page, what) {
  const sw = await page.evaluate(() => document.documentElement.scrollWidth);
  if (sw > PHONE.width) fail(`${what} is ${sw}px wide on a ${PHONE.width}px screen`);
}

const PHONE = { width: 390, height: 844 };

async function waitFinished(page) {
  await page.waitForSelector('[data-finished="1"]', { timeout: 30000 })
    .catch(async () => fail("the daemon did not answer: " + (await page.textContent("#cmds"))));
}

const browser = await chromium.launch({
  executablePath: exe,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"],
});
try {
  // ---- laptop: the whole flow
  {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await ctx.newPage();
    page.on("pageerror", (e) => errors.push(`laptop: ${e.message}`));
    page.on("console", (m) => { if (m.type() === "error") console.error(`laptop console: ${m.text()}`); });
    await login(page);
    await Promise.all([page.waitForURL(base + "/baskets/new"), page.click("nav a[href='/baskets/new']")]);
    // No price is stored for SOLUSDC yet: the anchor is asked for.
    if ((await page.inputValue("input[name=symbol]")) !== "SOLUSDC") fail("symbol not prefilled");
    await page.fill("input[name=anchor]", "150");
    await waitPreview(page, "Preview: SOLUSDC at 150");
    const note = await page.textContent("#rules-note");
    if (!note.includes("ASSUMED")) fail("the rules are not said to be assumed: " + note);
    if ((await page.locator("#preview-ladder tbody tr[data-level]").count()) !== 6) fail("not 6 levels");
    if ((await page.locator("#preview-tps tbody tr").count()) !== 6) fail("not 6 take-profit rows");
    await page.screenshot({ path: `${shots}/nb-laptop-new-basket.png`, fullPage: true });

    // A refused config: the error appears next to its field as it is typed…
    await page.fill("input[name=tp_min_pct]", "0.001");
    await waitError(page, "tp_min_pct", "2 * fee_rate");
    await page.locator("input[name=tp_min_pct]").scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${shots}/nb-laptop-refused-live.png` });
    // …and after a submit, from the server, with nothing written.
    await Promise.all([page.waitForLoadState("load"), page.click("#submit-basket")]);
    await page.waitForSelector("#basket-form");
    await waitError(page, "tp_min_pct", "tp_min_pct: must be >= 2 * fee_rate");
    await page.locator("input[name=tp_min_pct]").scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${shots}/nb-laptop-refused-submitted.png` });

    // A budget the daemon refuses: the page shows its reason.
    await page.fill("input[name=tp_min_pct]", "0.003");
    await page.fill("input[name=max_grid_capital_quote]", "50000");
    await waitPreview(page, "50000.00");
    await Promise.all([page.waitForURL(/\/commands\?key=/), page.click("#submit-basket")]);
    await waitFinished(page);
    const refused = await page.textContent("#cmds");
    if (!refused.includes("failed") || !refused.includes("above the free balance")) fail("not refused: " + refused);
    await page.screenshot({ path: `${shots}/nb-laptop-daemon-refused.png`, fullPage: true });

    // A valid basket: heavier deeper, k = 3.
    await page.goto(base + "/baskets/new");
    await page.fill("input[name=anchor]", "150");
    await page.selectOption("select[name=preset]", "deeper");
    await waitValue(page, "textarea[name=alloc_weights]", "0.0476");
    await page.fill("input[name=k_next]", "3");
    await waitPreview(page, "Preview: SOLUSDC at 150");
    await page.screenshot({ path: `${shots}/nb-laptop-deeper.png`, fullPage: true });
    await Promise.all([page.waitForURL(/\/commands\?key=/), page.click("#submit-basket")]);
    await page.screenshot({ path: `${shots}/nb-laptop-pending.png`, fullPage: true });
    await waitFinished(page);
    const done = await page.textContent("#cmds");
    if (!done.includes("done") || !done.includes("created: SOLUSDC at 150")) fail("not created: " + done);
    await page.screenshot({ path: `${shots}/nb-laptop-created.png`, fullPage: true });
    await Promise.all([page.waitForURL(/\/baskets\/\d+$/), page.click("#created-basket")]);
    const title = await page.textContent("h1");
    if (!title.includes("SOLUSDC")) fail("basket page: " + title);
    await page.screenshot({ path: `${shots}/nb-laptop-basket.png`, fullPage: true });
    const basketUrl = page.url();

    // Edit config: pause first (the form says so until then), then change
    // the take-profit; the worker validates and records it.
    await Promise.all([page.waitForURL(/\/commands\?key=/), page.click("form[action='/trading/pause'] button")]);
    await waitFinished(page);
    await page.goto(basketUrl);
    await Promise.all([page.waitForURL(/\/edit$/), page.click("#edit-config")]);
    if ((await page.locator("#not-editable").count()) !== 0) fail("a paused basket is said not editable");
    await page.fill("input[name=tp_start_pct]", "0.015");
    await waitPreview(page, "1.50%");
    await page.screenshot({ path: `${shots}/nb-laptop-edit.png`, fullPage: true });
    await Promise.all([page.waitForURL(/\/commands\?key=/), page.click("#submit-basket")]);
    await waitFinished(page);
    const edited = await page.textContent("#cmds");
    if (!edited.includes("done") || !edited.includes("config changed: tp_start_pct")) fail("not edited: " + edited);
    await page.screenshot({ path: `${shots}/nb-laptop-edited.png`, fullPage: true });
    await page.goto(base + "/commands");
    await page.screenshot({ path: `${shots}/nb-laptop-commands.png`, fullPage: true });
    await ctx.close();
  }
  // ---- phone: nothing overflows sideways
  {
    const ctx = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    const page = await ctx.newPage();
    page.on("pageerror", (e) => errors.push(`phone: ${e.message}`));
    await login(page);
    await page.waitForSelector("#live");
    await noSidewaysScroll(page, "the dashboard");
    await page.screenshot({ path: `${shots}/nb-phone-dashboard.png`, fullPage: true });
    await page.goto(base + "/baskets/new");
    await waitPreview(page, "Preview: SOLUSDC at");
    await noSidewaysScroll(page, "the new basket form");
    await page.screenshot({ path: `${shots}/nb-phone-new-basket.png`, fullPage: true });
    await page.locator("#preview-tps").scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${shots}/nb-phone-preview-tps.png` });
    await page.goto(base + "/commands");
    await noSidewaysScroll(page, "the command list");
    await page.screenshot({ path: `${shots}/nb-phone-commands.png`, fullPage: true });
    const href = await page.getAttribute("#command-list a[href^='/baskets/']", "href");
    await page.goto(base + href);
    await noSidewaysScroll(page, "the basket page");
    await page.screenshot({ path: `${shots}/nb-phone-basket.png`, fullPage: true });
    await page.goto(base + "/orders/history");
    await noSidewaysScroll(page, "the order history");
    await ctx.close();
  }
} finally {
  await browser.close();
}
if (errors.length) fail("browser errors: " + errors.join(" | "));
console.log("E2E OK");
