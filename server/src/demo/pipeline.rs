//! The demo's staged processing of an upload (and of the scripted job),
//! written against the public API only: a [`JobHandle`] reports it, and
//! [`upload_hook`] registers it as an upload handler the way any
//! application registers its own.
//!
//! Cheap work is real (hashing, counting lines and words of the stored
//! bytes); the rest is paced by a timer so tests can run it fast.

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::reporter::{JobHandle, ReportError};
use crate::upload_hook::{FinishedUpload, UploadHook};

/// Machine name and label of each stage, in order.
pub const STAGES: [(&str, &str); 4] = [
    ("upload", "Upload received"),
    ("text_extraction", "Text extraction"),
    ("indexing", "Indexing"),
    ("finalize", "Finalize"),
];

/// How one job runs.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Pause before each progress step.
    pub step: Duration,
    /// Progress steps per stage (at least 1).
    pub steps_per_stage: u32,
    /// Fail when this stage starts (scripted jobs only).
    pub fail_at_stage: Option<u32>,
    /// The uploaded bytes, when there are any.
    pub data: Option<Arc<[u8]>>,
    /// Original file name, for messages.
    pub file_name: Option<String>,
}

/// The demo pipeline as an upload handler, paced `step` per progress step
/// and `steps_per_stage` steps per stage.
pub fn upload_hook_with(step: Duration, steps_per_stage: u32) -> UploadHook {
    UploadHook::new(
        &STAGES,
        move |upload: FinishedUpload, job: JobHandle| async move {
            let data = upload.bytes().await.map_err(|err| {
                tracing::warn!(%err, "cannot read a finished upload");
                "the uploaded bytes could not be read".to_owned()
            })?;
            let plan = Plan {
                step,
                steps_per_stage,
                fail_at_stage: None,
                data: Some(Arc::from(data.as_ref())),
                file_name: upload.file_name().map(str::to_owned),
            };
            run(job, plan).await.map_err(|e| e.to_string())
        },
    )
}

/// [`upload_hook_with`] at the default pace (400 ms, 5 steps per stage).
pub fn upload_hook() -> UploadHook {
    upload_hook_with(Duration::from_millis(400), 5)
}

/// Facts computed from the uploaded bytes.
#[derive(Debug, Clone, Default)]
struct Facts {
    bytes: usize,
    lines: usize,
    words: usize,
    sha256: Option<String>,
}

fn count_text(data: &[u8]) -> (usize, usize) {
    let text = String::from_utf8_lossy(data);
    (text.lines().count(), text.split_whitespace().count())
}

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs `job` to its end: through [`STAGES`] with `plan`'s pace, failing
/// where the plan says so.
pub async fn run(mut job: JobHandle, plan: Plan) -> Result<(), ReportError> {
    let steps = plan.steps_per_stage.max(1);
    let total = (STAGES.len() as u32 * steps) as f64;
    let mut facts = Facts {
        bytes: plan.data.as_ref().map_or(0, |d| d.len()),
        ..Facts::default()
    };
    // A scripted job (no data) is answered with its first state (`seq` 1,
    // PROTOCOL.md 8.1), so nothing is written before its first step.
    if plan.data.is_some() {
        job.message("Receiving upload...")?;
    }
    // Steps keep to a schedule (each due one `step` after the previous one
    // was due), so a step that fired late does not push the rest of the job
    // back: jobs started spread out stay spread out to their end.
    let mut due = tokio::time::Instant::now();
    for (index, (name, label)) in STAGES.iter().enumerate() {
        let index_u32 = index as u32;
        if index > 0 {
            job.next_stage(&stage_message(name, &facts, &plan))?;
        }
        if plan.fail_at_stage == Some(index_u32) {
            job.fail(&format!("scripted failure at stage {index} ({label})"))?;
            return Ok(());
        }
        // The real work of a stage happens once, off the async threads; the
        // schedule moves back by however long it took.
        let working = tokio::time::Instant::now();
        facts = do_work(name, facts, &plan).await;
        due += working.elapsed();
        for step in 1..=steps {
            due += plan.step;
            tokio::time::sleep_until(due).await;
            let percent = f64::from(index_u32 * steps + step) / total * 100.0;
            let msg = step_message(name, label, (step, steps), &facts, &plan);
            job.progress(percent, &msg)?;
        }
    }
    job.complete(&summary(&facts, &plan))?;
    Ok(())
}

async fn do_work(stage: &str, mut facts: Facts, plan: &Plan) -> Facts {
    let Some(data) = plan.data.clone() else {
        return facts;
    };
    match stage {
        "text_extraction" => {
            let counted = tokio::task::spawn_blocking(move || count_text(&data)).await;
            if let Ok((lines, words)) = counted {
                facts.lines = lines;
                facts.words = words;
            }
        }
        "indexing" => {
            if let Ok(hash) = tokio::task::spawn_blocking(move || sha256_hex(&data)).await {
                facts.sha256 = Some(hash);
            }
        }
        _ => {}
    }
    facts
}

fn stage_message(stage: &str, facts: &Facts, plan: &Plan) -> String {
    match stage {
        "text_extraction" if plan.data.is_some() => {
            format!("Extracting text from {} bytes...", facts.bytes)
        }
        "text_extraction" => "Extracting text and images...".to_owned(),
        "indexing" => "Indexing content...".to_owned(),
        "finalize" => "Finalizing...".to_owned(),
        _ => "Working...".to_owned(),
    }
}

fn step_message(
    stage: &str,
    label: &str,
    (step, steps): (u32, u32),
    facts: &Facts,
    plan: &Plan,
) -> String {
    match stage {
        // Scripted jobs have no bytes; their messages name the stage only.
        _ if plan.data.is_none() => format!("{label} ({step}/{steps})"),
        "upload" => format!("Upload received ({} bytes)", facts.bytes),
        "text_extraction" if facts.words > 0 || facts.lines > 0 => format!(
            "Found {} lines, {} words ({step}/{steps})",
            facts.lines, facts.words
        ),
        "indexing" => match &facts.sha256 {
            Some(hash) => format!("Indexed sha256 {} ({step}/{steps})", short(hash)),
            None => format!("Indexing ({step}/{steps})"),
        },
        _ => format!("{label} ({step}/{steps})"),
    }
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

fn summary(facts: &Facts, plan: &Plan) -> String {
    match (&facts.sha256, &plan.file_name) {
        (Some(hash), name) => format!(
            "Processed {}{} bytes, {} lines, {} words, sha256 {}",
            name.as_deref()
                .map(|n| format!("{n}: "))
                .unwrap_or_default(),
            facts.bytes,
            facts.lines,
            facts.words,
            hash
        ),
        (None, _) => "Processing complete".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::state::AppState;
    use crate::Reporter;
    use upload_progress_core::{JobState, ProcessId, StageStatus};

    fn reporter() -> Reporter {
        Reporter::new(Arc::new(AppState::new(Config::default(), None)))
    }

    fn plan(step_ms: u64, steps_per_stage: u32, fail_at_stage: Option<u32>) -> Plan {
        Plan {
            step: Duration::from_millis(step_ms),
            steps_per_stage,
            fail_at_stage,
            data: None,
            file_name: None,
        }
    }

    #[test]
    fn counts_and_hashes() {
        assert_eq!(count_text(b"a b\nc\n"), (2, 3));
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    /// Steps keep to the schedule from the job's start: steps that fire late
    /// do not push the rest of the job back.
    #[tokio::test(start_paused = true)]
    async fn late_steps_do_not_push_the_rest_of_the_job_back() {
        let reporter = reporter();
        let id = ProcessId::parse("job").expect("valid");
        let job = reporter.start(id.clone(), &STAGES).expect("started");
        let first = reporter.get(&id).expect("held").seq;
        let run = tokio::spawn(run(job, plan(100, 10, None)));
        // A scripted job (no data) writes nothing before its first step.
        let steps_after = |r: &Reporter| r.get(&id).expect("held").seq - first;
        let settle = || async {
            for _ in 0..50 {
                tokio::task::yield_now().await;
            }
        };
        settle().await;
        // Held up for 350 ms: the steps due at 100, 200 and 300 ms fire late,
        // together.
        tokio::time::advance(Duration::from_millis(350)).await;
        settle().await;
        assert_eq!(steps_after(&reporter), 3);
        // The next one is due at 400 ms, not 100 ms after the late ones.
        tokio::time::advance(Duration::from_millis(50)).await;
        settle().await;
        assert_eq!(steps_after(&reporter), 4);
        run.abort();
    }

    #[tokio::test]
    async fn scripted_failure_marks_stages() {
        let reporter = reporter();
        let id = ProcessId::parse("job").expect("valid");
        let job = reporter.start(id.clone(), &STAGES).expect("started");
        run(job, plan(0, 2, Some(2))).await.expect("ran");
        let p = reporter.get(&id).expect("held");
        assert_eq!(p.state, JobState::Failed);
        assert_eq!(
            p.error.as_deref(),
            Some("scripted failure at stage 2 (Indexing)")
        );
        let statuses: Vec<_> = p.stages.iter().map(|s| s.status).collect();
        assert_eq!(
            statuses,
            [
                StageStatus::Done,
                StageStatus::Done,
                StageStatus::Failed,
                StageStatus::Skipped
            ]
        );
        assert_eq!(p.percent, 50.0);
    }
}
