//! The `Upload` state machine.

use std::collections::VecDeque;

use super::speed::Speed;
use super::{Action, Answer, Input, Millis, RequestId, UploadConfig, UploadError, UploadProgress};
use super::{ResumeFrom, UploadState};
use crate::session::backoff::{retry_delay, Rng};

/// `online`, `visible` and the like arrive in bursts; a retry started less
/// than this long ago is not repeated (the same rule as [`crate::Session`]'s).
const RETRY_NOW_MIN_GAP_MS: Millis = 1_000;

/// The request in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Flight {
    request: RequestId,
    kind: Kind,
    /// Last sign of life: sent, progress event.
    active_at: Millis,
    /// Bytes of a chunk that left so far.
    progress: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Create,
    Send { offset: u64, len: u64 },
    Head,
    Delete,
}

/// Uploads one file over tus 1.0.0, surviving network failures.
///
/// A pure state machine like [`crate::Session`]: feed it inputs with
/// [`Upload::handle`], call [`Upload::handle_timeout`] once
/// [`Upload::poll_timeout`]'s deadline has passed, and carry out what
/// [`Upload::poll_action`] returns. See the module docs for the policy.
#[derive(Debug)]
pub struct Upload {
    config: UploadConfig,
    rng: Rng,
    state: UploadState,
    url: Option<String>,
    process_id: Option<String>,
    token: Option<String>,
    /// Bytes the server is known to have.
    offset: u64,
    flight: Option<Flight>,
    /// Failures since the server last accepted bytes.
    failures: u32,
    /// A 409 already led to a `HEAD` since the server last accepted bytes.
    conflict_checked: bool,
    offline: bool,
    next_request: u64,
    last_retry_now: Option<Millis>,
    speed: Speed,
    bytes_sent: u64,
    last_progress: Option<UploadProgress>,
    actions: VecDeque<Action>,
}

impl Upload {
    /// An idle upload; nothing happens until `Input::Start`.
    ///
    /// `seed` drives the retry jitter; give each page load a different one.
    pub fn new(config: UploadConfig, seed: u64) -> Self {
        Self {
            config,
            rng: Rng::new(seed),
            state: UploadState::Idle,
            url: None,
            process_id: None,
            token: None,
            offset: 0,
            flight: None,
            failures: 0,
            conflict_checked: false,
            offline: false,
            next_request: 1,
            last_retry_now: None,
            speed: Speed::default(),
            bytes_sent: 0,
            last_progress: None,
            actions: VecDeque::new(),
        }
    }

    /// Where the upload stands.
    pub fn state(&self) -> &UploadState {
        &self.state
    }

    /// Bytes the server is known to have.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Bytes asked for in every `Send` so far (resent bytes count again).
    pub fn bytes_sent(&self) -> u64 {
        self.bytes_sent
    }

    /// The upload's URL once created.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// The job the server started for the upload, once known.
    pub fn process_id(&self) -> Option<&str> {
        self.process_id.as_deref()
    }

    /// The next action for the shell, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`Upload::handle_timeout`] must be called next, if ever.
    pub fn poll_timeout(&self) -> Option<Millis> {
        let retry = match self.state {
            UploadState::Waiting { retry_at, .. } => Some(retry_at),
            _ => None,
        };
        let stall = self.flight.map(|f| {
            f.active_at
                .saturating_add(self.config.options.stall_timeout_ms)
        });
        match (retry, stall) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs what is due by `now`: a retry, or giving up on a stalled request.
    pub fn handle_timeout(&mut self, now: Millis) {
        if let Some(flight) = self.flight {
            if now
                >= flight
                    .active_at
                    .saturating_add(self.config.options.stall_timeout_ms)
            {
                self.abort_flight();
                if flight.kind == Kind::Delete {
                    self.cancelled();
                } else {
                    self.retry_later(UploadError::Stalled, now);
                }
            }
        }
        if let UploadState::Waiting { retry_at, .. } = self.state {
            if now >= retry_at {
                self.work(now);
            }
        }
    }

    /// Feeds one input.
    pub fn handle(&mut self, input: Input, now: Millis) {
        match input {
            Input::Start => self.on_start(now),
            Input::Queue => self.on_queue(),
            Input::Answered { request, answer } => self.on_answer(request, answer, now),
            Input::SendProgress { request, bytes } => self.on_send_progress(request, bytes, now),
            Input::Pause => self.on_pause(),
            Input::Resume => self.on_resume(now),
            Input::Cancel => self.on_cancel(now),
            Input::Online => {
                self.offline = false;
                if matches!(self.state, UploadState::Offline { .. }) {
                    self.last_retry_now = Some(now);
                    self.work(now);
                } else {
                    self.retry_now(now);
                }
            }
            Input::Offline => {
                self.offline = true;
                // A request in flight stays: the browser ends it if it must.
                if matches!(self.state, UploadState::Waiting { .. }) {
                    self.go_offline();
                }
            }
            Input::Visible => self.retry_now(now),
            Input::Hidden => {}
        }
    }

    fn on_start(&mut self, now: Millis) {
        match self.state {
            UploadState::Idle => self.load_resume(),
            // Its turn came: a new failure streak, as after Resume (the
            // network flag stays: nobody pressed anything).
            UploadState::Queued => {
                self.failures = 0;
                self.conflict_checked = false;
            }
            _ => return,
        }
        self.work(now);
    }

    /// Idle, paused or resumably failed: wait for a turn.
    fn on_queue(&mut self) {
        let queueable = match &self.state {
            UploadState::Idle => {
                self.load_resume();
                true
            }
            // Resume pressed while every slot is taken: the person pressing
            // it is the better judge of the network, as for `Resume`.
            UploadState::Paused { .. } => {
                self.offline = false;
                true
            }
            UploadState::Failed(error) if error.allows_resume() => {
                self.offline = false;
                true
            }
            _ => false,
        };
        if queueable {
            self.set_state(UploadState::Queued);
        }
    }

    /// The upload created before a reload, if the config names one.
    fn load_resume(&mut self) {
        if let Some(ResumeFrom {
            url,
            process_id,
            token,
        }) = self.config.resume.clone()
        {
            self.url = Some(url);
            self.process_id = process_id;
            self.token = token;
        }
    }

    /// The next request after a wait, a resume or a start: create the
    /// upload if it does not exist yet, else ask for the server's offset.
    fn work(&mut self, now: Millis) {
        self.speed.reset();
        if self.offline {
            self.go_offline();
        } else if self.url.is_none() {
            let request = self.start_flight(Kind::Create, now);
            self.set_state(UploadState::Creating { request });
            self.actions.push_back(Action::Create {
                request,
                url: self.config.endpoint.clone(),
                len: self.config.len,
                metadata: self.config.metadata.clone(),
            });
        } else {
            self.check(now);
        }
    }

    fn check(&mut self, now: Millis) {
        let request = self.start_flight(Kind::Head, now);
        self.set_state(UploadState::Checking { request });
        let url = self.url.clone().unwrap_or_default();
        self.actions.push_back(Action::Head { request, url });
    }

    fn send_next(&mut self, now: Millis) {
        let len = self
            .config
            .options
            .chunk_size
            .max(1)
            .min(self.config.len - self.offset);
        let offset = self.offset;
        let request = self.start_flight(Kind::Send { offset, len }, now);
        self.bytes_sent += len;
        self.set_state(UploadState::Sending {
            request,
            offset,
            len,
        });
        let url = self.url.clone().unwrap_or_default();
        self.actions.push_back(Action::Send {
            request,
            url,
            offset,
            len,
        });
    }

    /// Continues from the server's offset `offset`.
    fn continue_from(&mut self, offset: u64, now: Millis) {
        self.offset = offset;
        self.emit_progress(now);
        if offset == self.config.len {
            self.finish();
        } else {
            self.send_next(now);
        }
    }

    fn on_answer(&mut self, request: RequestId, answer: Answer, now: Millis) {
        let Some(flight) = self.flight.filter(|f| f.request == request) else {
            return; // an aborted request, or a duplicate answer
        };
        self.flight = None;
        match (flight.kind, answer) {
            (Kind::Delete, _) => self.cancelled(),
            (_, Answer::Network) => self.retry_later(UploadError::Network, now),
            (
                Kind::Create,
                Answer::Created {
                    location,
                    process_id,
                    token,
                },
            ) => {
                let url = resolve(&self.config.endpoint, &location);
                self.url = Some(url.clone());
                self.process_id = process_id.clone();
                self.token = token.clone();
                self.actions.push_back(Action::Created {
                    url,
                    process_id,
                    token,
                });
                self.continue_from(0, now);
            }
            (Kind::Create, Answer::Offset(_)) => {
                self.fail(UploadError::Protocol("creation answered without Location"))
            }
            (Kind::Send { offset, .. }, Answer::Offset(server)) => {
                if server > self.config.len {
                    self.fail(UploadError::Protocol("offset beyond the file"));
                } else if server <= offset {
                    // Took the chunk yet has no more bytes: ask again later.
                    self.retry_later(UploadError::Protocol("offset did not advance"), now);
                } else {
                    self.failures = 0;
                    self.conflict_checked = false;
                    self.continue_from(server, now);
                }
            }
            (Kind::Send { .. }, Answer::Status(409)) if !self.conflict_checked => {
                // Our idea of the offset is wrong: ask the server once.
                self.conflict_checked = true;
                self.check(now);
            }
            (Kind::Send { .. }, Answer::Status(409)) => self.fail(UploadError::Conflict),
            (Kind::Head, Answer::Offset(server)) => {
                if server > self.config.len {
                    self.fail(UploadError::Protocol("offset beyond the file"));
                } else {
                    if server > self.offset {
                        // Bytes of a chunk whose answer was lost did arrive.
                        self.failures = 0;
                    }
                    self.continue_from(server, now);
                }
            }
            (_, Answer::Status(status)) => self.on_status(status, now),
            (Kind::Send { .. } | Kind::Head, Answer::Created { .. }) => {
                self.fail(UploadError::Protocol("unexpected creation answer"))
            }
        }
    }

    /// An HTTP status that is not the answer the request wanted.
    fn on_status(&mut self, status: u16, now: Millis) {
        match status {
            500..=599 | 408 | 423 | 429 => self.retry_later(UploadError::Server(status), now),
            413 => self.fail(UploadError::TooLarge),
            404 | 410 => self.fail(UploadError::Gone(status)),
            409 => self.fail(UploadError::Conflict),
            200..=299 => self.fail(UploadError::Protocol("success without the expected header")),
            _ => self.fail(UploadError::Refused(status)),
        }
    }

    fn on_send_progress(&mut self, request: RequestId, bytes: u64, now: Millis) {
        let Some(flight) = self.flight.as_mut().filter(|f| f.request == request) else {
            return;
        };
        if let Kind::Send { len, .. } = flight.kind {
            flight.progress = bytes.min(len);
            flight.active_at = now;
            self.emit_progress(now);
        }
    }

    fn on_pause(&mut self) {
        match self.state {
            UploadState::Creating { .. }
            | UploadState::Sending { .. }
            | UploadState::Checking { .. }
            | UploadState::Waiting { .. }
            | UploadState::Offline { .. }
            | UploadState::Queued => {
                self.abort_flight();
                self.speed.reset();
                self.set_state(UploadState::Paused {
                    offset: self.offset,
                });
            }
            _ => {}
        }
    }

    fn on_resume(&mut self, now: Millis) {
        let resumable = match &self.state {
            UploadState::Paused { .. } => true,
            UploadState::Failed(error) => error.allows_resume(),
            _ => false,
        };
        if resumable {
            self.failures = 0;
            self.conflict_checked = false;
            // The person pressing it is the better judge of the network.
            self.offline = false;
            self.last_retry_now = Some(now);
            self.work(now);
        }
    }

    fn on_cancel(&mut self, now: Millis) {
        if self.state.is_final() || matches!(self.state, UploadState::Cancelling { .. }) {
            return;
        }
        self.abort_flight();
        match self.url.clone() {
            Some(url) => {
                let request = self.start_flight(Kind::Delete, now);
                self.set_state(UploadState::Cancelling { request });
                self.actions.push_back(Action::Delete { request, url });
            }
            None => self.cancelled(),
        }
    }

    /// Online or visible: a waiting retry leaves now (at most once a second).
    fn retry_now(&mut self, now: Millis) {
        if !matches!(self.state, UploadState::Waiting { .. }) {
            return;
        }
        if self
            .last_retry_now
            .is_some_and(|t| now.saturating_sub(t) < RETRY_NOW_MIN_GAP_MS)
        {
            return;
        }
        self.last_retry_now = Some(now);
        self.work(now);
    }

    /// A transient failure: back off, then ask for the server's offset.
    fn retry_later(&mut self, error: UploadError, now: Millis) {
        self.speed.reset();
        if self.offline {
            // Failures while offline say nothing about the server.
            self.go_offline();
            return;
        }
        self.failures = self.failures.saturating_add(1);
        if let Some(max) = self.config.options.max_failures {
            if self.failures >= max {
                self.fail(UploadError::TooManyFailures(self.failures));
                return;
            }
        }
        let delay = retry_delay(&self.config.options.backoff(), self.failures, &mut self.rng);
        self.set_state(UploadState::Waiting {
            retry_at: now.saturating_add(delay),
            failures: self.failures,
            error,
        });
    }

    fn go_offline(&mut self) {
        self.set_state(UploadState::Offline {
            offset: self.offset,
        });
    }

    fn finish(&mut self) {
        let process_id = self.process_id.clone();
        let token = self.token.clone();
        self.set_state(UploadState::Finished {
            process_id: process_id.clone(),
            token: token.clone(),
        });
        self.actions
            .push_back(Action::Finished { process_id, token });
    }

    fn fail(&mut self, error: UploadError) {
        self.abort_flight();
        self.set_state(UploadState::Failed(error.clone()));
        self.actions.push_back(Action::Failed(error));
    }

    fn cancelled(&mut self) {
        self.set_state(UploadState::Cancelled);
        self.actions.push_back(Action::Cancelled);
    }

    fn start_flight(&mut self, kind: Kind, now: Millis) -> RequestId {
        let request = RequestId(self.next_request);
        self.next_request += 1;
        self.flight = Some(Flight {
            request,
            kind,
            active_at: now,
            progress: 0,
        });
        request
    }

    fn abort_flight(&mut self) {
        if let Some(flight) = self.flight.take() {
            self.actions.push_back(Action::Abort {
                request: flight.request,
            });
        }
    }

    fn set_state(&mut self, state: UploadState) {
        if self.state != state {
            self.state = state.clone();
            self.actions.push_back(Action::StateChanged(state));
        }
    }

    fn emit_progress(&mut self, now: Millis) {
        let in_flight = self
            .flight
            .filter(|f| matches!(f.kind, Kind::Send { .. }))
            .map_or(0, |f| f.progress);
        let sent = (self.offset + in_flight).min(self.config.len);
        self.speed.record(now, sent);
        let bytes_per_s = self.speed.bytes_per_s();
        let left = self.config.len - sent;
        let eta_ms = match bytes_per_s {
            _ if left == 0 => Some(0),
            Some(rate) if rate > 0 => Some(super::scaled::mul_div(left, 1_000, rate)),
            _ => None,
        };
        let progress = UploadProgress {
            sent,
            total: self.config.len,
            bytes_per_s,
            eta_ms,
        };
        if self.last_progress != Some(progress) {
            self.last_progress = Some(progress);
            self.actions.push_back(Action::Progress(progress));
        }
    }
}

/// The upload's URL from a `Location` header: absolute as is, a path on
/// the endpoint's origin, or relative to the endpoint's directory.
fn resolve(endpoint: &str, location: &str) -> String {
    if scheme_separator(location).is_some() {
        return location.to_owned();
    }
    // `split_at_checked` instead of slicing: the indices are ASCII matches,
    // and the bundle need not carry slicing's panic message.
    let split = |at: usize| endpoint.split_at_checked(at).unwrap_or((endpoint, ""));
    let scheme_end = scheme_separator(endpoint).map_or(0, |i| i + 3);
    let (scheme, after_scheme) = split(scheme_end);
    if let Some(rest) = location.strip_prefix("//") {
        return format!("{scheme}{rest}");
    }
    if location.starts_with('/') {
        let origin_end = after_scheme
            .find('/')
            .map_or(endpoint.len(), |i| scheme_end + i);
        return format!("{}{location}", split(origin_end).0);
    }
    // Relative: replaces the endpoint's last path segment.
    match after_scheme.rfind('/') {
        Some(i) => format!("{}{location}", split(scheme_end + i + 1).0),
        None => format!("{endpoint}/{location}"),
    }
}

/// Where the first `://` of `text` starts. A byte search, not `str::find`:
/// a string pattern links the two-way searcher and, through it, the
/// message of a slicing panic into the browser bundle.
fn scheme_separator(text: &str) -> Option<usize> {
    text.as_bytes().windows(3).position(|w| w == b"://")
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn locations_resolve_against_the_endpoint() {
        let endpoint = "http://h:8/api/uploads/tus";
        assert_eq!(resolve(endpoint, "https://o/x"), "https://o/x");
        assert_eq!(resolve(endpoint, "//o/x"), "http://o/x");
        assert_eq!(
            resolve(endpoint, "/api/uploads/tus/abc"),
            "http://h:8/api/uploads/tus/abc"
        );
        assert_eq!(
            resolve(endpoint, "tus/abc"),
            "http://h:8/api/uploads/tus/abc"
        );
        assert_eq!(resolve("http://h", "/x"), "http://h/x");
    }
}
