//! Checks over whole jobs: one followed from start to end, a late joiner,
//! and a socket that was there before its job.

use crate::wire::{JobState, Progress, ServerMessage};
use tokio::time::Instant;

use super::Ctx;
use crate::options::Pace;
use crate::rules;
use crate::socket::Event;

/// What a socket saw of one whole job.
#[derive(Debug)]
pub struct Trace {
    /// The job's id.
    pub id: String,
    /// `type` of the first frame, if any arrived.
    pub first: Option<&'static str>,
    /// Every state received, in order.
    pub states: Vec<Progress>,
    /// The `type` of each of `states`.
    pub kinds: Vec<&'static str>,
    /// What ended the socket (close, drop, silence, a bad or `error` frame).
    pub end: Option<Event>,
    /// Why the job could not be followed at all.
    pub setup: Option<String>,
    /// When the kit asked for the job.
    pub asked_at: Option<Instant>,
    /// When the terminal state arrived.
    pub ended_at: Option<Instant>,
}

impl Trace {
    /// The terminal state the socket ended on, or why there is none.
    pub fn final_state(&self) -> Result<&Progress, String> {
        if let Some(why) = &self.setup {
            return Err(format!("needs a followed job, but {why}"));
        }
        match self.states.last() {
            Some(p) if p.state.is_terminal() => Ok(p),
            _ => Err(format!(
                "needs a finished job, but the followed job never reached a terminal state ({})",
                self.end_text()
            )),
        }
    }

    fn end_text(&self) -> String {
        self.end
            .as_ref()
            .map_or_else(|| "no end".to_owned(), Event::describe)
    }
}

/// Starts a job and follows it on a socket until the socket ends.
pub async fn follow(ctx: &Ctx) -> Trace {
    let id = ctx.ids.fresh("whole_job");
    let mut trace = Trace {
        id: id.clone(),
        first: None,
        states: Vec::new(),
        kinds: Vec::new(),
        end: None,
        setup: None,
        asked_at: Some(Instant::now()),
        ended_at: None,
    };
    if let Err(why) = ctx.start_job(&id, Pace::FAST).await {
        trace.setup = Some(why);
        return trace;
    }
    let mut socket = match ctx.open(&id).await {
        Ok(s) => s,
        Err(why) => {
            trace.setup = Some(why);
            return trace;
        }
    };
    let deadline = Instant::now() + ctx.opts.job_timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let wait = left.min(ctx.opts.timeout);
        let event = socket.next_within(wait).await;
        if let Event::Frame(msg) = &event {
            trace.first.get_or_insert(rules::kind(msg));
        }
        match event {
            Event::Frame(ServerMessage::Snapshot { progress }) => {
                trace.kinds.push("snapshot");
                trace.states.push(progress);
            }
            Event::Frame(ServerMessage::Progress { progress }) => {
                if progress.state.is_terminal() {
                    trace.ended_at.get_or_insert_with(Instant::now);
                }
                trace.kinds.push("progress");
                trace.states.push(progress);
            }
            Event::Frame(ServerMessage::Pong { .. }) => {}
            other => {
                trace.end = Some(other);
                break;
            }
        }
        if left.is_zero() {
            trace.end = Some(Event::Silent(ctx.opts.job_timeout));
            break;
        }
    }
    socket.close().await;
    trace
}

/// The results of the checks that judge a followed job.
pub fn judge(trace: &Trace) -> Vec<(&'static str, Result<(), String>)> {
    let setup = |r: Result<(), String>| match &trace.setup {
        Some(why) => Err(why.clone()),
        None => r,
    };
    let second_snapshot = trace.kinds.iter().skip(1).position(|k| *k == "snapshot");
    let snapshot_first = match trace.first {
        Some("snapshot") => match second_snapshot {
            None => Ok(()),
            Some(i) => Err(format!(
                "PROTOCOL.md 4.3: state frame {} was a second `snapshot`; states after the first frame are `progress` frames",
                i + 2
            )),
        },
        Some(kind) => Err(format!(
            "PROTOCOL.md 4.2: the first frame was `{kind}`, not `snapshot`{}",
            token_hint(trace.end.as_ref())
        )),
        None => Err(format!(
            "PROTOCOL.md 4.2: no frame after the upgrade, expected a snapshot: {}",
            trace.end_text()
        )),
    };
    let shape = trace
        .states
        .iter()
        .try_for_each(|p| rules::check_shape(p, &trace.id));
    let enough = if trace.states.len() >= 2 {
        Ok(())
    } else {
        Err(format!(
            "saw {} state frame(s) before {}; the job must still be running when the kit connects (slow it down through --start-job-url)",
            trace.states.len(),
            trace.end_text()
        ))
    };
    let seq = enough
        .clone()
        .and_then(|()| rules::over_pairs(&trace.states, rules::check_seq));
    let percent = enough.and_then(|()| rules::over_pairs(&trace.states, rules::check_percent));
    vec![
        ("job.snapshot_first", setup(snapshot_first)),
        ("job.progress_shape", setup(shape)),
        ("job.seq_increases", setup(seq)),
        ("job.percent_never_decreases", setup(percent)),
        (
            "job.close_1000_after_terminal",
            setup(close_after_terminal(trace)),
        ),
        (
            "job.terminal_stage_fields",
            setup(terminal_stage_fields(trace)),
        ),
        ("job.keeps_pace", setup(keeps_pace(trace, Pace::FAST))),
    ]
}

/// A completed job names its last stage, every stage done (PROTOCOL.md 3.4).
fn terminal_stage_fields(trace: &Trace) -> Result<(), String> {
    let last = trace.final_state()?;
    if last.state != JobState::Completed {
        return Err(format!(
            "needs a completed job, but the followed job ended {}",
            rules::state_name(last.state)
        ));
    }
    rules::check_completed_stages(last)
}

/// A job started at `pace` takes about as long as it was asked to: every
/// stage's steps, one `step_ms` apart (PROTOCOL.md 8.1). At least 80 % of
/// that is required, so a server that finishes every job at once is caught.
fn keeps_pace(trace: &Trace, pace: Pace) -> Result<(), String> {
    let last = trace.final_state()?;
    let (Some(asked), Some(ended)) = (trace.asked_at, trace.ended_at) else {
        return Err("PROTOCOL.md 8.1: the job's end came as a snapshot, so its length is unknown: the job must still be running when the kit connects".to_owned());
    };
    let stages = u64::from(last.stage_count.max(1));
    let asked_for = stages * u64::from(pace.steps_per_stage) * pace.step_ms;
    let took = ended.duration_since(asked).as_millis() as u64;
    if took * 5 < asked_for * 4 {
        return Err(format!(
            "PROTOCOL.md 8.1: a job of {stages} stages x {} steps x {} ms should take about {asked_for} ms, but it ended after {took} ms",
            pace.steps_per_stage, pace.step_ms
        ));
    }
    Ok(())
}

/// A hint when the server refused the socket for want of a token.
fn token_hint(end: Option<&Event>) -> &'static str {
    match end {
        Some(Event::Frame(ServerMessage::Error { code, .. })) if code.starts_with("token_") => {
            " (an error frame about a token: the server requires tokens, run the kit with --tokens)"
        }
        _ => "",
    }
}

fn close_after_terminal(trace: &Trace) -> Result<(), String> {
    rules::over_pairs(&trace.states, rules::check_after_terminal)?;
    let Some(last) = trace.states.last() else {
        return Err(format!(
            "PROTOCOL.md 4.4: no state arrived: {}",
            trace.end_text()
        ));
    };
    if !last.state.is_terminal() {
        return Err(format!(
            "PROTOCOL.md 4.4: the socket ended with {} before the job reached a terminal state (last seq {}, {})",
            trace.end_text(),
            last.seq,
            rules::state_name(last.state)
        ));
    }
    match &trace.end {
        Some(Event::Close(Some(1000), _)) => Ok(()),
        other => {
            Err(format!(
            "PROTOCOL.md 4.4: after the terminal state (seq {}, {}) expected close 1000, got {}",
            last.seq,
            rules::state_name(last.state),
            other.as_ref().map_or_else(|| "nothing".to_owned(), Event::describe)
        ))
        }
    }
}

/// A socket opened after the end: the final state as a snapshot, then close 1000.
pub async fn late_join(ctx: &Ctx, trace: &Trace) -> Result<(), String> {
    let last = trace.final_state()?;
    let (mut socket, p) = ctx.open_with_snapshot(&trace.id).await?;
    if p.seq != last.seq || p.state != last.state {
        socket.close().await;
        return Err(format!(
            "PROTOCOL.md 4.4: a late joiner got seq {} ({}), but the job ended on seq {} ({})",
            p.seq,
            rules::state_name(p.state),
            last.seq,
            rules::state_name(last.state)
        ));
    }
    match socket.next().await {
        Event::Close(Some(1000), _) => Ok(()),
        other => {
            socket.close().await;
            Err(format!(
                "PROTOCOL.md 4.4: after the final snapshot of a finished job expected close 1000, got {}",
                other.describe()
            ))
        }
    }
}

/// A socket for an id whose job does not exist yet: pending seq 0, then the job.
pub async fn pending_then_running(ctx: &Ctx) -> Result<(), String> {
    let id = ctx.ids.fresh("early");
    let (mut socket, first) = ctx.open_with_snapshot(&id).await?;
    if first.state != JobState::Pending || first.seq != 0 {
        socket.close().await;
        return Err(format!(
            "PROTOCOL.md 4.5: the snapshot for an id without a job must be pending with seq 0; got seq {} ({})",
            first.seq,
            rules::state_name(first.state)
        ));
    }
    rules::check_shape(&first, &id)?;
    if let Err(why) = ctx.start_job(&id, Pace::FAST).await {
        socket.close().await;
        return Err(why);
    }
    let result = loop {
        let event = socket.next().await;
        if matches!(event, Event::Frame(ServerMessage::Pong { .. })) {
            continue;
        }
        let Some(p) = event.progress() else {
            break Err(format!(
                "PROTOCOL.md 4.5: once the job started, the waiting socket must get its state; got {}",
                event.describe()
            ));
        };
        if let Err(why) = rules::check_shape(p, &id).and_then(|()| rules::check_seq(&first, p)) {
            break Err(why);
        }
        if !matches!(event, Event::Frame(ServerMessage::Progress { .. })) {
            break Err(format!(
                "PROTOCOL.md 4.5: once the job started, its state must come as a `progress` frame; got {}",
                event.describe()
            ));
        }
        if p.state == JobState::Pending {
            // A server may publish a pending state first; wait for the job to run.
            continue;
        }
        break Ok(());
    };
    socket.close().await;
    result
}
