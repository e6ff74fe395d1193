//! One function per report section, each returning markdown.

use std::fmt::Write as _;

use crate::results::{BundleSizes, ClientResult, StormResult, StormRun};
use crate::stats::Spread;

/// `median [min–max]` with `digits` decimals, or `n/a`.
pub(super) fn cell(s: Option<Spread>, digits: usize) -> String {
    match s {
        Some(s) if s.min == s.max => format!("{:.*}", digits, s.median),
        Some(s) => format!(
            "{:.*} [{:.*}–{:.*}]",
            digits, s.median, digits, s.min, digits, s.max
        ),
        None => "n/a".into(),
    }
}

fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

/// Bundle sizes of the component and the bare counter, and the budget.
pub fn bundle(bundles: &[BundleSizes], note: Option<&str>, budget: Option<u64>) -> String {
    let mut s = String::from("## 1. Bundle size\n\n");
    if bundles.is_empty() {
        s.push_str("Not measured in this run (build failed or skipped; see the log).\n\n");
        return s;
    }
    s.push_str(
        "Release builds with the same profile (`opt-level = \"z\"`, `lto = true`, `codegen-units = 1`, \
         `panic = \"abort\"`), `trunk build --release` (wasm-bindgen 0.2.130, `wasm-opt -Oz`). The \
         component bundle is the demo build (`data-bin=\"demo\"`), which also holds the demo page \
         and the embed API. \
         gzip is level 9, brotli quality 11 (window 22), both computed by the bench binary. \
         Builds are deterministic, so each size is one measurement.\n\n",
    );
    if let Some(note) = note {
        let _ = writeln!(s, "Optimiser: {}\n", note.trim());
    }
    s.push_str("| bundle | file | raw | gzip | brotli |\n|---|---|---:|---:|---:|\n");
    let total = |b: &BundleSizes, f: fn(&crate::results::FileSize) -> u64| -> u64 {
        b.files.iter().map(f).sum()
    };
    for b in bundles {
        for f in &b.files {
            let _ = writeln!(
                s,
                "| {} | {} `{}` | {} | {} | {} |",
                b.name, f.kind, f.file, f.raw, f.gzip, f.brotli
            );
        }
        let _ = writeln!(
            s,
            "| **{}** | **wasm + js** | **{}** | **{}** | **{}** |",
            b.name,
            total(b, |f| f.raw),
            total(b, |f| f.gzip),
            total(b, |f| f.brotli)
        );
    }
    s.push('\n');
    let find = |n: &str| bundles.iter().find(|b| b.name == n);
    if let (Some(c), Some(k)) = (find("component"), find("counter")) {
        let own = |f: fn(&crate::results::FileSize) -> u64| total(c, f) as i64 - total(k, f) as i64;
        let _ = writeln!(
            s,
            "The component's own cost over a bare Leptos counter: {} B raw, {} B gzip, {} B brotli \
             ({:.2}x the counter, gzip).\n",
            own(|f| f.raw),
            own(|f| f.gzip),
            own(|f| f.brotli),
            total(c, |f| f.gzip) as f64 / total(k, |f| f.gzip).max(1) as f64
        );
        if let Some(b) = budget {
            let used = total(c, |f| f.gzip);
            let _ = writeln!(
                s,
                "Size budget: `scripts/check-size.sh` (run by `scripts/test.sh`) fails the build when the \
                 component's wasm + JS exceed {b} B gzip ({}); this build uses {used} B ({:.0}% of it).\n",
                kib(b),
                used as f64 * 100.0 / b as f64
            );
        }
    }
    for b in bundles {
        if b.top.is_empty() {
            continue;
        }
        let _ = writeln!(
            s,
            "Largest items of `{}` (`twiggy top`, on the wasm-bindgen output before `wasm-opt`, \
             which still has its name section; sizes are before optimisation and % is of that \
             file, name section included):\n",
            b.name
        );
        s.push_str("| item | bytes | % |\n|---|---:|---:|\n");
        for (name, bytes, pct) in &b.top {
            let short: String = name.chars().take(90).collect();
            let _ = writeln!(
                s,
                "| `{}` | {bytes} | {pct:.2} |",
                short.replace('|', "\\|")
            );
        }
        s.push('\n');
    }
    s
}

fn storm_rows(runs: &[StormRun]) -> [(String, String); 6] {
    let sp = |f: fn(&StormRun) -> Option<f64>| Spread::of(runs.iter().filter_map(f));
    [
        (
            "server down (kill to listening again, ms)".into(),
            cell(sp(|r| Some(r.down_ms as f64)), 0),
        ),
        (
            "kill to everyone live again (ms)".into(),
            cell(sp(|r| r.all_live_ms.map(|v| v as f64)), 0),
        ),
        (
            "runs where not everyone was back within the window".into(),
            runs.iter()
                .filter(|r| r.all_live_ms.is_none())
                .count()
                .to_string(),
        ),
        (
            "peak new sockets in any 1 s".into(),
            cell(sp(|r| Some(r.peak_opens_per_s as f64)), 0),
        ),
        (
            "failed socket attempts".into(),
            cell(sp(|r| Some(r.failed_attempts as f64)), 0),
        ),
        (
            "subscribers that fell back to polling".into(),
            cell(sp(|r| Some(r.fell_back as f64)), 0),
        ),
    ]
}

/// The reconnect storm, jitter on against off, with the plot.
pub fn storm(storms: &[StormResult], svg_rel: &str) -> String {
    let mut s = String::from("## 4. Reconnect storm\n\n");
    if storms.is_empty() {
        s.push_str("Not measured in this run.\n\n");
        return s;
    }
    let n = storms[0].runs.first().map(|r| r.clients).unwrap_or(0);
    let _ = writeln!(
        s,
        "{n} subscribers (the same native `Session` shell as above, default options) are live on slow \
         running jobs; the server process is killed with SIGKILL (sockets drop without a close frame, \
         so every session sees 1006) and started again on the same port. Live = the session reports \
         `Connected`; sampled every 50 ms. Each run ends once everyone has been live for 1 s. Jobs are \
         kept in a local Redis (`--redis-url`), so the restarted server still serves their last state; \
         without it the job is truly gone, and a session whose poll hears `404 unknown_process` for a \
         job it has seen rightly stops with \"not found\". Compared: `SessionOptions.jitter` on (full jitter) \
         and off.\n"
    );
    s.push_str("| figure | jitter on | jitter off |\n|---|---:|---:|\n");
    let pick = |j: bool| {
        storms
            .iter()
            .find(|r| r.jitter == j)
            .map(|r| storm_rows(&r.runs))
    };
    let on = pick(true);
    let off = pick(false);
    let base = on
        .clone()
        .or(off.clone())
        .expect("at least one storm result");
    for (i, (name, _)) in base.iter().enumerate() {
        let get = |x: &Option<[(String, String); 6]>| {
            x.as_ref()
                .map(|r| r[i].1.clone())
                .unwrap_or_else(|| "n/a".into())
        };
        let _ = writeln!(s, "| {name} | {} | {} |", get(&on), get(&off));
    }
    let _ = writeln!(
        s,
        "\n![Live subscribers over time around the restart, every run, jitter on and off]({svg_rel})\n"
    );
    s
}

/// Graceful drain (SIGTERM) with and without the spread of `retry_after_ms`.
pub fn drain(drains: &[(String, StormResult)]) -> String {
    let mut s = String::from("## 4b. Graceful drain: the shutdown spread\n\n");
    if drains.is_empty() {
        s.push_str("Not measured in this run.\n\n");
        return s;
    }
    let n = drains[0].1.runs.first().map(|r| r.clients).unwrap_or(0);
    let _ = writeln!(
        s,
        "{n} live subscribers as above (jitter on), but the server is stopped with SIGTERM, as a \
         rolling deploy does: every socket gets `server_shutdown {{retry_after_ms}}` and close 1012, \
         then the server is started again on the same port. Jobs are kept in a local Redis \
         (`--redis-url`), so the restarted server still serves their last state, as in a rolling \
         deploy (without it, sessions that fell back to polling while the server was away get \
         404 for their lost job and stop). Spread on: each socket announces its own \
         `retry_after_ms`, uniform in 1000..=5000 ms (`--shutdown-spread-ms 4000`, the default); spread \
         off: every socket announces 1000 ms (`--shutdown-spread-ms 0`). \"Server down\" here includes \
         the drain itself.\n"
    );
    let rows: Vec<(String, [(String, String); 6])> = drains
        .iter()
        .map(|(label, r)| (label.clone(), storm_rows(&r.runs)))
        .collect();
    let _ = write!(s, "| figure |");
    for (label, _) in &rows {
        let _ = write!(s, " {label} |");
    }
    let _ = writeln!(s, "\n|---|{}", "---:|".repeat(rows.len()));
    for i in 0..6 {
        let name = rows[0].1[i].0.replace("kill to", "stop to");
        let _ = write!(s, "| {name} |");
        for (_, r) in &rows {
            let _ = write!(s, " {} |", r[i].1);
        }
        s.push('\n');
    }
    s.push('\n');
    s
}

/// Browser-side figures from headless Chromium.
pub fn client(c: Option<&ClientResult>) -> String {
    let mut s = String::from("## 5. In the browser (headless Chromium)\n\n");
    let Some(c) = c else {
        s.push_str("Not measured in this run.\n\n");
        return s;
    };
    let _ = writeln!(
        s,
        "The release build in `dist/` served by the dev server, driven by playwright-core in {}.\n",
        c.browser
    );
    s.push_str("| figure | value | runs | how |\n|---|---:|---:|---|\n");
    for f in &c.figures {
        let _ = writeln!(
            s,
            "| {} ({}) | {} | {} | {} |",
            f.name,
            f.unit,
            cell(Spread::of(f.values.iter().copied()), 1),
            f.values.len(),
            f.method
        );
    }
    s.push('\n');
    s
}
