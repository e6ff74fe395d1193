//! The scripted job of the fan-out workload, as the dev server's
//! `POST /ws/test/{id}` and the Socket.IO peer run it: four stages of
//! `steps_per_stage` steps `step` apart, a stage start after the first
//! stage's steps, and the final state. The floor emits the same `Progress`
//! values, so its frames are the same bytes (bar `updated_at_ms`).

use std::time::Duration;

use upload_progress_core::{JobState, ProcessId, Progress, Stage, StageStatus};

const STAGES: [(&str, &str); 4] = [
    ("upload", "Upload received"),
    ("text_extraction", "Text extraction"),
    ("indexing", "Indexing"),
    ("finalize", "Finalize"),
];

/// One state of a job and when it is due, counted from the job's start.
#[derive(Debug, Clone)]
pub struct Event {
    /// Offset from the job's start.
    pub at: Duration,
    /// The state to send; `updated_at_ms` is stamped when it is sent.
    pub progress: Progress,
}

/// Every state the job goes through, in order, with its due time.
pub fn events(id: &ProcessId, step: Duration, steps_per_stage: u32) -> Vec<Event> {
    let mut p = Progress::unknown(id.clone(), 0);
    p.state = JobState::Running;
    p.stage_count = STAGES.len() as u32;
    p.stages = STAGES
        .iter()
        .map(|(name, label)| Stage {
            name: (*name).to_owned(),
            label: (*label).to_owned(),
            status: StageStatus::Pending,
        })
        .collect();
    let mut out = Vec::new();
    let mut push = |p: &mut Progress, at: Duration| {
        p.seq += 1;
        out.push(Event {
            at,
            progress: p.clone(),
        });
    };
    enter_stage(&mut p, 0, "Receiving upload...".to_owned());
    push(&mut p, Duration::ZERO);
    let total = STAGES.len() as u32 * steps_per_stage;
    let mut at = Duration::ZERO;
    for (index, (_, label)) in STAGES.iter().enumerate() {
        if index > 0 {
            let message = format!("Starting {}...", label.to_lowercase());
            enter_stage(&mut p, index, message);
            push(&mut p, at);
        }
        for s in 1..=steps_per_stage {
            at += step;
            p.percent = f64::from(index as u32 * steps_per_stage + s) / f64::from(total) * 100.0;
            p.message = format!("{label}: step {s} of {steps_per_stage}");
            push(&mut p, at);
        }
    }
    for stage in &mut p.stages {
        stage.status = StageStatus::Done;
    }
    p.state = JobState::Completed;
    p.percent = 100.0;
    p.message = "Done".to_owned();
    push(&mut p, at);
    out
}

fn enter_stage(p: &mut Progress, index: usize, message: String) {
    for (i, stage) in p.stages.iter_mut().enumerate() {
        stage.status = match i.cmp(&index) {
            std::cmp::Ordering::Less => StageStatus::Done,
            std::cmp::Ordering::Equal => StageStatus::Active,
            std::cmp::Ordering::Greater => StageStatus::Pending,
        };
    }
    p.stage_index = index as u32;
    p.stage = Some(STAGES[index].0.to_owned());
    p.message = message;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_has_the_workloads_number_of_states_and_ends_completed() {
        let id = ProcessId::parse("job").unwrap();
        let ev = events(&id, Duration::from_millis(250), 5);
        // 1 start + 4 x 5 steps + 3 stage starts + the final state.
        assert_eq!(ev.len(), 25);
        assert!(ev
            .windows(2)
            .all(|w| w[1].progress.seq == w[0].progress.seq + 1));
        assert!(ev.windows(2).all(|w| w[1].at >= w[0].at));
        let last = ev.last().unwrap();
        assert_eq!(last.progress.state, JobState::Completed);
        assert_eq!(last.at, Duration::from_millis(250 * 20));
        assert_eq!(ev[6].progress.stage.as_deref(), Some("text_extraction"));
    }
}
