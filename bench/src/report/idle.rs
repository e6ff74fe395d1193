//! Section 2c: idle scale, one instance of ours against Socket.IO with the
//! same number of subscribers that are connected and silent.

use std::fmt::Write as _;

use super::sections::cell;
use crate::results::{IdleResult, IdleRun};
use crate::stats::Spread;

/// The idle results at one subscriber count.
#[derive(Debug, Clone, Default)]
pub struct IdleSize {
    /// Subscribers.
    pub clients: u64,
    /// Our server.
    pub ours: Option<IdleResult>,
    /// The Socket.IO peer.
    pub socketio: Option<IdleResult>,
}

type Pick = fn(&IdleRun) -> f64;

/// Rows: label, decimals, figure of one run.
const ROWS: [(&str, usize, Pick); 5] = [
    ("server memory per connection (KiB)", 2, |r| {
        (r.rss_after_kib as f64 - r.rss_before_kib as f64) / r.clients as f64
    }),
    (
        "server memory per connection after the silent window (KiB)",
        2,
        |r| (r.rss_end_kib as f64 - r.rss_before_kib as f64) / r.clients as f64,
    ),
    ("server CPU per idle connection per second (µs)", 3, |r| {
        r.cpu_s * 1e6 / (r.clients as f64 * r.window_s)
    }),
    ("time to connect everyone (s)", 2, |r| {
        r.connect_ms as f64 / 1000.0
    }),
    ("connect time per 1000 subscribers (ms)", 0, |r| {
        r.connect_ms as f64 * 1000.0 / r.clients as f64
    }),
];

fn spread(r: Option<&IdleResult>, pick: Pick) -> Option<Spread> {
    let runs = r.map(|r| r.runs.as_slice()).unwrap_or_default();
    Spread::of(runs.iter().map(pick))
}

fn loads(r: Option<&IdleResult>) -> String {
    let v: Vec<String> = r
        .map(|r| r.runs.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|x| x.load_1m.map_or_else(|| "?".into(), |l| format!("{l:.2}")))
        .collect();
    v.join(", ")
}

fn runs(r: Option<&IdleResult>) -> usize {
    r.map_or(0, |r| r.runs.len())
}

/// The section, or "not measured".
pub fn section(sizes: &[IdleSize]) -> String {
    let mut s = String::from("## 2c. Idle scale, against Socket.IO 4\n\n");
    let Some(w) = sizes
        .iter()
        .find_map(|z| z.ours.as_ref().or(z.socketio.as_ref()))
    else {
        s.push_str("Not measured in this run.\n\n");
        return s;
    };
    let _ = writeln!(
        s,
        "N subscribers connect (the load generator of section 2–3, batches of 500) to jobs that have \
         not started (one per {} subscribers, as pages opened before their uploads), each server \
         a fresh process; then nothing happens for {:.0} s, longer than both servers' 25 s ping \
         interval, so one round of keep-alives (server ping, client pong) falls inside. Memory: \
         server `VmRSS` with everyone connected minus before anyone connected, over N. CPU: \
         `utime + stime` of the server over the silent window, over N and the window's seconds. \
         Every socket must still be open at the end, or the run fails. The largest size is the \
         open-file limit of one process here (`ulimit -Hn`) less some headroom. Ratio = ours / \
         Socket.IO of the medians.\n",
        w.per_job, w.idle_s
    );
    s.push_str("| figure | subscribers | ours | Socket.IO | ours / Socket.IO |\n|---|---:|---:|---:|---:|\n");
    for (name, digits, pick) in ROWS {
        for z in sizes {
            let (a, b) = (
                spread(z.ours.as_ref(), pick),
                spread(z.socketio.as_ref(), pick),
            );
            let ratio = match (a, b) {
                (Some(a), Some(b)) if b.median != 0.0 => format!("{:.2}", a.median / b.median),
                _ => "n/a".into(),
            };
            let _ = writeln!(
                s,
                "| {name} | {} | {} | {} | {ratio} |",
                z.clients,
                cell(a, digits),
                cell(b, digits)
            );
        }
    }
    let counts: Vec<String> = sizes
        .iter()
        .map(|z| {
            format!(
                "{}: {} ours (load {}), {} Socket.IO (load {})",
                z.clients,
                runs(z.ours.as_ref()),
                loads(z.ours.as_ref()),
                runs(z.socketio.as_ref()),
                loads(z.socketio.as_ref())
            )
        })
        .collect();
    let _ = writeln!(
        s,
        "\nRuns per size, with the one-minute load average at the start of each: {}.\n",
        counts.join("; ")
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(clients: u64, rss_after_kib: u64, cpu_s: f64) -> Option<IdleResult> {
        Some(IdleResult {
            implementation: "x".into(),
            idle_s: 30.0,
            per_job: 100,
            runs: vec![IdleRun {
                clients,
                connect_ms: 2000,
                rss_before_kib: 1000,
                rss_after_kib,
                rss_end_kib: rss_after_kib,
                cpu_s,
                window_s: 10.0,
                client_cpu_s: None,
                open_at_end: clients,
                kernel_tcp_kib: None,
                load_1m: Some(1.5),
                instances: None,
                kernel_before: None,
                kernel_after: None,
                redis: None,
            }],
        })
    }

    #[test]
    fn figures_are_per_connection_and_per_second() {
        let sizes = vec![IdleSize {
            clients: 1000,
            ours: result(1000, 5000, 0.01),
            socketio: result(1000, 17_000, 0.04),
        }];
        let md = section(&sizes);
        // (5000 - 1000) / 1000 = 4 KiB against 16 KiB.
        assert!(
            md.contains("| server memory per connection (KiB) | 1000 | 4.00 | 16.00 | 0.25 |"),
            "{md}"
        );
        // 0.01 s over 1000 connections and 10 s: 1 µs.
        assert!(
            md.contains(
                "| server CPU per idle connection per second (µs) | 1000 | 1.000 | 4.000 | 0.25 |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| connect time per 1000 subscribers (ms) | 1000 | 2000 | 2000 | 1.00 |"),
            "{md}"
        );
    }

    #[test]
    fn nothing_measured_says_so() {
        assert!(section(&[]).contains("Not measured in this run."));
    }
}
