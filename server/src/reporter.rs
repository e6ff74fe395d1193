//! Reporting progress from an application's own pipeline.
//!
//! [`Reporter::start`] creates a job and hands out its [`JobHandle`], the one
//! and only writer of that job: the handle is not `Clone`, a second `start`
//! with the same id is refused, and the terminal calls ([`JobHandle::complete`],
//! [`JobHandle::fail`], [`JobHandle::cancel`]) consume it. Every call publishes
//! a whole new state to every socket and poller of the job; `seq` goes up by
//! one each time and `percent` never goes down (a lower value keeps the old
//! one), whatever the caller passes.
//!
//! The job's `seq` is assigned on the instance that started it. With a shared
//! backend (Redis) the calls still only touch this instance's memory: the new
//! state is handed to a background writer (newest state per job wins), so a
//! slow or unreachable Redis never makes a call fail or wait. Job ids must be
//! unique across instances (`start_new` draws random ones).
//!
//! ```no_run
//! # async fn demo(reporter: upload_progress_server::Reporter) -> Result<(), Box<dyn std::error::Error>> {
//! let mut job = reporter.start_new(&[("fetch", "Fetching"), ("convert", "Converting")])?;
//! let (id, token) = (job.id().clone(), job.token().to_owned()); // give these to the client
//! job.progress(30.0, "Fetched 3 of 10 files")?;
//! job.next_stage("Converting...")?;
//! job.complete("Done")?;
//! # Ok(()) }
//! ```

use std::sync::Arc;

use upload_progress_core::{JobState, ProcessId, Progress, Stage, StageStatus};

use crate::clock::{now_ms, now_s};
use crate::state::Shared;
use crate::store::StoreError;

/// Why a job could not be started or changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// A job needs at least one stage.
    #[error("a job needs at least one stage")]
    NoStages,
    /// A job with this id exists already (it has its writer).
    #[error("a job with this id already exists")]
    Exists,
    /// The store holds its maximum of unfinished jobs.
    #[error("too many jobs in progress")]
    Full,
    /// The job left the store (evicted when full) or already ended.
    #[error("the job is no longer held or has ended")]
    Gone,
    /// Stages only move forward, and only to a stage that exists.
    #[error("no stage {0} after the current one")]
    NoSuchStage(String),
}

impl From<StoreError> for ReportError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Full => Self::Full,
            StoreError::Exists => Self::Exists,
            StoreError::Unknown | StoreError::Finished | StoreError::Replica => Self::Gone,
        }
    }
}

/// Starts jobs on a server; cheap to clone, one per application is enough.
#[derive(Clone)]
pub struct Reporter {
    state: Shared,
}

impl std::fmt::Debug for Reporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reporter(..)")
    }
}

impl Reporter {
    pub(crate) fn new(state: Shared) -> Self {
        Self { state }
    }

    /// Starts a job under a fresh id (`auto_proc_<16 hex>_<unix s>`).
    pub fn start_new(&self, stages: &[(&str, &str)]) -> Result<JobHandle, ReportError> {
        self.start(crate::http::new_process_id(), stages)
    }

    /// Starts job `id` with `stages` (`(name, label)` pairs, in order): the
    /// job is `running` in its first stage at 0 %. Subscribers already
    /// waiting for `id` get it at once.
    pub fn start(&self, id: ProcessId, stages: &[(&str, &str)]) -> Result<JobHandle, ReportError> {
        if stages.is_empty() {
            return Err(ReportError::NoStages);
        }
        self.state.store.create(initial(&id, stages))?;
        let ttl = self.state.config.token_ttl.as_secs();
        let token = self.state.tokens.issue(&id, now_s(), ttl);
        Ok(JobHandle {
            state: Arc::clone(&self.state),
            id,
            token,
            expires_in_s: ttl,
            stage: 0,
            stage_count: stages.len(),
            ended: false,
            supervised: false,
        })
    }

    /// A job's latest state, as clients see it.
    pub fn get(&self, id: &ProcessId) -> Option<Progress> {
        self.state.store.get(id)
    }
}

/// The only writer of one job. Dropping it before a terminal call fails the
/// job ("abandoned"), so no client waits forever on a pipeline that died.
pub struct JobHandle {
    state: Shared,
    id: ProcessId,
    token: String,
    expires_in_s: u64,
    stage: usize,
    stage_count: usize,
    ended: bool,
    /// Handed to an upload handler: the library ends the job when the
    /// handler returns, so dropping the handle leaves it alone.
    supervised: bool,
}

impl std::fmt::Debug for JobHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobHandle")
            .field("id", &self.id)
            .field("stage", &self.stage)
            .finish_non_exhaustive()
    }
}

impl JobHandle {
    /// The writer of upload job `id`, `running` in its first stage: the
    /// `pending` job created with the upload when `pending`, else a new one.
    pub(crate) fn for_upload(
        state: &Shared,
        id: ProcessId,
        stages: &[(&str, &str)],
        pending: bool,
    ) -> Result<Self, ReportError> {
        if stages.is_empty() {
            return Err(ReportError::NoStages);
        }
        let running = initial(&id, stages);
        if pending {
            state.store.update(&id, |p| {
                p.state = running.state;
                p.stage_count = running.stage_count;
                p.stages = running.stages;
                p.stage_index = 0;
                p.stage = running.stage;
                p.message = "Processing...".to_owned();
            })?;
        } else {
            state.store.create(running)?;
        }
        let ttl = state.config.token_ttl.as_secs();
        Ok(Self {
            state: Arc::clone(state),
            token: state.tokens.issue(&id, now_s(), ttl),
            id,
            expires_in_s: ttl,
            stage: 0,
            stage_count: stages.len(),
            ended: false,
            supervised: true,
        })
    }

    /// The job's id, for the client.
    pub fn id(&self) -> &ProcessId {
        &self.id
    }

    /// A token for the job's progress endpoints, for the client (needed when
    /// the server requires tokens).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Lifetime of [`JobHandle::token`], in seconds.
    pub fn expires_in_s(&self) -> u64 {
        self.expires_in_s
    }

    /// Index of the current stage.
    pub fn stage_index(&self) -> usize {
        self.stage
    }

    fn publish(&self, change: impl FnOnce(&mut Progress)) -> Result<Progress, ReportError> {
        Ok(self.state.store.update(&self.id, change)?)
    }

    /// Sets the overall percent (0..=100; lower than before keeps the old
    /// value) and the message.
    pub fn progress(&mut self, percent: f64, message: &str) -> Result<Progress, ReportError> {
        self.publish(|p| {
            p.percent = percent;
            message.clone_into(&mut p.message);
        })
    }

    /// Sets the percent from how far the current stage is (`fraction` of it,
    /// 0.0..=1.0), counting every stage as an equal share.
    pub fn stage_progress(
        &mut self,
        fraction: f64,
        message: &str,
    ) -> Result<Progress, ReportError> {
        let fraction = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let percent = (self.stage as f64 + fraction) / self.stage_count as f64 * 100.0;
        self.progress(percent, message)
    }

    /// Sets the message only.
    pub fn message(&mut self, message: &str) -> Result<Progress, ReportError> {
        self.publish(|p| message.clone_into(&mut p.message))
    }

    /// Moves to the next stage: the current one is done.
    pub fn next_stage(&mut self, message: &str) -> Result<Progress, ReportError> {
        self.enter_stage(self.stage + 1, message)
    }

    /// Moves to stage `name` (later than the current one; stages in between
    /// are done).
    pub fn stage(&mut self, name: &str, message: &str) -> Result<Progress, ReportError> {
        let current = self.state.store.get(&self.id).ok_or(ReportError::Gone)?;
        let index = current
            .stages
            .iter()
            .position(|s| s.name == name)
            .filter(|i| *i > self.stage)
            .ok_or_else(|| ReportError::NoSuchStage(name.to_owned()))?;
        self.enter_stage(index, message)
    }

    fn enter_stage(&mut self, index: usize, message: &str) -> Result<Progress, ReportError> {
        if index >= self.stage_count {
            return Err(ReportError::NoSuchStage(index.to_string()));
        }
        let floor = index as f64 / self.stage_count as f64 * 100.0;
        let published = self.publish(|p| {
            enter(p, index, Some(message));
            // Reaching a stage means the ones before it are complete.
            p.percent = p.percent.max(floor);
        })?;
        self.stage = index;
        Ok(published)
    }

    /// Ends the job `completed` at 100 %, every stage done.
    pub fn complete(mut self, message: &str) -> Result<Progress, ReportError> {
        self.ended = true;
        self.publish(|p| {
            for stage in &mut p.stages {
                stage.status = StageStatus::Done;
            }
            // A completed job names its last stage (PROTOCOL.md 3.4), even
            // when the application skipped straight to the end.
            if let Some(last) = p.stages.last() {
                p.stage = Some(last.name.clone());
                p.stage_index = (p.stages.len() - 1) as u32;
            }
            p.state = JobState::Completed;
            p.percent = 100.0;
            message.clone_into(&mut p.message);
        })
    }

    /// Ends the job `failed`: the current stage failed, later ones skipped.
    pub fn fail(mut self, error: &str) -> Result<Progress, ReportError> {
        self.ended = true;
        self.finish_early(JobState::Failed, StageStatus::Failed, error)
    }

    /// Ends the job `cancelled`: the current and later stages skipped.
    pub fn cancel(mut self, message: &str) -> Result<Progress, ReportError> {
        self.ended = true;
        self.finish_early(JobState::Cancelled, StageStatus::Skipped, message)
    }

    fn finish_early(
        &self,
        state: JobState,
        current: StageStatus,
        text: &str,
    ) -> Result<Progress, ReportError> {
        let at = self.stage;
        self.publish(|p| {
            for (i, stage) in p.stages.iter_mut().enumerate() {
                stage.status = match i.cmp(&at) {
                    std::cmp::Ordering::Less => StageStatus::Done,
                    std::cmp::Ordering::Equal => current,
                    std::cmp::Ordering::Greater => StageStatus::Skipped,
                };
            }
            p.state = state;
            text.clone_into(&mut p.message);
            if state == JobState::Failed {
                p.error = Some(text.to_owned());
            }
        })
    }
}

impl Drop for JobHandle {
    fn drop(&mut self) {
        if !self.ended && !self.supervised {
            let _ = self.finish_early(
                JobState::Failed,
                StageStatus::Failed,
                "the pipeline stopped without finishing the job",
            );
        }
    }
}

/// A new job's state: `running` in the first of `stages`, at 0 %.
fn initial(id: &ProcessId, stages: &[(&str, &str)]) -> Progress {
    let mut initial = Progress::unknown(id.clone(), now_ms());
    initial.state = JobState::Running;
    initial.stage_count = u32::try_from(stages.len()).unwrap_or(u32::MAX);
    initial.stages = stages
        .iter()
        .map(|(name, label)| Stage {
            name: (*name).to_owned(),
            label: (*label).to_owned(),
            status: StageStatus::Pending,
        })
        .collect();
    enter(&mut initial, 0, None);
    initial
}

/// How a watched upload handler ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Settle {
    /// It returned `Ok`.
    Completed,
    /// It returned an error or panicked; the job's error.
    Failed(String),
}

/// Ends job `id` as its handler did, unless the handler ended it already:
/// completed with every stage done, or failed at its current stage.
pub(crate) fn settle(state: &Shared, id: &ProcessId, outcome: Settle) {
    // A job that already ended is refused by the store, and stays as it is.
    let _ = state.store.update(id, |p| match &outcome {
        Settle::Completed => {
            for stage in &mut p.stages {
                stage.status = StageStatus::Done;
            }
            p.state = JobState::Completed;
            p.percent = 100.0;
            if p.message.is_empty() || p.message == "Processing..." {
                "Processing complete".clone_into(&mut p.message);
            }
        }
        Settle::Failed(reason) => {
            let at = p.stage_index as usize;
            for (i, stage) in p.stages.iter_mut().enumerate() {
                stage.status = match i.cmp(&at) {
                    std::cmp::Ordering::Less => StageStatus::Done,
                    std::cmp::Ordering::Equal => StageStatus::Failed,
                    std::cmp::Ordering::Greater => StageStatus::Skipped,
                };
            }
            p.state = JobState::Failed;
            reason.clone_into(&mut p.message);
            p.error = Some(reason.clone());
        }
    });
}

/// Marks stage `index` active (earlier ones done, later ones pending).
fn enter(p: &mut Progress, index: usize, message: Option<&str>) {
    for (i, stage) in p.stages.iter_mut().enumerate() {
        stage.status = match i.cmp(&index) {
            std::cmp::Ordering::Less => StageStatus::Done,
            std::cmp::Ordering::Equal => StageStatus::Active,
            std::cmp::Ordering::Greater => StageStatus::Pending,
        };
    }
    p.stage_index = u32::try_from(index).unwrap_or(u32::MAX);
    p.stage = p.stages.get(index).map(|s| s.name.clone());
    if let Some(message) = message {
        message.clone_into(&mut p.message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::state::AppState;

    fn reporter() -> Reporter {
        Reporter::new(Arc::new(AppState::new(Config::default(), None)))
    }

    fn id(s: &str) -> ProcessId {
        ProcessId::parse(s).expect("valid")
    }

    #[test]
    fn a_job_runs_through_its_stages() {
        let r = reporter();
        let mut job = r
            .start(id("j"), &[("a", "A"), ("b", "B"), ("c", "C")])
            .expect("started");
        let first = r.get(&id("j")).expect("held");
        assert_eq!((first.seq, first.state), (1, JobState::Running));
        assert_eq!(first.stage.as_deref(), Some("a"));
        assert_eq!(
            r.start(id("j"), &[("a", "A")]).err(),
            Some(ReportError::Exists)
        );
        job.stage_progress(0.5, "half of a").expect("ok");
        assert!((r.get(&id("j")).expect("held").percent - 100.0 / 6.0).abs() < 1e-9);
        job.progress(5.0, "lower percent is ignored").expect("ok");
        let p = job.stage("c", "to c").expect("ok");
        assert_eq!(p.stage_index, 2);
        assert!((p.percent - 200.0 / 3.0).abs() < 1e-9);
        assert_eq!(
            p.stages.iter().map(|s| s.status).collect::<Vec<_>>(),
            [StageStatus::Done, StageStatus::Done, StageStatus::Active]
        );
        assert_eq!(
            job.stage("a", "back").err(),
            Some(ReportError::NoSuchStage("a".to_owned()))
        );
        assert!(job.next_stage("past the end").is_err());
        let end = job.complete("done").expect("ok");
        assert_eq!(
            (end.state, end.percent, end.seq),
            (JobState::Completed, 100.0, 5)
        );
    }

    #[test]
    fn fail_cancel_and_abandon() {
        let r = reporter();
        let stages = [("a", "A"), ("b", "B")];
        let job = r.start(id("f"), &stages).expect("started");
        let p = job.fail("disk full").expect("ok");
        assert_eq!(p.state, JobState::Failed);
        assert_eq!(p.error.as_deref(), Some("disk full"));
        assert_eq!(
            p.stages.iter().map(|s| s.status).collect::<Vec<_>>(),
            [StageStatus::Failed, StageStatus::Skipped]
        );
        let mut job = r.start(id("c"), &stages).expect("started");
        job.next_stage("b").expect("ok");
        let p = job.cancel("stopped by the user").expect("ok");
        assert_eq!(p.state, JobState::Cancelled);
        assert_eq!(p.stages[0].status, StageStatus::Done);
        drop(r.start(id("d"), &stages).expect("started"));
        let p = r.get(&id("d")).expect("held");
        assert_eq!(p.state, JobState::Failed);
        assert_eq!(r.start(id("e"), &[]).err(), Some(ReportError::NoStages));
        let fresh = r.start_new(&stages).expect("started");
        assert!(fresh.id().as_str().starts_with("auto_proc_"));
        assert!(!fresh.token().is_empty());
        let done = fresh.complete("ok").expect("ok");
        assert_eq!(done.stage.as_deref(), Some(stages.last().unwrap().0));
        assert_eq!(done.stage_index as usize, stages.len() - 1);
    }
}
