//! Records what every widget on the page shows, change by change.
//!
//! A `MutationObserver` in the page reads each `section.upr` whenever its
//! attributes or stage list change and appends a row to `window.__uprRec.log`
//! when anything visible differs from the last row of that widget. The test
//! drains that array from time to time, so nothing is lost between polls and
//! the page's memory stays small.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::browser::Browser;
use crate::{fail, Result};

/// Installs the recorder (idempotent) and returns `true`.
const INSTALL_JS: &str = r#"
if (window.__uprRec) return true;
const rec = { log: [], last: new Map(), keys: new WeakMap(), next: 0 };
window.__uprRec = rec;
// A widget's name: the test's host element, the custom element's job id, or
// a counter in order of appearance.
const keyOf = (el) => {
  const host = el.closest("[data-e2e-job]");
  if (host) return host.getAttribute("data-e2e-job");
  const custom = el.closest("upload-progress-robust");
  if (custom && custom.getAttribute("process-id")) return custom.getAttribute("process-id");
  let k = rec.keys.get(el);
  if (k === undefined) { k = "widget-" + (rec.next++); rec.keys.set(el, k); }
  return k;
};
const read = (el) => {
  const d = el.dataset;
  const current = el.querySelector(".upr__stage[data-status='current']");
  const stages = Array.from(el.querySelectorAll(".upr__stage"))
    .map((s) => ({ name: s.dataset.stage, status: s.dataset.status }));
  const message = el.querySelector(".upr__message");
  const percentText = el.querySelector(".upr__percent");
  return {
    key: keyOf(el), seq: Number(d.seq), state: d.state, mode: d.mode,
    connection: d.connection, percent: Number(d.percent),
    stage: current ? current.dataset.stage : null, stages,
    message: message ? message.textContent : "",
    percent_text: percentText ? percentText.textContent : "",
    at_ms: Math.round(performance.now()),
  };
};
rec.read = read;
rec.sample = () => {
  for (const el of document.querySelectorAll("section.upr")) {
    const row = read(el);
    const sig = [row.seq, row.state, row.mode, row.connection, row.percent, row.stage,
      row.stages.map((s) => s.name + ":" + s.status).join(",")].join("|");
    if (rec.last.get(row.key) !== sig) { rec.last.set(row.key, sig); rec.log.push(row); }
  }
};
rec.observer = new MutationObserver(() => rec.sample());
rec.observer.observe(document.documentElement, {
  subtree: true, childList: true, attributes: true,
  attributeFilter: ["data-seq", "data-state", "data-mode", "data-connection", "data-percent", "data-status"],
});
rec.sample();
return true;
"#;

/// Returns the rows recorded since the last drain.
const DRAIN_JS: &str = r#"
const rec = window.__uprRec;
if (!rec) return null;
rec.sample();
return rec.log.splice(0);
"#;

/// Reads every widget on the page now.
const READ_ALL_JS: &str = r#"
const rec = window.__uprRec;
if (!rec) return null;
return Array.from(document.querySelectorAll("section.upr")).map((el) => rec.read(el));
"#;

/// One stage as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ShownStage {
    /// `data-stage`.
    pub name: String,
    /// `data-status`: `done | current | pending | failed | skipped`.
    pub status: String,
}

/// What one widget showed at one moment.
#[derive(Debug, Clone, Deserialize)]
pub struct Shown {
    /// Which widget.
    pub key: String,
    /// `data-seq`.
    pub seq: u64,
    /// `data-state`.
    pub state: String,
    /// `data-mode`: `websocket | http_polling | none`.
    pub mode: String,
    /// `data-connection`.
    pub connection: String,
    /// `data-percent` (whole number).
    pub percent: u32,
    /// The stage marked current, if any.
    pub stage: Option<String>,
    /// Every stage with its status.
    pub stages: Vec<ShownStage>,
    /// The server's message as shown.
    pub message: String,
    /// The percentage text in the header.
    pub percent_text: String,
    /// `performance.now()` in the page, for reading the output.
    pub at_ms: u64,
}

/// The rows of every widget, in the order the page showed them.
#[derive(Debug, Default)]
pub struct Recorder {
    rows: BTreeMap<String, Vec<Shown>>,
}

impl Recorder {
    /// Installs the observer in the current page.
    pub async fn install(browser: &Browser) -> Result<Self> {
        let ok = browser.exec(INSTALL_JS, vec![]).await?;
        if ok != Value::Bool(true) {
            return Err(fail(format!("recorder did not install: {ok}")));
        }
        Ok(Self::default())
    }

    /// Pulls the rows recorded since the last call.
    pub async fn drain(&mut self, browser: &Browser) -> Result<()> {
        let rows = browser.exec(DRAIN_JS, vec![]).await?;
        if rows.is_null() {
            return Err(fail("the recorder is gone (did the page reload?)"));
        }
        let rows: Vec<Shown> = serde_json::from_value(rows)?;
        for row in rows {
            self.rows.entry(row.key.clone()).or_default().push(row);
        }
        Ok(())
    }

    /// Every widget's rows so far.
    pub fn rows(&self) -> &BTreeMap<String, Vec<Shown>> {
        &self.rows
    }

    /// One widget's rows so far (empty when it showed nothing yet).
    pub fn widget(&self, key: &str) -> &[Shown] {
        self.rows.get(key).map(Vec::as_slice).unwrap_or_default()
    }

    /// The newest row of a widget.
    pub fn latest(&self, key: &str) -> Option<&Shown> {
        self.widget(key).last()
    }
}

/// Reads every widget on the page right now (the recorder must be installed).
pub async fn read_all(browser: &Browser) -> Result<Vec<Shown>> {
    let rows = browser.exec(READ_ALL_JS, vec![]).await?;
    if rows.is_null() {
        return Err(fail("the recorder is not installed in this page"));
    }
    Ok(serde_json::from_value(rows)?)
}
