// README screenshots of the whole demo page, in headless Chromium (the
// system browser, $UPR_CHROMIUM or /usr/bin/chromium) against a dev server
// started with --tus --faults --admin-token demo-admin and a slow pipeline:
//
// - demo-page.png: the page at 1280 px with two jobs, one that lived
//   through a dropped socket (its timeline says so) and one whose upload is
//   in progress (uploads throttled to 48 KB/s so the shot catches it);
// - demo-phone.png: the first job's card at 360 px.
//
// Usage: node shots.js BASE_URL OUT_DIR
const path = require("path");
const { chromium } = require("playwright-core");
const demo = require("./demo-page");

// Upload speed while the second job's file goes up, in bytes per second.
const THROTTLED_UPLOAD = 48 * 1024;

// Waits until card `index`'s upload bar is between `low` and `high` percent.
async function waitUploadBetween(page, index, low, high) {
  await page.waitForFunction(
    ([i, lo, hi]) => {
      const bar = document.querySelectorAll("#demo-root .demo__job")[i]?.querySelector("progress");
      return bar && bar.value >= lo && bar.value <= hi;
    },
    [index, low, high],
    { timeout: 60000 },
  );
}

async function widePage(browser, baseUrl, out) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await demo.openDemo(page, baseUrl);
  await demo.chooseFiles(page, [demo.textFile("survey-results.csv", 300 * 1024)]);
  await demo.waitRunning(page, 0, 10);
  await demo.cardThroughDrop(page);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: THROTTLED_UPLOAD,
  });
  await demo.chooseFiles(page, [demo.textFile("interviews-2026.csv", 1536 * 1024)]);
  await waitUploadBetween(page, 1, 20, 80);
  const file = path.join(out, "demo-page.png");
  await page.screenshot({ path: file, fullPage: true });
  console.log(`wrote ${file}`);
  await page.close();
}

async function phone(browser, baseUrl, out) {
  const page = await browser.newPage({ viewport: { width: 360, height: 740 } });
  await demo.openDemo(page, baseUrl);
  await demo.chooseFiles(page, [demo.textFile("field-notes.txt", 120 * 1024)]);
  await demo.waitRunning(page, 0, 10);
  await demo.cardThroughDrop(page);
  const { scrollWidth } = await demo.horizontalOverflow(page);
  if (scrollWidth > 360) throw new Error(`the page is ${scrollWidth} px wide at 360 px`);
  const file = path.join(out, "demo-phone.png");
  await page.locator(demo.card(0)).screenshot({ path: file });
  console.log(`wrote ${file}`);
  await page.close();
}

(async () => {
  const [baseUrl, out] = process.argv.slice(2);
  if (!baseUrl || !out) throw new Error("usage: node shots.js BASE_URL OUT_DIR");
  const browser = await chromium.launch({
    executablePath: process.env.UPR_CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  try {
    await widePage(browser, baseUrl, out);
    await phone(browser, baseUrl, out);
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });
