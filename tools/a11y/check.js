// Runs axe-core on each URL given on the command line in headless Chromium
// (the system browser, $UPR_CHROMIUM or /usr/bin/chromium) and fails on any
// violation. Waits for the page's module (the custom element) first, then
// starts one widget so the rendered component is checked too. The demo page
// (a URL ending in "/") is checked with a job card that lived through a
// dropped socket and a second one from a file dropped on the page, in light
// and dark colours, and must not scroll sideways at 360 px.
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");
const demo = require("./demo-page");

const axeSource = fs.readFileSync(path.join(require.resolve("axe-core"), "..", "axe.min.js"), "utf8");

async function axe(page) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => window.axe.run(document));
  return result.violations;
}

// The demo page: one card through a dropped socket and a second file
// dropped on the zone, axe in both colour schemes, then the same page at
// phone width.
async function checkDemo(browser, url) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await demo.openDemo(page, url.replace(/\/$/, ""));
  await demo.chooseFiles(page, [demo.textFile("a11y-check.csv", 200 * 1024)]);
  await demo.waitRunning(page, 0, 5);
  await demo.cardThroughDrop(page);
  // A second file dropped on the zone gets its own card and widget.
  await demo.dropFile(page, "dropped.txt", 50 * 1024);
  await demo.waitWidgets(page, 2);
  const violations = await axe(page);
  await page.emulateMedia({ colorScheme: "dark" });
  violations.push(...(await axe(page)).map((v) => ({ ...v, id: `${v.id} (dark)` })));
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize({ width: 360, height: 740 });
  const { scrollWidth, viewport } = await demo.horizontalOverflow(page);
  console.log(`demo page at ${viewport} px: content ${scrollWidth} px wide`);
  if (scrollWidth > 360) {
    violations.push({ id: "horizontal-scroll", impact: "serious",
      help: `the page is ${scrollWidth} px wide at 360 px and scrolls sideways`, nodes: [] });
  }
  await page.close();
  return violations;
}

async function check(browser, url) {
  if (url.endsWith("/")) return checkDemo(browser, url);
  const page = await browser.newPage();
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(() => customElements.get("upload-progress-robust") !== undefined, null, { timeout: 30000 });
  const start = await page.$("#start-element");
  if (start) {
    await start.click();
    await page.waitForSelector("upload-progress-robust .upr", { timeout: 30000 });
  }
  const violations = await axe(page);
  await page.close();
  return violations;
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.UPR_CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  let failed = false;
  try {
    for (const url of process.argv.slice(2)) {
      const violations = await check(browser, url);
      if (violations.length === 0) {
        console.log(`axe: ${url}: no violations`);
        continue;
      }
      failed = true;
      for (const v of violations) {
        console.error(`axe: ${url}: ${v.id} (${v.impact}): ${v.help}`);
        for (const node of v.nodes) console.error(`  ${node.target.join(" ")}`);
      }
    }
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
})().catch((e) => { console.error(e); process.exit(1); });
