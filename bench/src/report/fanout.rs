//! The fan-out sections: ours against Socket.IO, both read by the one
//! neutral load generator (`bench/loadgen`), with our full `Session` client
//! as a second figure; the goals as ratios of the same run; and one instance
//! in memory against two on Redis.

use std::fmt::Write as _;

use super::sections::cell;
use crate::results::{FanoutResult, FanoutRun};
use crate::stats::Spread;

/// Every fan-out result measured at one subscriber count.
#[derive(Debug, Clone, Default)]
pub struct FanoutSize {
    /// Subscribers.
    pub clients: u64,
    /// Our server, neutral load generator.
    pub ours: Option<FanoutResult>,
    /// The Socket.IO peer, neutral load generator.
    pub socketio: Option<FanoutResult>,
    /// Our server, read by the native `Session` client.
    pub session: Option<FanoutResult>,
    /// Two of our instances sharing jobs through Redis, neutral load generator.
    pub redis: Option<FanoutResult>,
    /// The fan-out floor (`fanout-floor`), neutral load generator.
    pub floor: Option<FanoutResult>,
    /// Our server's event stream (`GET /ws/page/events`), one job per stream.
    pub sse: Option<FanoutResult>,
}

/// Per-run figures of a fan-out measurement, derived from the raw readings.
pub(super) struct Derived {
    mem_per_conn_kib: f64,
    cpu_pct: f64,
    cpu_ms_per_1k_msgs: f64,
    p50: Option<f64>,
    p99: Option<f64>,
    max: Option<f64>,
    final_p99: Option<f64>,
    finals_pct: f64,
    seqs_pct: f64,
    connect_s: f64,
    generator_cpu_pct: Option<f64>,
    job_s: Option<f64>,
}

pub(super) fn derive(r: &FanoutRun) -> Derived {
    let delivered = r.seqs_delivered.max(1) as f64;
    Derived {
        mem_per_conn_kib: (r.rss_after_kib as f64 - r.rss_before_kib as f64) / r.clients as f64,
        cpu_pct: r.cpu_s * 100.0 / r.window_s,
        cpu_ms_per_1k_msgs: r.cpu_s * 1000.0 / (delivered / 1000.0),
        p50: r.latency_p50_ms.map(|v| v as f64),
        p99: r.latency_p99_ms.map(|v| v as f64),
        max: r.latency_max_ms.map(|v| v as f64),
        final_p99: r.final_latency_p99_ms.map(|v| v as f64),
        finals_pct: r.finals_received as f64 * 100.0 / r.finals_expected.max(1) as f64,
        seqs_pct: r.seqs_delivered as f64 * 100.0 / r.seqs_sent.max(1) as f64,
        connect_s: r.connect_ms as f64 / 1000.0,
        generator_cpu_pct: r.client_cpu_s.map(|c| c * 100.0 / r.window_s),
        job_s: r.job_ms_median.map(|v| v as f64 / 1000.0),
    }
}

type Pick = fn(&Derived) -> Option<f64>;

const MEMORY: Pick = |d| Some(d.mem_per_conn_kib);
const CPU_PER_1K: Pick = |d| Some(d.cpu_ms_per_1k_msgs);
const P99: Pick = |d| d.p99;

/// Table rows: label, decimals, and how to read the figure from one run.
const ROWS: [(&str, usize, Pick); 12] = [
    ("server memory per connection (KiB)", 1, MEMORY),
    ("server CPU during the job window (% of one core)", 0, |d| {
        Some(d.cpu_pct)
    }),
    ("server CPU per 1000 updates delivered (ms)", 2, CPU_PER_1K),
    ("update latency p50 (ms)", 0, |d| d.p50),
    ("update latency p99 (ms)", 0, P99),
    ("update latency max (ms)", 0, |d| d.max),
    ("final state latency p99 (ms)", 0, |d| d.final_p99),
    ("final state received (% of subscribers)", 1, |d| {
        Some(d.finals_pct)
    }),
    ("intermediate seqs delivered (% of emitted)", 1, |d| {
        Some(d.seqs_pct)
    }),
    (
        "job run time, due start to final state, median of jobs (s)",
        2,
        |d| d.job_s,
    ),
    ("time to connect everyone (s)", 2, |d| Some(d.connect_s)),
    (
        "load generator CPU during the window (% of one core, its own processes)",
        0,
        |d| d.generator_cpu_pct,
    ),
];

fn spread(r: Option<&FanoutResult>, pick: Pick) -> Option<Spread> {
    let runs = r.map(|r| r.runs.as_slice()).unwrap_or_default();
    Spread::of(runs.iter().map(derive).filter_map(|d| pick(&d)))
}

/// `a / b` of the medians, when both exist and `b` is not zero.
fn ratio(a: Option<Spread>, b: Option<Spread>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b.median != 0.0 => Some(a.median / b.median),
        _ => None,
    }
}

fn ratio_cell(r: Option<f64>) -> String {
    r.map_or_else(|| "n/a".into(), |r| format!("{r:.2}"))
}

fn runs(r: Option<&FanoutResult>) -> usize {
    r.map_or(0, |r| r.runs.len())
}

/// Sockets lost before their final state (neutral generator) or sessions
/// that fell back to polling (`Session` client), summed over runs.
fn lost(r: Option<&FanoutResult>) -> u64 {
    r.map_or(0, |r| r.runs.iter().map(|x| x.fell_back).sum())
}

/// The one-minute load averages at the start of `r`'s runs, in run order.
fn load_list(r: &FanoutResult) -> Option<String> {
    let loads: Vec<String> = r
        .runs
        .iter()
        .filter_map(|x| x.load_1m.map(|l| format!("{l:.2}")))
        .collect();
    (!loads.is_empty()).then(|| loads.join(", "))
}

/// One goal of the fan-out, as measured in this run.
#[derive(Debug, Clone, PartialEq)]
pub struct Goal {
    /// What is asked.
    pub name: String,
    /// The measured value, in words.
    pub measured: String,
    /// Met, missed, or not measured (`None`).
    pub met: Option<bool>,
}

/// The size at which the 10k goals are judged: 10 000 if measured, else the largest.
fn goal_size(sizes: &[FanoutSize]) -> Option<&FanoutSize> {
    sizes
        .iter()
        .find(|s| s.clients == 10_000)
        .or_else(|| sizes.iter().max_by_key(|s| s.clients))
}

/// The goals of the fan-out: ratios against Socket.IO at 10k in this run,
/// and our p99 at 1k subscribers with 10 updates per second.
pub fn goals(sizes: &[FanoutSize], fast: Option<&FanoutSize>) -> Vec<Goal> {
    let mut out = Vec::new();
    let at = goal_size(sizes);
    let n = at.map_or(0, |s| s.clients);
    let versus = |pick: Pick, limit: f64, name: String, what: &str| {
        let r = at.and_then(|s| {
            ratio(
                spread(s.ours.as_ref(), pick),
                spread(s.socketio.as_ref(), pick),
            )
        });
        Goal {
            name,
            measured: r.map_or_else(
                || "not measured".into(),
                |r| format!("{what} ours / Socket.IO = {r:.2} at {n} subscribers"),
            ),
            met: r.map(|r| r <= limit),
        }
    };
    out.push(versus(
        P99,
        1.0,
        "p99 latency at 10k subscribers <= Socket.IO's".into(),
        "p99",
    ));
    out.push(versus(
        MEMORY,
        1.0 / 3.0,
        "server memory per connection <= 1/3 of Socket.IO's".into(),
        "memory per connection",
    ));
    out.push(versus(
        CPU_PER_1K,
        0.6,
        "server CPU per 1000 updates delivered <= 0.6 of Socket.IO's".into(),
        "CPU per 1000 updates",
    ));
    let r = at.and_then(|s| {
        ratio(
            spread(s.ours.as_ref(), CPU_PER_1K),
            spread(s.floor.as_ref(), CPU_PER_1K),
        )
    });
    out.push(Goal {
        name: "server CPU per 1000 updates delivered <= 1.3x the floor's".into(),
        measured: r.map_or_else(
            || "not measured".into(),
            |r| format!("CPU per 1000 updates ours / floor = {r:.2} at {n} subscribers"),
        ),
        met: r.map(|r| r <= 1.3),
    });
    let p99 = fast.and_then(|f| spread(f.ours.as_ref(), P99));
    out.push(Goal {
        name: "p99 < 50 ms at 1k subscribers x 10 updates/s".into(),
        measured: p99.map_or_else(
            || "not measured".into(),
            |p| {
                format!(
                    "p99 {} ms at {} subscribers",
                    cell(Some(p), 0),
                    fast.map_or(0, |f| f.clients)
                )
            },
        ),
        met: p99.map(|p| p.median < 50.0),
    });
    out
}

fn table_ours_vs_socketio(s: &mut String, size: &FanoutSize) {
    let (ours, sio, session, floor) = (
        size.ours.as_ref(),
        size.socketio.as_ref(),
        size.session.as_ref(),
        size.floor.as_ref(),
    );
    // The floor's columns only where it was measured.
    let (floor_head, floor_rule) = match floor {
        Some(_) => (" floor | ", "---:|"),
        None => (" ", ""),
    };
    let floor_ratios = match floor {
        Some(_) => (" ours / floor | Socket.IO / floor |", "---:|---:|"),
        None => ("", ""),
    };
    // The `Session`-client column only where that client was measured.
    let (head, rule) = match session {
        Some(_) => (" ours, full `Session` client |", "---:|"),
        None => ("", ""),
    };
    let _ = writeln!(
        s,
        "| figure | ours | Socket.IO |{floor_head}ours / Socket.IO |{}{head}\n|---|---:|---:|{floor_rule}---:|{}{rule}",
        floor_ratios.0, floor_ratios.1
    );
    for (name, digits, pick) in ROWS {
        let (a, b, f) = (spread(ours, pick), spread(sio, pick), spread(floor, pick));
        let extra = match session {
            Some(_) => format!(" {} |", cell(spread(session, pick), digits)),
            None => String::new(),
        };
        let (floor_cell, versus_floor) = match floor {
            Some(_) => (
                format!(" {} |", cell(f, digits)),
                format!(
                    " {} | {} |",
                    ratio_cell(ratio(a, f)),
                    ratio_cell(ratio(b, f))
                ),
            ),
            None => (String::new(), String::new()),
        };
        let _ = writeln!(
            s,
            "| {name} | {} | {} |{floor_cell} {} |{versus_floor}{extra}",
            cell(a, digits),
            cell(b, digits),
            ratio_cell(ratio(a, b)),
        );
    }
    let _ = write!(
        s,
        "\nSockets lost before their final state: ours {}, Socket.IO {}.",
        lost(ours),
        lost(sio)
    );
    if floor.is_some() {
        let _ = write!(s, " Floor: {}.", lost(floor));
    }
    let loads: Vec<String> = [("ours", ours), ("Socket.IO", sio), ("floor", floor)]
        .iter()
        .filter_map(|(name, r)| Some(format!("{name} {}", load_list(r.as_ref()?)?)))
        .collect();
    if !loads.is_empty() {
        let _ = write!(
            s,
            " One-minute load average at the start of each run: {}.",
            loads.join("; ")
        );
    }
    if session.is_some() {
        let _ = write!(
            s,
            " `Session` clients that fell back to HTTP polling: {}.",
            lost(session)
        );
    }
    s.push_str("\n\n");
}

/// The page connection under load: our page socket following several jobs
/// against a Socket.IO client in as many rooms; `None` when not measured.
fn page_table(page: Option<&FanoutSize>) -> Option<String> {
    let z = page.filter(|z| z.ours.is_some() || z.socketio.is_some())?;
    let per_socket = z
        .ours
        .as_ref()
        .or(z.socketio.as_ref())
        .and_then(|r| r.runs.first())
        .map_or(1, |r| r.finals_expected / r.clients.max(1));
    let mut s = String::new();
    let _ = writeln!(
        s,
        "### {} page connections, {per_socket} jobs each ({} subscriptions; runs: {} ours, {} Socket.IO)\n\n\
         The same workload and generator; each connection follows {per_socket} jobs and every job still has \
         the same number of subscribers. Ours: one `/ws/page` socket per connection, the jobs named in one \
         `subscribe`; Socket.IO: one client per connection joining {per_socket} rooms (`?job=a,b,...`). Memory \
         is per connection; CPU per update, finals and deliveries per subscription.\n",
        z.clients,
        z.clients * per_socket,
        runs(z.ours.as_ref()),
        runs(z.socketio.as_ref())
    );
    table_ours_vs_socketio(&mut s, z);
    Some(s)
}

/// Section 2–3: ours against Socket.IO at every size, the 10 updates/s run and the goals.
#[cfg(test)]
pub fn versus_socketio(sizes: &[FanoutSize], fast: Option<&FanoutSize>) -> String {
    versus_socketio_with_pages(sizes, fast, None)
}

/// Section 2–3 with the page-connection table when it was measured.
pub fn versus_socketio_with_pages(
    sizes: &[FanoutSize],
    fast: Option<&FanoutSize>,
    page: Option<&FanoutSize>,
) -> String {
    let mut s = String::from("## 2–3. Server fan-out, against Socket.IO 4\n\n");
    let Some(w) = sizes
        .iter()
        .find_map(|z| z.ours.as_ref().or(z.socketio.as_ref()))
    else {
        s.push_str("Not measured in this run.\n\n");
        return s;
    };
    let _ = writeln!(
        s,
        "Workload: N subscribers on loopback, one job per {} subscribers, every job emitting one \
         progress update each {} ms ({} steps per stage, 4 stages, plus a stage start for each stage \
         after the first and the final state). The jobs are started evenly spread over one step \
         period ({} ms / number of jobs apart), so their updates fall at different moments, as real \
         jobs' do; the generator asks for all the jobs at once, each with its own start time \
         (`start_in_ms`), which the server keeps with its own timer (paced by the generator's \
         event loop instead, the starts went out late and in bursts of up to 11 jobs in one \
         millisecond). Each job keeps its steps to a schedule from its start, on both servers, so a \
         step that fires late does not push the rest of the job back. A job's nominal run time is \
         {:.2} s. Subscribers connect first (in batches of \
         500); the window ends when every subscriber holds its job's final state (or 20 s after \
         the jobs' nominal end).\n",
        w.per_job,
        w.step_ms,
        w.steps_per_stage,
        w.step_ms,
        (4 * w.steps_per_stage * w.step_ms) as f64 / 1000.0
    );
    s.push_str(
        "- **One load generator for both** (`bench/loadgen`): one Node process per CPU, each \
         holding its share of the subscribers as minimal WebSocket clients on plain TCP sockets; \
         the same code reads both servers and takes `seq`, `state` and `updated_at_ms` from each \
         frame with one scan of its text (no full JSON parse: on 2 CPUs the generator's cost per \
         frame, not the servers', decides what it can read). Ours: `GET /ws/progress/{id}` \
         frames. Socket.IO: its WebSocket transport spoken directly (Engine.IO v4 open, namespace \
         connect, ping answered with pong, `42[\"progress\",…]` events), the bytes \
         socket.io-client reads. Our server closes a socket after the final state; the generator \
         answers those close frames once its sockets hold their final states (or after 800 ms), \
         because thousands of close replies answered at once delayed its reading of other \
         sockets' finals (each real client closes on its own machine).\n\
         - **Servers**: `upload-progress-server` (release build), jobs started with \
         `POST /ws/test/{id}`; `bench/socketio/server.js` (socket.io 4, WebSocket transport only, no \
         compression), jobs started with `POST /test/{id}`, each client in its job's room. Both \
         stamp `updated_at_ms` when the job emits the update, before the fan-out, and both emit \
         the same `Progress` JSON.\n\
         - **Floor** (where measured): `fanout-floor` (`bench/src/floor/`, release build with the \
         bench's speed profile), the least a program must do to deliver the same frames over the \
         same kind of sockets: `std` TCP, the WebSocket handshake written by hand, no framework, \
         one thread keeping every job's schedule and, for each due state, serializing it once and \
         writing that frame to each of the job's subscriber sockets in one pass of non-blocking \
         `write` calls (a socket that cannot take it keeps the rest in its own buffer). It speaks \
         our paths and frames (same `Progress` values; messages within a few bytes), sends every \
         state like Socket.IO, closes after the final state like ours, and reads nothing from the \
         clients. Its CPU, latency and memory are the floor of the machine and the generator \
         for this workload; ours / floor says how much the server adds to it.\n\
         - **Latency**: `Date.now()` in the receiving process, read before parsing, minus the \
         server's `updated_at_ms` (one clock, ms resolution); snapshots excluded.\n\
         - **Memory per connection**: server `VmRSS` with everyone connected minus before anyone \
         connected, divided by N. **CPU**: `utime + stime` of the server process (`/proc/PID/stat`) \
         over the job window; per 1000 updates delivered = that CPU over the updates the subscribers \
         received. Load generator CPU: the same reading of its own worker processes only.\n\
         - **Job run time**: from the job's due start to the `updated_at_ms` of its final \
         state. A server that cannot keep up either sends late (latency grows) or emits late (its \
         jobs stretch beyond the nominal time while latency stays low: a single event loop cannot \
         fire a job's next step while it is still writing other jobs' frames); this row shows the \
         second.\n\
         - **Delivery**: subscribers holding the final state; distinct seqs received over seqs \
         emitted × subscribers. The protocol promises the latest and the final state, not every \
         intermediate one: our server keeps only the newest state per job, so updates emitted back to \
         back (the last step of a stage and the next stage's start; the last step and the final \
         state) can reach a subscriber as one. Socket.IO forwards every emit.\n\
         - **Ours, full `Session` client**: the same server and workload read by \
         `upload-progress-bench fanout`, one tokio process running the core `Session` per \
         subscriber (heartbeats, reconnects, fallback, as in the browser), jobs started at once. \
         It measures our client stack as much as the server; its latency is not comparable with \
         the two columns to its left.\n\
         - Ratio = ours / Socket.IO of the medians (below 1 is better for ours on cost and latency).\n\n",
    );
    for size in sizes
        .iter()
        .filter(|z| z.ours.is_some() || z.socketio.is_some())
    {
        let n = size.clients;
        let _ = writeln!(
            s,
            "### {n} subscribers ({} jobs; runs: {} ours, {} Socket.IO{})\n",
            n.div_ceil(w.per_job.max(1)),
            runs(size.ours.as_ref()),
            runs(size.socketio.as_ref()),
            match runs(size.session.as_ref()) {
                0 => String::new(),
                k => format!(", {k} `Session` client"),
            }
        );
        table_ours_vs_socketio(&mut s, size);
    }
    if let Some(f) = fast.filter(|f| f.ours.is_some() || f.socketio.is_some()) {
        let step = f
            .ours
            .as_ref()
            .or(f.socketio.as_ref())
            .map_or(0, |r| r.step_ms);
        let _ = writeln!(
            s,
            "### {} subscribers at {} updates/s per job (step {step} ms; runs: {} ours, {} Socket.IO)\n",
            f.clients,
            1000 / step.max(1),
            runs(f.ours.as_ref()),
            runs(f.socketio.as_ref())
        );
        table_ours_vs_socketio(&mut s, f);
    }
    if let Some(t) = page_table(page) {
        s.push_str(&t);
    }
    s.push_str(&goals_table(&goals(sizes, fast)));
    s
}

fn goals_table(goals: &[Goal]) -> String {
    let mut s = String::from(
        "### Goals, as measured in this run\n\n| goal | measured | met |\n|---|---|---|\n",
    );
    for g in goals {
        let met = match g.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "n/a",
        };
        let _ = writeln!(s, "| {} | {} | {met} |", g.name, g.measured);
    }
    s.push('\n');
    s
}

/// The event-stream rung against the job socket, same server, generator and workload.
pub fn versus_sse(size: Option<&FanoutSize>) -> String {
    let mut s = String::from("### The event stream against the socket\n\n");
    let Some(z) = size.filter(|z| z.ours.is_some() && z.sse.is_some()) else {
        s.push_str("Not measured in this run.\n\n");
        return s;
    };
    let (ws, sse) = (z.ours.as_ref(), z.sse.as_ref());
    let _ = writeln!(
        s,
        "{} subscribers of the same workload, each reading one job, alternately over our job socket \
         (`GET /ws/progress/{{id}}`) and over the event stream of the page protocol's last rung \
         (`GET /ws/page/events?ids={{id}}`, chunked `text/event-stream`, read by `bench/loadgen/sse.js` \
         with the same one-scan reading of each event's `data`). Runs: {} socket, {} stream. Ratio = \
         stream / socket of the medians.\n",
        z.clients,
        runs(ws),
        runs(sse)
    );
    s.push_str("| figure | socket | event stream | stream / socket |\n|---|---:|---:|---:|\n");
    for (name, digits, pick) in ROWS {
        let (a, b) = (spread(ws, pick), spread(sse, pick));
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {} |",
            cell(a, digits),
            cell(b, digits),
            ratio_cell(ratio(b, a))
        );
    }
    let loads: Vec<String> = [("socket", ws), ("stream", sse)]
        .iter()
        .filter_map(|(name, r)| Some(format!("{name} {}", load_list(r.as_ref()?)?)))
        .collect();
    let _ = writeln!(
        s,
        "\nSubscribers lost before their final state: socket {}, stream {}. One-minute load average at the start of each run: {}.\n",
        lost(ws),
        lost(sse),
        loads.join("; ")
    );
    s
}

/// Section 2b: one instance in memory against two on Redis, same generator and workload.
pub fn versus_redis(sizes: &[FanoutSize]) -> String {
    let mut s = String::from("## 2b. Server fan-out: one instance in memory, two on Redis\n\n");
    let pairs: Vec<&FanoutSize> = sizes
        .iter()
        .filter(|z| z.ours.is_some() && z.redis.is_some())
        .collect();
    if pairs.is_empty() {
        s.push_str("Not measured in this run.\n\n");
        return s;
    }
    s.push_str(
        "The fan-out workload and load generator of section 2–3, in the same run. One instance: \
         the \"ours\" column there. Two instances on Redis: two `upload-progress-server --redis-url` \
         processes on one local `redis-server`; every job starts on the first, subscribers \
         alternate between the two, so half of them receive each update through Redis (written by \
         a Lua compare-and-set, published, copied by the second instance). Memory and CPU are both \
         processes together (Redis itself not counted); memory per connection divides by all N \
         subscribers. Ratio = Redis / memory of the medians: what the broker costs.\n\n",
    );
    for z in pairs {
        let (one, two) = (z.ours.as_ref(), z.redis.as_ref());
        let _ = writeln!(
            s,
            "### {} subscribers ({} runs one instance, {} runs two on Redis)\n",
            z.clients,
            runs(one),
            runs(two)
        );
        s.push_str(
            "| figure | 1 instance, memory | 2 instances, Redis | Redis / memory |\n|---|---:|---:|---:|\n",
        );
        for (name, digits, pick) in ROWS {
            let (a, b) = (spread(one, pick), spread(two, pick));
            let _ = writeln!(
                s,
                "| {name} | {} | {} | {} |",
                cell(a, digits),
                cell(b, digits),
                ratio_cell(ratio(b, a))
            );
        }
        let _ = writeln!(
            s,
            "\nSockets lost before their final state: one instance {}, two on Redis {}.\n",
            lost(one),
            lost(two)
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(clients: u64, p99: u64, rss_after_kib: u64, cpu_s: f64) -> FanoutRun {
        FanoutRun {
            clients,
            jobs: clients / 100,
            connect_ms: 1000,
            rss_before_kib: 0,
            rss_after_kib,
            cpu_s,
            window_s: 5.0,
            client_cpu_s: Some(1.0),
            latency_p50_ms: Some(1),
            latency_p99_ms: Some(p99),
            latency_max_ms: Some(p99 * 2),
            latency_samples: 10,
            final_latency_p99_ms: None,
            finals_received: clients,
            finals_expected: clients,
            seqs_delivered: 1000,
            seqs_sent: 1000,
            fell_back: 0,
            job_ms_median: Some(5000),
            job_ms_max: Some(5100),
            load_1m: None,
        }
    }

    fn result(runs: Vec<FanoutRun>) -> Option<FanoutResult> {
        Some(FanoutResult {
            implementation: "x".into(),
            generator: None,
            per_job: 100,
            step_ms: 250,
            steps_per_stage: 5,
            runs,
        })
    }

    #[test]
    fn goals_are_judged_on_ratios_of_medians_at_10k() {
        let sizes = vec![
            FanoutSize {
                clients: 1000,
                // At 1k ours is worse everywhere; the goals must not look here.
                ours: result(vec![run(1000, 500, 100_000, 10.0)]),
                socketio: result(vec![run(1000, 10, 1000, 1.0)]),
                ..Default::default()
            },
            FanoutSize {
                clients: 10_000,
                ours: result(vec![
                    run(10_000, 80, 20_000, 0.5),
                    run(10_000, 120, 20_000, 0.5),
                ]),
                socketio: result(vec![run(10_000, 90, 90_000, 1.0)]),
                ..Default::default()
            },
        ];
        let fast = FanoutSize {
            clients: 1000,
            ours: result(vec![run(1000, 60, 1, 1.0)]),
            ..Default::default()
        };
        let g = goals(&sizes, Some(&fast));
        // p99: median of 80 and 120 is 100, against 90: missed.
        assert_eq!(g[0].met, Some(false));
        assert!(g[0].measured.contains("1.11"), "{}", g[0].measured);
        // Memory 2.0 against 9.0 KiB per connection: 0.22 <= 1/3.
        assert_eq!(g[1].met, Some(true));
        // CPU per 1000 updates: 0.5 against 1.0: 0.5 <= 0.6.
        assert_eq!(g[2].met, Some(true));
        // No floor measured: the floor goal is not judged.
        assert_eq!(g[3].met, None);
        // p99 60 ms at 10 updates/s: missed.
        assert_eq!(g[4].met, Some(false));
    }

    #[test]
    fn goals_without_measurements_say_so() {
        let g = goals(&[], None);
        assert_eq!(g.len(), 5);
        assert!(g
            .iter()
            .all(|g| g.met.is_none() && g.measured == "not measured"));
    }

    #[test]
    fn tables_show_ratio_and_session_column() {
        let sizes = vec![FanoutSize {
            clients: 1000,
            ours: result(vec![run(1000, 20, 10_000, 1.0)]),
            socketio: result(vec![run(1000, 40, 30_000, 2.0)]),
            session: result(vec![run(1000, 70, 12_000, 1.5)]),
            redis: result(vec![run(1000, 30, 15_000, 1.2)]),
            floor: None,
            sse: None,
        }];
        let md = versus_socketio(&sizes, None);
        assert!(
            md.contains("| update latency p99 (ms) | 20 | 40 | 0.50 | 70 |"),
            "{md}"
        );
        let md = versus_redis(&sizes);
        assert!(
            md.contains("| server memory per connection (KiB) | 10.0 | 15.0 | 1.50 |"),
            "{md}"
        );
    }

    #[test]
    fn session_column_only_where_measured() {
        let sizes = vec![FanoutSize {
            clients: 10_000,
            ours: result(vec![run(10_000, 20, 10_000, 1.0)]),
            socketio: result(vec![run(10_000, 40, 30_000, 2.0)]),
            ..Default::default()
        }];
        let md = versus_socketio(&sizes, None);
        assert!(
            md.contains("| update latency p99 (ms) | 20 | 40 | 0.50 |\n"),
            "{md}"
        );
        assert!(
            !md.contains("`Session` client |") && !md.contains("fell back"),
            "{md}"
        );
    }

    #[test]
    fn the_floor_adds_its_column_ratios_and_goal() {
        let sizes = vec![FanoutSize {
            clients: 10_000,
            ours: result(vec![run(10_000, 20, 10_000, 1.2)]),
            socketio: result(vec![run(10_000, 40, 30_000, 2.0)]),
            floor: result(vec![run(10_000, 10, 2_000, 1.0)]),
            ..Default::default()
        }];
        let md = versus_socketio(&sizes, None);
        assert!(
            md.contains("| update latency p99 (ms) | 20 | 40 | 10 | 0.50 | 2.00 | 4.00 |\n"),
            "{md}"
        );
        assert!(
            md.contains("| ours / Socket.IO | ours / floor | Socket.IO / floor |"),
            "{md}"
        );
        let g = goals(&sizes, None);
        // 1.2 against the floor's 1.0: within 1.3x.
        assert_eq!(g[3].met, Some(true));
        assert!(g[3].measured.contains("1.20"), "{}", g[3].measured);
    }

    #[test]
    fn the_event_stream_is_compared_with_the_socket() {
        let z = FanoutSize {
            clients: 1000,
            ours: result(vec![run(1000, 10, 10_000, 1.0)]),
            sse: result(vec![run(1000, 20, 20_000, 1.5)]),
            ..Default::default()
        };
        let md = versus_sse(Some(&z));
        assert!(
            md.contains("| update latency p99 (ms) | 10 | 20 | 2.00 |"),
            "{md}"
        );
        assert!(versus_sse(None).contains("Not measured in this run."));
    }

    #[test]
    fn the_page_table_counts_subscriptions_per_connection() {
        let mut ours = run(1000, 12, 20_000, 1.0);
        ours.finals_expected = 10_000;
        let mut sio = run(1000, 30, 40_000, 2.0);
        sio.finals_expected = 10_000;
        let page = FanoutSize {
            clients: 1000,
            ours: result(vec![ours]),
            socketio: result(vec![sio]),
            ..Default::default()
        };
        let sizes = vec![FanoutSize {
            clients: 10_000,
            ours: result(vec![run(10_000, 20, 10_000, 1.0)]),
            socketio: result(vec![run(10_000, 40, 30_000, 2.0)]),
            ..Default::default()
        }];
        let md = versus_socketio_with_pages(&sizes, None, Some(&page));
        assert!(
            md.contains("### 1000 page connections, 10 jobs each (10000 subscriptions"),
            "{md}"
        );
        assert!(
            md.contains("| update latency p99 (ms) | 12 | 30 | 0.40 |"),
            "{md}"
        );
        assert!(!versus_socketio(&sizes, None).contains("page connections"));
    }

    #[test]
    fn missing_results_are_not_measured() {
        assert!(versus_socketio(&[], None).contains("Not measured in this run."));
        assert!(versus_redis(&[]).contains("Not measured in this run."));
    }
}
