//! The rules of PROTOCOL.md that can be judged from the data alone.
//!
//! Every error names the section it comes from, so a failing line reads
//! `PROTOCOL.md 3.2: seq went back from 7 to 5`.

use crate::wire::{ErrorResponse, JobState, Progress, ServerMessage, StageStatus};

/// Parses one server text frame (PROTOCOL.md 4.1: JSON objects tagged by `type`).
pub fn parse_frame(text: &str) -> Result<ServerMessage, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|err| {
        format!(
            "PROTOCOL.md 4.1: a server frame is not JSON ({err}): {}",
            excerpt(text)
        )
    })?;
    let kind = value
        .get("type")
        .and_then(|t| t.as_str())
        .ok_or_else(|| {
            format!(
                "PROTOCOL.md 4.1: a server frame has no string `type`: {}",
                excerpt(text)
            )
        })?
        .to_owned();
    serde_json::from_value(value).map_err(|err| {
        format!(
            "PROTOCOL.md 4.1: a `{kind}` frame does not have the fields of protocol v1 ({err}): {}",
            excerpt(text)
        )
    })
}

/// The name of a frame's `type`.
pub fn kind(msg: &ServerMessage) -> &'static str {
    match msg {
        ServerMessage::Snapshot { .. } => "snapshot",
        ServerMessage::Progress { .. } => "progress",
        ServerMessage::Pong { .. } => "pong",
        ServerMessage::Keepalive => "keepalive",
        ServerMessage::ServerShutdown { .. } => "server_shutdown",
        ServerMessage::Error { .. } => "error",
    }
}

/// What a completed job's stage fields say (PROTOCOL.md 3.4): its last
/// stage, every stage `done` (or none at all).
pub fn check_completed_stages(p: &Progress) -> Result<(), String> {
    let Some(last) = p.stages.last() else {
        return match (&p.stage, p.stage_index) {
            (None, 0) => Ok(()),
            (stage, index) => Err(format!(
                "PROTOCOL.md 3.4: a completed job without stages has stage null and stage_index 0, not {stage:?} and {index}"
            )),
        };
    };
    let want_index = p.stages.len() - 1;
    if p.stage.as_deref() != Some(last.name.as_str()) || p.stage_index as usize != want_index {
        return Err(format!(
            "PROTOCOL.md 3.4: a completed job names its last stage ({:?}, index {want_index}); got {:?}, index {}",
            last.name, p.stage, p.stage_index
        ));
    }
    match p.stages.iter().find(|s| s.status != StageStatus::Done) {
        Some(s) => Err(format!(
            "PROTOCOL.md 3.4: every stage of a completed job is done; {:?} is {:?}",
            s.name, s.status
        )),
        None => Ok(()),
    }
}

/// What a failed job's stage fields say (PROTOCOL.md 3.4): the stage that
/// failed, `failed`; the ones before it `done`, the ones after `skipped`.
pub fn check_failed_stages(p: &Progress, failed_at: usize) -> Result<(), String> {
    let Some(stage) = p.stages.get(failed_at) else {
        return Err(format!(
            "PROTOCOL.md 3.4: the job has {} stages, no stage {failed_at} to fail at",
            p.stages.len()
        ));
    };
    if p.stage.as_deref() != Some(stage.name.as_str()) || p.stage_index as usize != failed_at {
        return Err(format!(
            "PROTOCOL.md 3.4: a job failed at stage {failed_at} names it ({:?}, index {failed_at}); got {:?}, index {}",
            stage.name, p.stage, p.stage_index
        ));
    }
    for (i, s) in p.stages.iter().enumerate() {
        let want = match i.cmp(&failed_at) {
            std::cmp::Ordering::Less => StageStatus::Done,
            std::cmp::Ordering::Equal => StageStatus::Failed,
            std::cmp::Ordering::Greater => StageStatus::Skipped,
        };
        if s.status != want {
            return Err(format!(
                "PROTOCOL.md 3.4: stage {i} ({:?}) of a job failed at stage {failed_at} is {want:?}, not {:?}",
                s.name, s.status
            ));
        }
    }
    if p.error.as_deref().is_none_or(str::is_empty) {
        return Err("PROTOCOL.md 3.1: a failed job says why in `error`".to_owned());
    }
    Ok(())
}

/// Shape rules of one `Progress` (PROTOCOL.md 3.1) for job `id`.
pub fn check_shape(p: &Progress, id: &str) -> Result<(), String> {
    if p.process_id != id {
        return Err(format!(
            "PROTOCOL.md 3.1: progress for {id:?} carries process_id {:?}",
            p.process_id
        ));
    }
    if !p.percent.is_finite() || !(0.0..=100.0).contains(&p.percent) {
        return Err(format!(
            "PROTOCOL.md 3.1: percent {} is outside 0..=100 (seq {})",
            p.percent, p.seq
        ));
    }
    if p.stages.len() != p.stage_count as usize {
        return Err(format!(
            "PROTOCOL.md 3.1: stage_count is {} but stages has {} entries (seq {})",
            p.stage_count,
            p.stages.len(),
            p.seq
        ));
    }
    if p.stage_count > 0 && p.stage_index >= p.stage_count {
        return Err(format!(
            "PROTOCOL.md 3.1: stage_index {} is not below stage_count {} (seq {})",
            p.stage_index, p.stage_count, p.seq
        ));
    }
    if p.state == JobState::Pending && p.seq == 0 && p.percent != 0.0 {
        return Err(format!(
            "PROTOCOL.md 3.1: the seq 0 placeholder must have percent 0, has {}",
            p.percent
        ));
    }
    Ok(())
}

/// `seq` strictly increases from one state to the next (PROTOCOL.md 3.2).
pub fn check_seq(prev: &Progress, next: &Progress) -> Result<(), String> {
    if next.seq > prev.seq {
        return Ok(());
    }
    if next.seq == prev.seq {
        Err(format!(
            "PROTOCOL.md 3.2: seq {} was sent twice; each new state needs a higher seq",
            next.seq
        ))
    } else {
        Err(format!(
            "PROTOCOL.md 3.2: seq went back from {} to {}",
            prev.seq, next.seq
        ))
    }
}

/// `percent` never decreases (PROTOCOL.md 3.2).
pub fn check_percent(prev: &Progress, next: &Progress) -> Result<(), String> {
    if next.percent >= prev.percent {
        Ok(())
    } else {
        Err(format!(
            "PROTOCOL.md 3.2: percent went back from {} (seq {}) to {} (seq {})",
            prev.percent, prev.seq, next.percent, next.seq
        ))
    }
}

/// A terminal state never changes (PROTOCOL.md 3.3).
pub fn check_after_terminal(prev: &Progress, next: &Progress) -> Result<(), String> {
    if prev.state.is_terminal() {
        Err(format!(
            "PROTOCOL.md 3.3: the job was {} at seq {} and then changed again (seq {}, {})",
            state_name(prev.state),
            prev.seq,
            next.seq,
            state_name(next.state)
        ))
    } else {
        Ok(())
    }
}

/// Applies `rule` to every consecutive pair; the first break wins.
pub fn over_pairs(
    states: &[Progress],
    rule: impl Fn(&Progress, &Progress) -> Result<(), String>,
) -> Result<(), String> {
    states.windows(2).try_for_each(|w| rule(&w[0], &w[1]))
}

/// The wire name of a state.
pub fn state_name(state: JobState) -> &'static str {
    state.name()
}

/// Checks an HTTP error answer (PROTOCOL.md 6.3): the status, a JSON
/// content type and the body `{"error":{"code","message"}}` with `code`.
pub fn check_error_answer(
    what: &str,
    status: u16,
    content_type: Option<&str>,
    body: &str,
    want_status: u16,
    want_code: &str,
) -> Result<(), String> {
    if status != want_status {
        let hint = if status == 401 {
            " (the server requires tokens: run the kit with --tokens)".to_owned()
        } else {
            html_hint(content_type, body)
        };
        return Err(format!(
            "PROTOCOL.md 6.3: {what} answered HTTP {status}, expected {want_status} `{want_code}`{hint}"
        ));
    }
    let is_json = content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("json"));
    if !is_json {
        return Err(format!(
            "PROTOCOL.md 6.3: {what} answered with Content-Type {:?}, not application/json{}",
            content_type.unwrap_or("(none)"),
            html_hint(content_type, body)
        ));
    }
    let parsed: ErrorResponse = serde_json::from_str(body).map_err(|err| {
        format!(
            "PROTOCOL.md 6.3: {what}: the body is not {{\"error\":{{\"code\",\"message\"}}}} ({err}): {}",
            excerpt(body)
        )
    })?;
    if parsed.error.code != want_code {
        return Err(format!(
            "PROTOCOL.md 6.3: {what}: error code {:?}, expected {want_code:?}",
            parsed.error.code
        ));
    }
    if parsed.error.message.trim().is_empty() {
        return Err(format!("PROTOCOL.md 6.3: {what}: error message is empty"));
    }
    Ok(())
}

/// A hint appended when an answer looks like a web page.
pub fn html_hint(content_type: Option<&str>, body: &str) -> String {
    let html = content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("html"))
        || body.trim_start().starts_with('<');
    if html {
        " (an HTML page: is this a protocol v1 server?)".to_owned()
    } else {
        String::new()
    }
}

/// The start of `text`, for messages.
pub fn excerpt(text: &str) -> String {
    const MAX: usize = 120;
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() > MAX {
        let cut: String = one_line.chars().take(MAX).collect();
        format!("{cut}...")
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(seq: u64, percent: f64, state: JobState) -> Progress {
        Progress {
            process_id: "job".to_owned(),
            seq,
            state,
            stage: None,
            stage_index: 0,
            stage_count: 0,
            stages: Vec::new(),
            percent,
            message: String::new(),
            error: None,
            updated_at_ms: 0,
        }
    }

    #[test]
    fn seq_rule_names_the_section_and_values() {
        let a = p(7, 10.0, JobState::Running);
        let b = p(5, 10.0, JobState::Running);
        assert_eq!(
            check_seq(&a, &b).unwrap_err(),
            "PROTOCOL.md 3.2: seq went back from 7 to 5"
        );
        assert!(check_seq(&a, &a).unwrap_err().contains("twice"));
        assert!(check_seq(&b, &a).is_ok());
    }

    #[test]
    fn percent_and_terminal_rules() {
        let a = p(1, 50.0, JobState::Running);
        let b = p(2, 40.0, JobState::Running);
        assert!(check_percent(&a, &b)
            .unwrap_err()
            .starts_with("PROTOCOL.md 3.2"));
        let done = p(3, 100.0, JobState::Completed);
        let again = p(4, 100.0, JobState::Running);
        assert!(check_after_terminal(&done, &again)
            .unwrap_err()
            .contains("completed"));
        assert!(over_pairs(&[a.clone(), done.clone()], check_seq).is_ok());
    }

    #[test]
    fn shape_rules() {
        let mut a = p(1, 10.0, JobState::Running);
        assert!(check_shape(&a, "job").is_ok());
        assert!(check_shape(&a, "other").is_err());
        a.percent = 101.0;
        assert!(check_shape(&a, "job").unwrap_err().contains("0..=100"));
        a.percent = 1.0;
        a.stage_count = 2;
        assert!(check_shape(&a, "job").unwrap_err().contains("stage_count"));
    }

    #[test]
    fn frames_parse_or_say_why() {
        assert!(parse_frame("<html>").unwrap_err().contains("not JSON"));
        assert!(parse_frame(r#"{"x":1}"#).unwrap_err().contains("`type`"));
        assert!(parse_frame(r#"{"type":"snapshot"}"#)
            .unwrap_err()
            .contains("`snapshot` frame"));
        let pong = parse_frame(r#"{"type":"pong","id":3,"server_ts_ms":5}"#).expect("pong");
        assert_eq!(kind(&pong), "pong");
    }

    #[test]
    fn error_answers() {
        let body = r#"{"error":{"code":"unknown_process","message":"no job"}}"#;
        let json = Some("application/json");
        assert!(check_error_answer("GET x", 404, json, body, 404, "unknown_process").is_ok());
        let err = check_error_answer(
            "GET x",
            200,
            Some("text/html"),
            "<html>",
            404,
            "unknown_process",
        )
        .unwrap_err();
        assert!(err.contains("HTML"), "{err}");
        assert!(check_error_answer(
            "GET x",
            404,
            json,
            r#"{"detail":"x"}"#,
            404,
            "unknown_process"
        )
        .is_err());
        assert!(check_error_answer("GET x", 404, json, body, 404, "other").is_err());
    }
}
