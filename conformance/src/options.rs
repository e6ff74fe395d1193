//! What the kit is told about the server under test.

use std::time::Duration;

/// Default request that starts a scripted job: the dev server's `POST /ws/test/{id}`.
///
/// `{base}`, `{id}`, `{step_ms}` and `{steps}` are replaced before the POST.
pub const DEFAULT_START_JOB: &str = "{base}/ws/test/{id}?step_ms={step_ms}&steps_per_stage={steps}";

/// Settings of one run of the kit.
#[derive(Debug, Clone)]
pub struct Options {
    /// Base URL of the server, `http://host:port` (no trailing slash needed).
    pub base: String,
    /// Template of the URL to POST to start a job (see [`DEFAULT_START_JOB`]).
    pub start_job: String,
    /// Bearer token sent with the start-job request, if the server wants one.
    pub start_bearer: Option<String>,
    /// Upper bound of every single wait: a connect, an answer, the next frame.
    pub timeout: Duration,
    /// How long to wait for close 4404 on a socket for an id that never gets a job.
    pub grace_wait: Duration,
    /// Upper bound for following one whole job to its end.
    pub job_timeout: Duration,
    /// Names (or name prefixes such as `ws.`) of checks to skip.
    pub skip: Vec<String>,
    /// The server requires job tokens (PROTOCOL.md 7): read each job's
    /// token from the `token` field of the start-job answer and present it.
    pub tokens: bool,
    /// Print each result as it is recorded.
    pub echo: bool,
}

impl Options {
    /// Options with the defaults for `base`.
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: base.into(),
            start_job: DEFAULT_START_JOB.to_owned(),
            start_bearer: None,
            timeout: Duration::from_secs(5),
            grace_wait: Duration::from_secs(15),
            job_timeout: Duration::from_secs(60),
            skip: Vec::new(),
            tokens: false,
            echo: false,
        }
    }

    /// The base URL without a trailing slash.
    pub fn base(&self) -> &str {
        self.base.trim_end_matches('/')
    }

    /// The WebSocket base: `ws://` for `http://`, `wss://` for `https://`.
    pub fn ws_base(&self) -> String {
        let base = self.base();
        if let Some(rest) = base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            base.to_owned()
        }
    }

    /// The start-job URL for `id` at the given pace.
    pub fn start_job_url(&self, id: &str, pace: Pace) -> String {
        self.start_job
            .replace("{base}", self.base())
            .replace("{id}", id)
            .replace("{step_ms}", &pace.step_ms.to_string())
            .replace("{steps}", &pace.steps_per_stage.to_string())
    }

    /// True when the check `name` was asked to be skipped.
    pub fn skips(&self, name: &str) -> bool {
        self.skip
            .iter()
            .any(|s| !s.is_empty() && (name == s || name.starts_with(s.as_str())))
    }

    /// Checks the base URL; the error says what is wrong with it.
    pub fn validate(&self) -> Result<(), String> {
        let base = self.base();
        if !base.starts_with("http://") {
            return Err(format!(
                "the server URL must start with http:// (got {base:?}); the kit speaks plain HTTP and WebSocket"
            ));
        }
        if base.len() <= "http://".len() {
            return Err(format!("the server URL {base:?} has no host"));
        }
        Ok(())
    }
}

/// How fast a started job should run, passed through the start-job template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// Milliseconds per progress step.
    pub step_ms: u64,
    /// Progress steps per stage.
    pub steps_per_stage: u32,
}

impl Pace {
    /// A job that ends within about a second and a half, with a dozen updates.
    pub const FAST: Pace = Pace {
        step_ms: 100,
        steps_per_stage: 3,
    };
    /// A job that stays running for the length of the input checks (about 20 s).
    pub const SLOW: Pace = Pace {
        step_ms: 5_000,
        steps_per_stage: 1,
    };
}
