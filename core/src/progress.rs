//! `Progress`: the whole state of one job, as every message carries it.

use serde::{Deserialize, Serialize};

use crate::ProcessId;

/// Lifecycle of a job. `Completed`, `Failed` and `Cancelled` are terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Known (or expected) but not started.
    Pending,
    /// Processing.
    Running,
    /// Finished successfully.
    Completed,
    /// Finished with an error; `Progress::error` says why.
    Failed,
    /// Stopped on request.
    Cancelled,
}

impl JobState {
    /// True for states that never change again.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

/// Status of one stage of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageStatus {
    /// Not reached yet.
    Pending,
    /// In progress now.
    Active,
    /// Finished.
    Done,
    /// Failed; the job failed with it.
    Failed,
    /// Not run because the job ended before it.
    Skipped,
}

/// One stage of the pipeline as shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    /// Stable machine name, e.g. `text_extraction`.
    pub name: String,
    /// Human label, e.g. `Text extraction`.
    pub label: String,
    /// Where this stage stands.
    pub status: StageStatus,
}

/// A snapshot of one job. Later snapshots (higher `seq`) supersede earlier ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// The job this snapshot describes.
    pub process_id: ProcessId,
    /// Strictly increasing per job; `0` means "nothing known yet".
    pub seq: u64,
    /// Lifecycle state.
    pub state: JobState,
    /// Machine name of the current stage, if any.
    pub stage: Option<String>,
    /// Index of the current stage in `stages`.
    pub stage_index: u32,
    /// Number of stages.
    pub stage_count: u32,
    /// Every stage with its status.
    pub stages: Vec<Stage>,
    /// Overall progress, 0.0..=100.0; never decreases within a job.
    pub percent: f64,
    /// Human message from the server.
    pub message: String,
    /// Error text when `state` is `failed`.
    pub error: Option<String>,
    /// Server time of this snapshot, in milliseconds since the Unix epoch.
    pub updated_at_ms: u64,
}

impl Progress {
    /// The snapshot a server sends for a valid id it does not know (yet).
    pub fn unknown(process_id: ProcessId, now_ms: u64) -> Self {
        Self {
            process_id,
            seq: 0,
            state: JobState::Pending,
            stage: None,
            stage_index: 0,
            stage_count: 0,
            stages: Vec::new(),
            percent: 0.0,
            message: String::new(),
            error: None,
            updated_at_ms: now_ms,
        }
    }

    /// True when the job will not change any more.
    pub fn is_terminal(&self) -> bool {
        self.state.is_terminal()
    }

    /// The current stage's label, if there is a current stage.
    pub fn current_stage_label(&self) -> Option<&str> {
        self.stages
            .get(self.stage_index as usize)
            .map(|s| s.label.as_str())
    }
}
