// Runs axe-core on each URL given on the command line in headless Chromium
// (the system browser, $UPR_CHROMIUM or /usr/bin/chromium) and fails on any
// violation. Waits for the page's module (the custom element) first, then
// starts one widget so the rendered component is checked too.
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const axeSource = fs.readFileSync(path.join(require.resolve("axe-core"), "..", "axe.min.js"), "utf8");

async function check(browser, url) {
  const page = await browser.newPage();
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(() => customElements.get("upload-progress-robust") !== undefined, null, { timeout: 30000 });
  const start = await page.$("#start-element");
  if (start) {
    await start.click();
    await page.waitForSelector("upload-progress-robust .upr", { timeout: 30000 });
  }
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => window.axe.run(document));
  await page.close();
  return result.violations;
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
