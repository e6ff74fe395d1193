//! Bundle sizes: raw, gzip and brotli of the release wasm and its JS glue,
//! and the largest code items by `twiggy top`.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::results::{BundleSizes, FileSize};

/// Sizes of one file; `kind` labels it in the report.
pub fn file_size(kind: &str, path: &Path) -> Result<FileSize> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {path:?}"))?;
    Ok(FileSize {
        kind: kind.to_owned(),
        file: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        raw: bytes.len() as u64,
        gzip: gzip_len(&bytes)?,
        brotli: brotli_len(&bytes)?,
    })
}

/// Length after gzip at level 9, what `gzip -9` and most servers' static gzip produce.
fn gzip_len(bytes: &[u8]) -> Result<u64> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)?;
    Ok(enc.finish()?.len() as u64)
}

/// Length after brotli at quality 11, window 22: what precompressed static assets use.
fn brotli_len(bytes: &[u8]) -> Result<u64> {
    let mut out = Vec::new();
    {
        let mut enc = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
        enc.write_all(bytes)?;
    }
    Ok(out.len() as u64)
}

#[derive(Deserialize)]
struct TwiggyRow {
    name: String,
    shallow_size: u64,
    shallow_size_percent: f64,
}

/// The `n` largest code and data items of a wasm file that still has its name section.
pub fn twiggy_top(named_wasm: &Path, n: usize) -> Result<Vec<(String, u64, f64)>> {
    let out = Command::new("twiggy")
        .args(["top", "-n", &(n + 10).to_string(), "-f", "json"])
        .arg(named_wasm)
        .output()
        .context("running twiggy (cargo install twiggy --locked)")?;
    if !out.status.success() {
        bail!("twiggy failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let rows: Vec<TwiggyRow> =
        serde_json::from_slice(&out.stdout).context("parsing twiggy json")?;
    // Custom sections (names, producers) are metadata wasm-opt strips; only code and data count.
    Ok(rows
        .into_iter()
        .filter(|r| !r.name.starts_with("custom section") && !r.name.ends_with(" subsection"))
        .take(n)
        .map(|r| (r.name, r.shallow_size, r.shallow_size_percent))
        .collect())
}

/// Sizes of a bundle: the optimised wasm and glue, plus twiggy's view of the named build.
pub fn measure(name: &str, wasm: &Path, js: &Path, named_wasm: &Path) -> Result<BundleSizes> {
    Ok(BundleSizes {
        name: name.to_owned(),
        files: vec![file_size("wasm", wasm)?, file_size("js", js)?],
        top: twiggy_top(named_wasm, 12)?,
    })
}
