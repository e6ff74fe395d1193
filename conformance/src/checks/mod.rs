//! The checks, their names and the order they run in.

mod http_poll;
mod input;
mod job;
mod page;
mod set;
mod settled;
mod socket_ids;
mod tokens;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use crate::wire::{Progress, ServerMessage};

use crate::http::Http;
use crate::ids::Ids;
use crate::options::{Options, Pace};
use crate::report::Report;
use crate::socket::{Event, Socket};

/// Every check, in run order, with the section of PROTOCOL.md it holds the server to.
pub const CHECKS: &[(&str, &str)] = &[
    ("http.reachable", "the server answers HTTP at the base URL"),
    (
        "http.unknown_id_404",
        "6.3: an unknown id polls as 404 unknown_process, JSON error",
    ),
    (
        "http.invalid_id_400",
        "2, 6.3: an invalid id polls as 400 invalid_process_id, JSON error",
    ),
    (
        "ws.invalid_id_4400",
        "2, 4.9: an invalid id is upgraded and closed 4400, no snapshot",
    ),
    (
        "job.snapshot_first",
        "4.2: the first frame on a socket is a snapshot",
    ),
    (
        "job.progress_shape",
        "3.1: every state is a well-formed Progress of the job",
    ),
    (
        "job.seq_increases",
        "3.2: seq strictly increases over a whole job",
    ),
    (
        "job.percent_never_decreases",
        "3.2: percent never decreases over a whole job",
    ),
    (
        "job.close_1000_after_terminal",
        "3.3, 4.4: a terminal state is final and followed by close 1000",
    ),
    (
        "http.progress_etag",
        "6.1: a poll gives {\"progress\"}, ETag \"<seq>\", Cache-Control no-store",
    ),
    (
        "http.if_none_match_304",
        "6.2: If-None-Match with the current ETag gives 304",
    ),
    (
        "ws.late_join_final_snapshot",
        "4.4: a socket opened after the end gets the final snapshot, then close 1000",
    ),
    (
        "ws.pending_then_running",
        "4.5: an id subscribed before its job gets a pending seq 0 snapshot, then the job",
    ),
    (
        "ws.ping_pong",
        "4.6: every ping {id} is answered by a pong with the same id",
    ),
    (
        "ws.malformed_json_error",
        "4.8: malformed JSON gets an error frame bad_message",
    ),
    (
        "ws.unknown_type_error",
        "4.8: a message of an unknown type gets an error frame bad_message",
    ),
    (
        "ws.oversized_1009",
        "4.8: a message over 64 KiB gets close 1009",
    ),
    (
        "ws.server_survives_bad_input",
        "4.8: after bad input a fresh socket gets its snapshot and pongs",
    ),
    (
        "ws.unknown_id_4404_after_grace",
        "4.5: an id that never gets a job is closed 4404 after the grace",
    ),
    (
        "job.terminal_stage_fields",
        "3.4: a completed job names its last stage, every stage done",
    ),
    (
        "job.keeps_pace",
        "8.1: a job started at a pace takes about as long as asked (not instantly)",
    ),
    (
        "http.percent_encoded_id",
        "2: a percent-encoded id is the decoded id",
    ),
    (
        "http.method_not_allowed_405",
        "6.3: a method a protocol path does not take gets 405, Allow and a JSON error",
    ),
    (
        "http.unknown_route_404",
        "6.3: a path the protocol does not define gets 404",
    ),
    (
        "ws.ping_id_above_2_53",
        "4.6: a ping id above 2^53 comes back exactly",
    ),
    (
        "ws.ping_float_id_bad_message",
        "4.6: a ping id 17.0 is not an integer: bad_message",
    ),
    (
        "scripted.answer",
        "8.1: the scripted endpoint answers 202 {process_id}, 409 for a taken id, and starts running at stage 0",
    ),
    (
        "scripted.bad_input_400",
        "8.1: unusable scripted parameters get 400 bad_query and start nothing",
    ),
    (
        "scripted.fail_at_stage",
        "8.1, 3.4: fail_at_stage counts from 0; the failed job names the stage that failed",
    ),
    (
        "page.snapshot_per_job",
        "11.1: on the page socket each subscription starts with its own snapshot",
    ),
    (
        "page.seq_per_job",
        "11.1: seq increases per job; each job is followed to its terminal state",
    ),
    (
        "page.open_after_jobs_end",
        "11.1: the page socket stays open after its jobs ended",
    ),
    (
        "page.bad_job_error_frame",
        "11.3: a bad job is an error frame naming it; the socket and other jobs go on",
    ),
    (
        "page.unknown_after_grace",
        "11.3: an id without a job gets an error frame unknown_process after the grace",
    ),
    (
        "page.subscription_cap",
        "11.2: at least 100 jobs per connection; the next gets too_many_subscriptions",
    ),
    (
        "page.oversized_1009",
        "11.2, 4.8: a subscribe frame over 64 KiB gets message_too_big and close 1009",
    ),
    (
        "set.poll_entries",
        "11.4: one poll answers each asked job (state or its own error), in order",
    ),
    (
        "set.poll_304",
        "11.4: the set's ETag in If-None-Match gives 304",
    ),
    (
        "set.events_name_jobs",
        "11.5: the event stream is text/event-stream, each event names its job, snapshots first",
    ),
    (
        "set.events_reconnect_snapshots",
        "11.5: a second connection gets every job's snapshot again",
    ),
    (
        "set.events_follow",
        "11.5: the event stream follows a job to its terminal state",
    ),
    (
        "set.events_keepalive",
        "11.5: a quiet event stream gets a keepalive event within 15 s",
    ),
    (
        "ws.token_missing_4401",
        "7: with tokens, a socket without one is closed 4401 (--tokens)",
    ),
    (
        "http.token_missing_401",
        "7, 6.3: with tokens, a poll without one gets 401 token_missing (--tokens)",
    ),
];

/// What every check gets: the options, an HTTP client and fresh ids.
pub struct Ctx {
    /// The run's options.
    pub opts: Options,
    /// HTTP client with the run's timeout.
    pub http: Http,
    /// Id generator.
    pub ids: Ids,
    /// Job tokens by id, when the server requires them.
    tokens: Mutex<HashMap<String, String>>,
}

impl Ctx {
    /// `GET` URL of a job's progress.
    pub fn progress_url(&self, id: &str) -> String {
        format!("{}/ws/progress/{id}", self.opts.base())
    }

    /// Socket URL of a job's progress, with `?token=` when the job has one.
    pub fn ws_url(&self, id: &str) -> String {
        let url = self.bare_ws_url(id);
        match self.token(id) {
            Some(token) => format!("{url}?token={token}"),
            None => url,
        }
    }

    /// Socket URL of a job's progress, never with a token.
    pub fn bare_ws_url(&self, id: &str) -> String {
        format!("{}/ws/progress/{id}", self.opts.ws_base())
    }

    /// The job's token, if the server gave one.
    pub fn token(&self, id: &str) -> Option<String> {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    /// `Authorization: Bearer` value for polls of the job, if it has a token.
    pub fn bearer(&self, id: &str) -> Option<String> {
        self.token(id).map(|t| format!("Bearer {t}"))
    }

    /// Starts a job and keeps its token.
    pub async fn start_job(&self, id: &str, pace: Pace) -> Result<(), String> {
        if let Some(token) = self.http.start_job(&self.opts, id, pace).await? {
            self.tokens
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id.to_owned(), token);
        }
        Ok(())
    }

    /// Keeps a token the kit got outside [`Self::start_job`].
    pub fn remember_token(&self, id: &str, token: &str) {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_owned(), token.to_owned());
    }

    /// Opens a job socket.
    pub async fn open(&self, id: &str) -> Result<Socket, String> {
        Socket::connect(&self.ws_url(id), self.opts.timeout).await
    }

    /// Opens a job socket and reads its first frame, which must be a snapshot.
    pub async fn open_with_snapshot(&self, id: &str) -> Result<(Socket, Progress), String> {
        let mut socket = self.open(id).await?;
        match socket.next().await {
            Event::Frame(ServerMessage::Snapshot { progress }) => Ok((socket, progress)),
            Event::Frame(ServerMessage::Error { code, .. }) if code.starts_with("token_") => {
                Err(format!(
                    "PROTOCOL.md 4.2: the first frame must be a snapshot; got an `error` frame `{code}` (the server requires tokens: run the kit with --tokens)"
                ))
            }
            other => Err(format!(
                "PROTOCOL.md 4.2: the first frame must be a snapshot; got {}",
                other.describe()
            )),
        }
    }
}

/// Runs every check against the server in `opts` and returns the report.
///
/// Never panics on a misbehaving server: every wait is bounded by the
/// options' timeouts and every problem becomes a failed check.
pub async fn run(opts: Options) -> Report {
    let mut report = Report::new(opts.echo);
    if let Err(why) = opts.validate() {
        report.record("http.reachable", Err(why));
        return report;
    }
    let http = match Http::new(opts.timeout) {
        Ok(http) => http,
        Err(why) => {
            report.record("http.reachable", Err(why));
            return report;
        }
    };
    let ctx = Ctx {
        opts,
        http,
        ids: Ids::new(),
        tokens: Mutex::new(HashMap::new()),
    };

    let reachable = http_poll::reachable(&ctx).await;
    let up = reachable.is_ok();
    report.record("http.reachable", reachable);
    if !up {
        report.note("the server could not be reached, so no other check ran");
        return report;
    }
    // The keep-alive check waits on a quiet stream for up to 15 s: it runs
    // beside the others rather than adding its wait to theirs.
    let keepalive = async {
        if ctx.opts.skips("set.events_keepalive") {
            None
        } else {
            Some(set::events_keepalive(&ctx).await)
        }
    };
    let (keepalive, ()) = tokio::join!(keepalive, in_order(&mut report, &ctx));
    match keepalive {
        Some(result) => report.record("set.events_keepalive", result),
        None => report.skip("set.events_keepalive", "skipped with --skip"),
    }
    report
}

/// Every check but the keep-alive one, one after another.
async fn in_order(report: &mut Report, ctx: &Ctx) {
    jobless(
        report,
        ctx,
        "http.unknown_id_404",
        http_poll::unknown_id_404(ctx),
    )
    .await;
    step(
        report,
        ctx,
        "http.invalid_id_400",
        http_poll::invalid_id_400(ctx),
    )
    .await;
    step(
        report,
        ctx,
        "ws.invalid_id_4400",
        socket_ids::invalid_id_4400(ctx),
    )
    .await;

    // One whole job, followed from a socket, feeds the next eight checks.
    let trace = job::follow(ctx).await;
    for (name, result) in job::judge(&trace) {
        record_unless_skipped(report, ctx, name, result);
    }
    step(
        report,
        ctx,
        "http.progress_etag",
        http_poll::progress_etag(ctx, &trace),
    )
    .await;
    step(
        report,
        ctx,
        "http.if_none_match_304",
        http_poll::if_none_match_304(ctx, &trace),
    )
    .await;
    step(
        report,
        ctx,
        "ws.late_join_final_snapshot",
        job::late_join(ctx, &trace),
    )
    .await;
    jobless(
        report,
        ctx,
        "ws.pending_then_running",
        job::pending_then_running(ctx),
    )
    .await;

    // The input checks share one long job so their sockets stay open.
    let slow = input::SlowJob::start(ctx).await;
    step(report, ctx, "ws.ping_pong", input::ping_pong(ctx, &slow)).await;
    step(
        report,
        ctx,
        "ws.malformed_json_error",
        input::malformed_json(ctx, &slow),
    )
    .await;
    step(
        report,
        ctx,
        "ws.unknown_type_error",
        input::unknown_type(ctx, &slow),
    )
    .await;
    step(
        report,
        ctx,
        "ws.oversized_1009",
        input::oversized(ctx, &slow),
    )
    .await;
    step(
        report,
        ctx,
        "ws.server_survives_bad_input",
        input::survives(ctx, &slow),
    )
    .await;

    jobless(
        report,
        ctx,
        "ws.unknown_id_4404_after_grace",
        socket_ids::unknown_id_4404(ctx),
    )
    .await;

    let finished: Result<String, String> = trace.final_state().map(|_| trace.id.clone());
    step(
        report,
        ctx,
        "http.percent_encoded_id",
        settled::percent_encoded_id(ctx, &finished),
    )
    .await;
    step(
        report,
        ctx,
        "http.method_not_allowed_405",
        settled::method_not_allowed(ctx),
    )
    .await;
    step(
        report,
        ctx,
        "http.unknown_route_404",
        settled::unknown_route(ctx),
    )
    .await;
    step(
        report,
        ctx,
        "ws.ping_id_above_2_53",
        settled::ping_above_2_53(ctx, &slow),
    )
    .await;
    step(
        report,
        ctx,
        "ws.ping_float_id_bad_message",
        settled::ping_float_id(ctx, &slow),
    )
    .await;
    match settled::scripted_skip(ctx) {
        Some(why) => {
            for name in [
                "scripted.answer",
                "scripted.bad_input_400",
                "scripted.fail_at_stage",
            ] {
                report.skip(name, why);
            }
        }
        None => {
            step(
                report,
                ctx,
                "scripted.answer",
                settled::scripted_answer(ctx),
            )
            .await;
            step(
                report,
                ctx,
                "scripted.bad_input_400",
                settled::scripted_bad_input(ctx),
            )
            .await;
            step(
                report,
                ctx,
                "scripted.fail_at_stage",
                settled::scripted_fail_at_stage(ctx),
            )
            .await;
        }
    }

    // Protocol v1.1: many jobs over one connection.
    let two = page::follow_two(ctx).await;
    for (name, result) in page::judge(&two) {
        record_unless_skipped(report, ctx, name, result);
    }
    step(
        report,
        ctx,
        "page.bad_job_error_frame",
        page::bad_job_error_frame(ctx),
    )
    .await;
    jobless(
        report,
        ctx,
        "page.unknown_after_grace",
        page::unknown_after_grace(ctx),
    )
    .await;
    jobless(
        report,
        ctx,
        "page.subscription_cap",
        page::subscription_cap(ctx),
    )
    .await;
    step(report, ctx, "page.oversized_1009", page::oversized(ctx)).await;
    let set_jobs = set::SetJobs::start(ctx, finished.clone()).await;
    step(
        report,
        ctx,
        "set.poll_entries",
        set::set_poll(ctx, &set_jobs),
    )
    .await;
    step(report, ctx, "set.poll_304", set::set_poll_304(ctx)).await;
    step(
        report,
        ctx,
        "set.events_name_jobs",
        set::events(ctx, &set_jobs, false),
    )
    .await;
    step(
        report,
        ctx,
        "set.events_reconnect_snapshots",
        set::events(ctx, &set_jobs, true),
    )
    .await;
    step(report, ctx, "set.events_follow", set::events_follow(ctx)).await;

    if ctx.opts.tokens {
        let job = tokens::TokenJob::start(ctx).await;
        let without_socket = tokens::socket_without_token(ctx, &job);
        step(report, ctx, "ws.token_missing_4401", without_socket).await;
        let without_poll = tokens::poll_without_token(ctx, &job);
        step(report, ctx, "http.token_missing_401", without_poll).await;
    } else {
        for name in ["ws.token_missing_4401", "http.token_missing_401"] {
            let why = "the server does not require tokens (use --tokens for one that does)";
            report.skip(name, why);
        }
    }
}

/// A check that needs an id without a job: with tokens there is no token for it.
async fn jobless(
    report: &mut Report,
    ctx: &Ctx,
    name: &'static str,
    check: impl Future<Output = Result<(), String>>,
) {
    if ctx.opts.tokens && !ctx.opts.skips(name) {
        report.skip(name, "with --tokens: an id without a job has no token");
    } else {
        step(report, ctx, name, check).await;
    }
}

/// Runs one check unless it was asked to be skipped.
async fn step(
    report: &mut Report,
    ctx: &Ctx,
    name: &'static str,
    check: impl Future<Output = Result<(), String>>,
) {
    if ctx.opts.skips(name) {
        report.skip(name, "skipped with --skip");
    } else {
        report.record(name, check.await);
    }
}

fn record_unless_skipped(
    report: &mut Report,
    ctx: &Ctx,
    name: &'static str,
    result: Result<(), String>,
) {
    if ctx.opts.skips(name) {
        report.skip(name, "skipped with --skip");
    } else {
        report.record(name, result);
    }
}
