// The demo page (dist/index.html, src/bin/demo/) in the states worth
// checking: a job card with its upload, widget and a timeline that has
// lived through a dropped socket. Used by check.js (axe-core) and shots.js
// (README screenshots). The page must be served by a dev server started
// with --tus --faults --admin-token demo-admin (the page's default token).

const WAIT_MS = 60000;

// A text file of `bytes` bytes, as a user's file for the page's input.
function textFile(name, bytes) {
  const line = "respondent,region,score,comment\n";
  return { name, mimeType: "text/csv", buffer: Buffer.from(line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes)) };
}

// Opens the demo page and waits for its file input (the app is mounted).
async function openDemo(page, baseUrl) {
  await page.goto(`${baseUrl}/`, { waitUntil: "load" });
  await page.waitForSelector("#demo-root input[type=file]", { timeout: WAIT_MS });
}

// Chooses `files` in the drop zone's file input; each becomes a card.
async function chooseFiles(page, files) {
  await page.setInputFiles("#demo-root input[type=file]", files);
}

// Drops a text file of `bytes` bytes on the drop zone, as a user dragging
// it from the desktop would (a DataTransfer holding a File).
async function dropFile(page, name, bytes) {
  const dataTransfer = await page.evaluateHandle(([n, size]) => {
    const dt = new DataTransfer();
    dt.items.add(new File(["x".repeat(size)], n, { type: "text/plain" }));
    return dt;
  }, [name, bytes]);
  await page.dispatchEvent("#demo-root .demo__drop", "dragenter", { dataTransfer });
  await page.dispatchEvent("#demo-root .demo__drop", "dragover", { dataTransfer });
  await page.dispatchEvent("#demo-root .demo__drop", "drop", { dataTransfer });
}

// Waits until the page shows `count` widgets.
async function waitWidgets(page, count) {
  await page.waitForFunction(
    (n) => document.querySelectorAll("#demo-root .demo__job section.upr").length === n,
    count,
    { timeout: WAIT_MS },
  );
}

// The `index`th card (0-based) in the page, as a selector.
function card(index) {
  return `#demo-root .demo__job >> nth=${index}`;
}

// Waits until card `index`'s widget shows a running job over the socket at
// `minPercent` or more.
async function waitRunning(page, index, minPercent) {
  await page.waitForFunction(
    ([i, min]) => {
      const el = document.querySelectorAll("#demo-root .demo__job")[i]?.querySelector("section.upr");
      return el && el.dataset.state === "running" && el.dataset.connection === "connected"
        && Number(el.dataset.percent) >= min;
    },
    [index, minPercent],
    { timeout: WAIT_MS },
  );
}

// Presses a fault button by its label and waits for the server's answer.
async function pressFault(page, label) {
  await page.getByRole("button", { name: label, exact: true }).click();
  await page.waitForFunction(
    (l) => Array.from(document.querySelectorAll("#demo-root .demo__answer")).some((p) => p.textContent === `${l}: done`),
    label,
    { timeout: WAIT_MS },
  );
}

// Waits until card `index`'s timeline holds a line matching `pattern`.
async function waitTimeline(page, index, pattern) {
  await page.waitForFunction(
    ([i, source]) => {
      const re = new RegExp(source);
      const lines = document.querySelectorAll("#demo-root .demo__job")[i]?.querySelectorAll(".demo__event") || [];
      return Array.from(lines).some((li) => re.test(li.textContent));
    },
    [index, pattern.source],
    { timeout: WAIT_MS },
  );
}

// Waits until card `index`'s timeline lists a line matching `later` above
// (newer than) one matching `earlier`: the list shows the newest first.
async function waitTimelineAfter(page, index, later, earlier) {
  await page.waitForFunction(
    ([i, laterSource, earlierSource]) => {
      const lines = Array.from(document.querySelectorAll("#demo-root .demo__job")[i]?.querySelectorAll(".demo__event") || [])
        .map((li) => li.textContent);
      const first = (source) => lines.findIndex((t) => new RegExp(source).test(t));
      const [newer, older] = [first(laterSource), first(earlierSource)];
      return newer >= 0 && older > newer;
    },
    [index, later.source, earlier.source],
    { timeout: WAIT_MS },
  );
}

// The first card's socket dropped mid-job and back: the state the page
// exists to explain. The card must be running already.
async function cardThroughDrop(page) {
  await pressFault(page, "Drop sockets");
  await waitTimeline(page, 0, /closed 1006 \(no close frame\) → retry 1 of/);
  await waitTimelineAfter(page, 0, /live on the socket/, /closed 1006/);
}

// Width of the page's content against the viewport: more means sideways
// scrolling.
async function horizontalOverflow(page) {
  return page.evaluate(() => ({
    scrollWidth: document.scrollingElement.scrollWidth,
    viewport: window.innerWidth,
  }));
}

module.exports = {
  card, cardThroughDrop, chooseFiles, dropFile, horizontalOverflow, openDemo, pressFault, textFile,
  waitRunning, waitTimeline, waitTimelineAfter, waitWidgets,
};
