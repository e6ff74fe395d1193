//! What must hold of a widget: its history never goes backwards, it shows
//! every stage in order, and its final state is the server's.

use std::fmt;

use crate::recorder::{Shown, ShownStage};
use crate::server_api::ServerProgress;
use crate::{fail, Result};

/// The page's word for a server stage status (`active` shows as `current`).
pub fn shown_stage_status(server_status: &str) -> &str {
    match server_status {
        "active" => "current",
        other => other,
    }
}

/// The percentage the page shows for a server percentage.
pub fn shown_percent(percent: f64) -> u32 {
    if percent.is_finite() {
        // Rounded down, as the page shows it (upload-progress-core's
        // `display::whole_percent`): 100 only when the job is complete.
        percent.clamp(0.0, 100.0).floor() as u32
    } else {
        0
    }
}

/// Fails unless `shown` displays exactly the server's `progress`: seq,
/// state, percent, message and every stage's status.
pub fn matches_server(shown: &Shown, progress: &ServerProgress) -> Result<()> {
    let mut problems = Vec::new();
    if shown.seq != progress.seq {
        problems.push(format!("seq {} vs server {}", shown.seq, progress.seq));
    }
    if shown.state != progress.state {
        problems.push(format!(
            "state {} vs server {}",
            shown.state, progress.state
        ));
    }
    let percent = shown_percent(progress.percent);
    if shown.percent != percent || shown.percent_text != format!("{percent}%") {
        problems.push(format!(
            "percent {} ({:?}) vs server {}",
            shown.percent, shown.percent_text, progress.percent
        ));
    }
    if shown.message.trim() != progress.message.trim() {
        problems.push(format!(
            "message {:?} vs server {:?}",
            shown.message, progress.message
        ));
    }
    let want: Vec<ShownStage> = progress
        .stages
        .iter()
        .map(|s| ShownStage {
            name: s.name.clone(),
            status: shown_stage_status(&s.status).to_owned(),
        })
        .collect();
    if shown.stages != want {
        problems.push(format!("stages {:?} vs server {:?}", shown.stages, want));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(fail(format!(
            "widget {} differs from the server: {}",
            shown.key,
            problems.join("; ")
        )))
    }
}

/// What a history must show besides never going backwards.
#[derive(Debug, Clone, Copy)]
pub struct Expect {
    /// Every stage of the job must have been shown as current, in order
    /// (true when no outage is longer than a stage).
    pub every_stage: bool,
}

/// A readable digest of one widget's history.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Rows recorded.
    pub rows: usize,
    /// Transports in the order shown, repeats collapsed.
    pub modes: Vec<String>,
    /// Connection states in the order shown, repeats collapsed.
    pub connections: Vec<String>,
    /// Stages shown as current, in order, repeats collapsed.
    pub stages: Vec<String>,
}

impl Summary {
    /// How often the widget went from `from` to `to` mode.
    pub fn mode_changes(&self, from: &str, to: &str) -> usize {
        self.modes
            .windows(2)
            .filter(|w| w[0] == from && w[1] == to)
            .count()
    }

    /// How often the widget climbed from polling back to the socket,
    /// directly or through the event stream (a page connection climbs one
    /// rung at a time).
    pub fn climbs_to_socket(&self) -> usize {
        let mut climbs = 0;
        let mut polling = false;
        for mode in &self.modes {
            match mode.as_str() {
                "http_polling" => polling = true,
                "websocket" if polling => {
                    climbs += 1;
                    polling = false;
                }
                "sse" => {}
                _ => polling = false,
            }
        }
        climbs
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} rows; modes {}; stages {}; connection {}",
            self.rows,
            self.modes.join(">"),
            self.stages.join(">"),
            self.connections.join(">")
        )
    }
}

fn push_collapsed(list: &mut Vec<String>, value: &str) {
    if list.last().map(String::as_str) != Some(value) {
        list.push(value.to_owned());
    }
}

/// Rank of a job state: a widget may only move up.
fn state_rank(state: &str) -> u8 {
    match state {
        "unknown" => 0,
        "pending" => 1,
        "running" => 2,
        _ => 3,
    }
}

/// Checks one widget's history against the server's final `progress`: seq,
/// percent, stage and state never go back, a terminal state never changes,
/// the last row equals the server, and (if asked) every stage was shown in
/// order.
pub fn check_history(rows: &[Shown], progress: &ServerProgress, expect: Expect) -> Result<Summary> {
    let last = rows
        .last()
        .ok_or_else(|| fail("the widget never showed anything"))?;
    let order: Vec<&str> = progress.stages.iter().map(|s| s.name.as_str()).collect();
    let index_of = |name: &str| order.iter().position(|n| *n == name);
    let mut summary = Summary {
        rows: rows.len(),
        ..Summary::default()
    };
    for pair in rows.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let at = format!("{} at {} ms", b.key, b.at_ms);
        if b.seq < a.seq {
            return Err(fail(format!("{at}: seq went back {} -> {}", a.seq, b.seq)));
        }
        if b.percent < a.percent {
            return Err(fail(format!(
                "{at}: percent went back {} -> {}",
                a.percent, b.percent
            )));
        }
        if state_rank(&b.state) < state_rank(&a.state) {
            return Err(fail(format!(
                "{at}: state went back {} -> {}",
                a.state, b.state
            )));
        }
        if state_rank(&a.state) == 3 && a.state != b.state {
            return Err(fail(format!(
                "{at}: terminal state changed {} -> {}",
                a.state, b.state
            )));
        }
        if let (Some(sa), Some(sb)) = (a.stage.as_deref(), b.stage.as_deref()) {
            if index_of(sb) < index_of(sa) {
                return Err(fail(format!("{at}: stage went back {sa} -> {sb}")));
            }
        }
    }
    for row in rows {
        push_collapsed(&mut summary.modes, &row.mode);
        push_collapsed(&mut summary.connections, &row.connection);
        if let Some(stage) = &row.stage {
            push_collapsed(&mut summary.stages, stage);
        }
    }
    let in_order = summary
        .stages
        .iter()
        .map(|s| index_of(s))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| fail(format!("unknown stage shown: {:?}", summary.stages)))?;
    if in_order.windows(2).any(|w| w[1] <= w[0]) {
        return Err(fail(format!("stages out of order: {:?}", summary.stages)));
    }
    if expect.every_stage && progress.state == "completed" && summary.stages != order {
        return Err(fail(format!(
            "{}: stages shown {:?}, the job went through {:?}",
            last.key, summary.stages, order
        )));
    }
    matches_server(last, progress)?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_climb_to_the_socket_counts_through_the_event_stream_too() {
        // (modes shown, climbs from polling back to the socket)
        let table: [(&[&str], usize); 6] = [
            (&["none", "websocket", "http_polling", "websocket"], 1),
            (&["websocket", "sse", "http_polling", "sse", "websocket"], 1),
            (&["websocket", "http_polling", "sse", "none"], 0),
            (&["websocket", "sse", "websocket"], 0),
            (&["http_polling", "none", "websocket"], 0),
            (
                &[
                    "http_polling",
                    "websocket",
                    "http_polling",
                    "sse",
                    "websocket",
                ],
                2,
            ),
        ];
        for (modes, climbs) in table {
            let summary = Summary {
                rows: modes.len(),
                modes: modes.iter().map(|m| m.to_string()).collect(),
                connections: Vec::new(),
                stages: Vec::new(),
            };
            assert_eq!(summary.climbs_to_socket(), climbs, "{modes:?}");
        }
    }
}
