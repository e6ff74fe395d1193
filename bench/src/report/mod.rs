//! Turns the JSON files of one run into `BENCHMARKS.md` and the storm plot.

mod carry;
mod fanout;
mod idle;
mod idle_many;
mod machine;
mod sections;
mod svg;

pub use fanout::{goals, FanoutSize, Goal};

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::results::{read_json, BundleSizes, ClientResult, FanoutResult, IdleResult, StormResult};

/// Inputs of the report besides the results folder.
#[derive(Debug, Clone)]
pub struct ReportArgs {
    /// Folder with the JSON results.
    pub results: PathBuf,
    /// Markdown file to write.
    pub out: PathBuf,
    /// SVG file to write; linked from the markdown by its path relative to `out`.
    pub svg: PathBuf,
    /// Gzip budget of the component bundle, bytes.
    pub budget_gzip: Option<u64>,
    /// Wall-clock seconds the whole run took.
    pub runtime_s: Option<u64>,
    /// The command that produced the run.
    pub command: String,
    /// Markdown files copied verbatim after the generated sections, in order,
    /// when they exist (sections measured by other scripts).
    pub append: Vec<PathBuf>,
}

/// Every result file found in the folder; missing parts are reported as not measured.
struct Found {
    bundles: Vec<BundleSizes>,
    bundle_note: Option<String>,
    /// Every fan-out result, by subscriber count.
    fanout: Vec<FanoutSize>,
    /// The fan-out at a higher update rate, for the latency goal.
    fanout_fast: Option<FanoutSize>,
    /// Idle scale, by subscriber count.
    idle: Vec<idle::IdleSize>,
    /// Idle connections across instances on Redis, by subscriber count.
    idle_many: Vec<IdleResult>,
    /// The event stream against the job socket, one size.
    sse: Option<FanoutSize>,
    /// Page connections following several jobs each, against Socket.IO.
    page: Option<FanoutSize>,
    storms: Vec<StormResult>,
    /// Graceful drain with the shutdown spread, then without.
    drains: Vec<(String, StormResult)>,
    client: Option<ClientResult>,
}

fn load(dir: &Path) -> Result<Found> {
    let opt = |name: &str| {
        let p = dir.join(name);
        p.exists().then_some(p)
    };
    let mut bundles = Vec::new();
    for name in ["component", "counter"] {
        if let Some(p) = opt(&format!("sizes-{name}.json")) {
            bundles.push(read_json(&p)?);
        }
    }
    let fanout = fanout_sizes(dir, "fanout")?;
    let fanout_fast = fanout_sizes(dir, "fast")?.into_iter().next();
    let idle = idle_sizes(dir)?;
    let idle_many = idle_many_sizes(dir)?;
    let sse = fanout_sizes(dir, "sse")?.into_iter().next();
    let page = fanout_sizes(dir, "page")?.into_iter().next();
    let mut storms = Vec::new();
    for name in ["storm-jitter.json", "storm-nojitter.json"] {
        if let Some(p) = opt(name) {
            storms.push(read_json(&p)?);
        }
    }
    let mut drains = Vec::new();
    for (name, label) in [
        ("storm-drain-spread.json", "spread on"),
        ("storm-drain-nospread.json", "spread off"),
    ] {
        if let Some(p) = opt(name) {
            drains.push((label.to_owned(), read_json(&p)?));
        }
    }
    let bundle_note = match opt("bundle-note.txt") {
        Some(p) => Some(std::fs::read_to_string(&p).with_context(|| format!("reading {p:?}"))?),
        None => None,
    };
    let client = match opt("client.json") {
        Some(p) => Some(read_json(&p)?),
        None => None,
    };
    Ok(Found {
        bundles,
        bundle_note,
        fanout,
        fanout_fast,
        idle,
        idle_many,
        sse,
        page,
        storms,
        drains,
        client,
    })
}

/// The files `{prefix}-{kind}-{n}.json` of the folder, grouped by `n`:
/// kind `ours` and `socketio` (neutral load generator), `session` (our
/// native `Session` client), `redis` (two instances on Redis).
fn fanout_sizes(dir: &Path, prefix: &str) -> Result<Vec<FanoutSize>> {
    let mut sizes: Vec<FanoutSize> = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {dir:?}"))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let Some((kind, n)) = name
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('-'))
            .and_then(|r| r.strip_suffix(".json"))
            .and_then(|r| r.rsplit_once('-'))
            .and_then(|(kind, n)| Some((kind.to_owned(), n.parse::<u64>().ok()?)))
        else {
            continue;
        };
        let result: FanoutResult = read_json(&dir.join(&name))?;
        let at = match sizes.iter().position(|s| s.clients == n) {
            Some(i) => i,
            None => {
                sizes.push(FanoutSize {
                    clients: n,
                    ..Default::default()
                });
                sizes.len() - 1
            }
        };
        let slot = match kind.as_str() {
            "ours" => &mut sizes[at].ours,
            "socketio" => &mut sizes[at].socketio,
            "session" => &mut sizes[at].session,
            "redis" => &mut sizes[at].redis,
            "floor" => &mut sizes[at].floor,
            "sse" => &mut sizes[at].sse,
            other => anyhow::bail!("{name}: unknown fan-out kind {other:?}"),
        };
        *slot = Some(result);
    }
    sizes.sort_by_key(|s| s.clients);
    Ok(sizes)
}

/// The event-stream table goes under section 2b only when this run measured it,
/// so a run without it does not print an empty subsection there.
fn wanted_sse(found: &Found) -> bool {
    found.sse.as_ref().is_some_and(|z| z.sse.is_some())
}

/// The files `idle-{ours|socketio}-{n}.json`, grouped by `n`.
fn idle_sizes(dir: &Path) -> Result<Vec<idle::IdleSize>> {
    let mut sizes: Vec<idle::IdleSize> = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {dir:?}"))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let Some((kind, n)) = name
            .strip_prefix("idle-")
            .and_then(|r| r.strip_suffix(".json"))
            .and_then(|r| r.rsplit_once('-'))
            .and_then(|(kind, n)| Some((kind.to_owned(), n.parse::<u64>().ok()?)))
        else {
            continue;
        };
        let result: IdleResult = read_json(&dir.join(&name))?;
        let at = match sizes.iter().position(|s| s.clients == n) {
            Some(i) => i,
            None => {
                sizes.push(idle::IdleSize {
                    clients: n,
                    ..Default::default()
                });
                sizes.len() - 1
            }
        };
        match kind.as_str() {
            "ours" => sizes[at].ours = Some(result),
            "socketio" => sizes[at].socketio = Some(result),
            other => anyhow::bail!("{name}: unknown idle kind {other:?}"),
        }
    }
    sizes.sort_by_key(|s| s.clients);
    Ok(sizes)
}

/// The files `idlemany-{n}.json`, by `n`.
fn idle_many_sizes(dir: &Path) -> Result<Vec<IdleResult>> {
    let mut sizes: Vec<(u64, IdleResult)> = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {dir:?}"))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let Some(n) = name
            .strip_prefix("idlemany-")
            .and_then(|r| r.strip_suffix(".json"))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        sizes.push((n, read_json(&dir.join(&name))?));
    }
    sizes.sort_by_key(|(n, _)| *n);
    Ok(sizes.into_iter().map(|(_, r)| r).collect())
}

/// Writes the markdown report and the SVG.
pub fn write(args: &ReportArgs) -> Result<()> {
    let found = load(&args.results)?;
    let mut md = String::new();
    writeln!(md, "# Benchmarks\n")?;
    writeln!(
        md,
        "Generated by `{}`; do not edit by hand. Every figure below was measured in that run. \
         Cells read `median [min–max]` over the runs of that figure.\n",
        args.command
    )?;
    let loadavg = std::fs::read_to_string(args.results.join("loadavg.txt")).ok();
    let loadavg_end = std::fs::read_to_string(args.results.join("loadavg-end.txt")).ok();
    md.push_str(&machine::describe(
        args.runtime_s,
        loadavg.as_deref(),
        loadavg_end.as_deref(),
    )?);
    md.push_str(&sections::bundle(
        &found.bundles,
        found.bundle_note.as_deref(),
        args.budget_gzip,
    ));
    md.push_str(&fanout::versus_socketio_with_pages(
        &found.fanout,
        found.fanout_fast.as_ref(),
        found.page.as_ref(),
    ));
    md.push_str(&fanout::versus_redis(&found.fanout));
    if wanted_sse(&found) {
        md.push_str(&fanout::versus_sse(found.sse.as_ref()));
    }
    md.push_str(&idle::section(&found.idle));
    md.push_str(&idle_many::section(&found.idle_many));
    let svg_rel = relative(&args.svg, &args.out);
    if !found.storms.is_empty() {
        std::fs::write(&args.svg, svg::storm_plot(&found.storms))
            .with_context(|| format!("writing {:?}", args.svg))?;
    }
    md.push_str(&sections::storm(&found.storms, &svg_rel));
    md.push_str(&sections::drain(&found.drains));
    md.push_str(&sections::client(found.client.as_ref()));
    for path in &args.append {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                md.push_str(text.trim_end());
                md.push_str("\n\n");
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("report: {path:?} not found; its section is left out");
            }
            Err(e) => return Err(e).with_context(|| format!("reading {path:?}")),
        }
    }
    // Sections without results keep what the previous report had.
    let previous = std::fs::read_to_string(&args.out).unwrap_or_default();
    let md = carry::merge(&md, &previous);
    std::fs::write(&args.out, md.trim_end().to_owned() + "\n")
        .with_context(|| format!("writing {:?}", args.out))
}

/// `target` relative to the folder of `from`, when it lies below it.
fn relative(target: &Path, from: &Path) -> String {
    // `BENCHMARKS.md` has an empty parent, which canonicalize rejects.
    let base = from
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let t = std::fs::canonicalize(target).unwrap_or(target.to_path_buf());
    let b = std::fs::canonicalize(base).unwrap_or(base.to_path_buf());
    t.strip_prefix(&b)
        .unwrap_or(&t)
        .to_string_lossy()
        .into_owned()
}
