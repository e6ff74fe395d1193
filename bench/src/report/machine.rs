//! The machine section: CPU model and count from `/proc/cpuinfo`, memory from `free`.

use std::fmt::Write as _;
use std::process::Command;

use anyhow::Result;

/// Markdown describing the machine, the date, the run time and the load
/// average when the run started and ended (`loadavg`, `loadavg_end`, from the
/// results folder).
pub fn describe(
    runtime_s: Option<u64>,
    loadavg: Option<&str>,
    loadavg_end: Option<&str>,
) -> Result<String> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown".into());
    let cpus = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let mhz = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("cpu MHz"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned());
    let free = run("free", &["-m"]);
    let kernel = run("uname", &["-sr"]);
    let date = run("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let rustc = run("rustc", &["--version"]);
    let node = run("node", &["--version"]);

    let mut s = String::new();
    writeln!(s, "## Machine\n")?;
    writeln!(s, "- Date: {}", date.trim())?;
    write!(s, "- CPU: {model}, {cpus} logical CPUs")?;
    if let Some(mhz) = mhz {
        write!(s, " at {mhz} MHz")?;
    }
    writeln!(s)?;
    writeln!(s, "- Kernel: {}", kernel.trim())?;
    writeln!(s, "- Toolchain: {}; Node {}", rustc.trim(), node.trim())?;
    if let Some(l) = loadavg {
        writeln!(
            s,
            "- Load average (1, 5, 15 min) when the run started: {} (anything above 0 is other \
             work competing for the same CPUs).",
            l.trim()
        )?;
    }
    if let Some(l) = loadavg_end {
        writeln!(
            s,
            "- Load average when the last measurement ended: {}.",
            l.trim()
        )?;
    }
    if let Some(rt) = runtime_s {
        writeln!(s, "- The whole run took {rt} s.")?;
    }
    writeln!(
        s,
        "- Load generator, server and peer share these CPUs (loopback, one machine), so \
         absolute figures include the generator's own cost and whatever else ran; the ratios \
         of one run compare like with like, measured minutes apart on the same machine."
    )?;
    writeln!(
        s,
        "- How measured: memory is `VmRSS` from `/proc/PID/status`, CPU time `utime + stime` \
         from `/proc/PID/stat` of the named processes only; latencies are one clock's \
         `Date.now()`/`SystemTime` against the server's `updated_at_ms` (ms resolution); each \
         section says what a run is. With one run a cell shows that run's value.\n"
    )?;
    writeln!(
        s,
        "`free -m` at report time:\n\n```\n{}\n```\n",
        free.trim_end()
    )?;
    Ok(s)
}

fn run(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_else(|| "unknown".into())
}
