//! Section 2d: idle connections across several instances sharing one Redis,
//! up to 100 000, from `idlemany-{n}.json`.

use std::fmt::Write as _;

use super::sections::cell;
use crate::results::{IdleResult, IdleRun};
use crate::stats::Spread;

type Pick = fn(&IdleRun) -> Option<f64>;

/// Subscribers connected per step by `bench.sh`'s `idle_many` (its `--ramp-batch`).
pub const RAMP_BATCH: u64 = 5000;

/// The kernel's socket slab objects that connecting added, KiB per connection.
fn slab_per_conn(r: &IdleRun) -> Option<f64> {
    let before = r.kernel_before.as_ref()?.socket_slab_kib?;
    let after = r.kernel_after.as_ref()?.socket_slab_kib?;
    Some((after - before) / r.clients as f64)
}

/// The kernel's TCP buffer pages with everyone connected, KiB per connection.
fn buffers_per_conn(r: &IdleRun) -> Option<f64> {
    Some(r.kernel_after.as_ref()?.tcp_kib? / r.clients as f64)
}

/// Columns: heading, decimals, figure of one run.
const COLUMNS: [(&str, usize, Pick); 9] = [
    ("connect everyone (s)", 1, |r| {
        Some(r.connect_ms as f64 / 1000.0)
    }),
    ("server RSS / conn (KiB)", 2, |r| {
        Some((r.rss_after_kib as f64 - r.rss_before_kib as f64) / r.clients as f64)
    }),
    ("same after the window (KiB)", 2, |r| {
        Some((r.rss_end_kib as f64 - r.rss_before_kib as f64) / r.clients as f64)
    }),
    (
        "kernel socket slab / conn, both ends (KiB)",
        2,
        slab_per_conn,
    ),
    ("kernel TCP buffers / conn (KiB)", 2, buffers_per_conn),
    ("server CPU / idle conn / s (µs)", 3, |r| {
        Some(r.cpu_s * 1e6 / (r.clients as f64 * r.window_s))
    }),
    ("Redis CPU over the window (ms/s)", 2, |r| {
        Some(r.redis?.cpu_s * 1000.0 / r.window_s)
    }),
    ("Redis CPU while connecting (s)", 2, |r| {
        Some(r.redis?.connect_cpu_s)
    }),
    ("Redis used memory, growth (KiB)", 0, |r| {
        let redis = r.redis?;
        Some(redis.used_memory_kib - redis.used_memory_before_kib)
    }),
];

fn spread(r: &IdleResult, pick: Pick) -> Option<Spread> {
    Spread::of(r.runs.iter().filter_map(pick))
}

/// The section, or "not measured".
pub fn section(sizes: &[IdleResult]) -> String {
    let mut s = String::from("## 2d. Idle connections across instances on Redis\n\n");
    let Some(first) = sizes.iter().find(|r| !r.runs.is_empty()) else {
        s.push_str("Not measured in this run (`ONLY=idle100k`).\n\n");
        return s;
    };
    let instances = first.runs[0].instances.unwrap_or(1);
    let _ = writeln!(
        s,
        "N subscribers spread evenly over {instances} instances of ours sharing one redis-server, \
         connected (batches of {}) to jobs that have not started (one per {} subscribers), then \
         {:.0} s of silence, as in section 2c. The load generator runs in as many processes as \
         keep each under the open-file limit, each connection binding its socket to one of 100 loopback \
         source addresses (127.0.N.x, a fresh N per run) so the ephemeral ports do not run out. Server RSS \
         and CPU are the sums over the instances. Kernel socket slab: the bytes in use of the \
         slab caches every socket takes objects from (`TCP`, `sock_inode_cache`, `filp`, \
         `eventpoll_epi` of /proc/slabinfo) with everyone connected minus before, over N: both \
         ends of each loopback connection, the generator's end included. Kernel TCP buffers: \
         the pages of /proc/net/sockstat with everyone connected, over N. Redis figures come \
         from its `INFO`.\n",
        RAMP_BATCH, first.per_job, first.idle_s
    );
    s.push_str("| subscribers |");
    for (name, _, _) in COLUMNS {
        let _ = write!(s, " {name} |");
    }
    s.push_str(" load (1 min) |\n|---:|");
    for _ in COLUMNS {
        s.push_str("---:|");
    }
    s.push_str("---|\n");
    for r in sizes {
        let Some(run) = r.runs.first() else { continue };
        let _ = write!(s, "| {} |", run.clients);
        for (_, digits, pick) in COLUMNS {
            let _ = write!(s, " {} |", cell(spread(r, pick), digits));
        }
        let loads: Vec<String> = r
            .runs
            .iter()
            .map(|x| x.load_1m.map_or_else(|| "?".into(), |l| format!("{l:.2}")))
            .collect();
        let _ = writeln!(s, " {} |", loads.join(", "));
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{KernelMemory, RedisFigures};

    fn run(clients: u64) -> IdleRun {
        IdleRun {
            clients,
            connect_ms: 20_000,
            rss_before_kib: 6_000,
            rss_after_kib: 6_000 + 5 * clients,
            rss_end_kib: 6_000 + 5 * clients,
            cpu_s: 0.5,
            window_s: 25.0,
            client_cpu_s: None,
            open_at_end: clients,
            kernel_tcp_kib: None,
            load_1m: Some(2.0),
            instances: Some(6),
            kernel_before: Some(KernelMemory {
                slab_kib: None,
                socket_slab_kib: Some(1_000.0),
                caches_kib: Default::default(),
                tcp_kib: Some(0.0),
            }),
            kernel_after: Some(KernelMemory {
                slab_kib: None,
                socket_slab_kib: Some(1_000.0 + 4.0 * clients as f64),
                caches_kib: Default::default(),
                tcp_kib: Some(0.5 * clients as f64),
            }),
            redis: Some(RedisFigures {
                cpu_s: 0.05,
                connect_cpu_s: 1.5,
                used_memory_before_kib: 900.0,
                used_memory_kib: 1_900.0,
                rss_kib: 8_000.0,
                clients: 12.0,
            }),
        }
    }

    #[test]
    fn figures_are_per_connection_and_per_second() {
        let r = IdleResult {
            implementation: "x".into(),
            idle_s: 25.0,
            per_job: 100,
            runs: vec![run(100_000)],
        };
        let md = section(&[r]);
        // 5 KiB RSS and 4 KiB slab per connection; 0.5 s over 100 000 x 25 s = 0.2 µs;
        // Redis: 50 ms over 25 s = 2 ms/s, 1000 KiB more memory.
        assert!(
            md.contains(
                "| 100000 | 20.0 | 5.00 | 5.00 | 4.00 | 0.50 | 0.200 | 2.00 | 1.50 | 1000 | 2.00 |"
            ),
            "{md}"
        );
        assert!(md.contains("over 6 instances"), "{md}");
    }

    #[test]
    fn nothing_measured_says_so() {
        assert!(section(&[]).starts_with("## 2d."));
        assert!(section(&[]).contains("Not measured in this run"));
    }
}
