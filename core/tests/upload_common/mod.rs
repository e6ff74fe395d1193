//! A simulated tus server and shell for driving an `Upload` on a fake clock.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;

use upload_progress_core::upload::{
    Action, Answer, Input, Millis, RequestId, Upload, UploadConfig, UploadError, UploadOptions,
    UploadProgress, UploadState,
};

pub const ENDPOINT: &str = "http://server/api/uploads/tus";
pub const LOCATION: &str = "/api/uploads/tus/u1";
pub const URL: &str = "http://server/api/uploads/tus/u1";
pub const JOB: &str = "auto_proc_up_1";

/// Options with jitter off, so delays are exact.
pub fn exact(chunk_size: u64) -> UploadOptions {
    UploadOptions {
        chunk_size,
        jitter: false,
        ..UploadOptions::default()
    }
}

pub fn config(len: u64, options: UploadOptions) -> UploadConfig {
    UploadConfig {
        endpoint: ENDPOINT.into(),
        len,
        metadata: vec![("filename".into(), "f.bin".into())],
        resume: None,
        options,
    }
}

/// A file whose bytes tell their position apart.
pub fn file(len: u64) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// A request the shell holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Req {
    Create { len: u64 },
    Send { offset: u64, len: u64 },
    Head,
    Delete,
}

/// How the simulated network and server treat one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Served correctly.
    None,
    /// Lost before the server saw it.
    Lost,
    /// A `PATCH` cut after the server stored this share (per mille) of it.
    Cut(u16),
    /// Served, but the answer never arrived.
    AnswerLost,
    /// The server answered this status without doing anything.
    Status(u16),
    /// No answer ever (the shell waits until the upload gives up on it).
    Silent,
}

/// The simulated tus server.
#[derive(Debug, Default)]
pub struct Server {
    pub created: bool,
    pub deleted: bool,
    pub len: u64,
    pub bytes: Vec<u8>,
}

pub struct Shell {
    pub upload: Upload,
    pub now: Millis,
    pub file: Vec<u8>,
    pub server: Server,
    pub inflight: BTreeMap<RequestId, Req>,
    pub log: Vec<(Millis, Action)>,
    /// Every request made, with its time.
    pub requests: Vec<(Millis, Req)>,
    pub aborted: Vec<RequestId>,
    pub states: Vec<UploadState>,
    pub shown: Vec<UploadProgress>,
    pub finished: Vec<(Option<String>, Option<String>)>,
    pub failed: Vec<UploadError>,
    pub cancelled: usize,
    /// Interruptions that may cost a chunk: faults on requests, aborted chunks.
    pub interruptions: u64,
}

impl Shell {
    pub fn new(len: u64, options: UploadOptions) -> Self {
        Self::with_config(config(len, options), 1)
    }

    pub fn with_config(config: UploadConfig, seed: u64) -> Self {
        let file = file(config.len);
        Self {
            upload: Upload::new(config, seed),
            now: 0,
            file,
            server: Server::default(),
            inflight: BTreeMap::new(),
            log: Vec::new(),
            requests: Vec::new(),
            aborted: Vec::new(),
            states: Vec::new(),
            shown: Vec::new(),
            finished: Vec::new(),
            failed: Vec::new(),
            cancelled: 0,
            interruptions: 0,
        }
    }

    pub fn started(len: u64, options: UploadOptions) -> Self {
        let mut shell = Self::new(len, options);
        shell.input(Input::Start);
        shell
    }

    pub fn input(&mut self, input: Input) {
        self.upload.handle(input, self.now);
        self.drain();
    }

    pub fn state(&self) -> &UploadState {
        self.upload.state()
    }

    /// Moves the clock to `t`, firing every deadline on the way at its own time.
    pub fn advance_to(&mut self, t: Millis) {
        while let Some(at) = self.upload.poll_timeout() {
            if at > t {
                break;
            }
            self.now = self.now.max(at);
            self.upload.handle_timeout(self.now);
            self.drain();
            if let Some(next) = self.upload.poll_timeout() {
                assert!(
                    next > self.now,
                    "deadline {next} not cleared at {}",
                    self.now
                );
            }
        }
        self.now = self.now.max(t);
    }

    pub fn advance(&mut self, dt: Millis) {
        self.advance_to(self.now + dt);
    }

    /// Fires the next deadline.
    pub fn next_timeout(&mut self) -> Option<Millis> {
        let at = self.upload.poll_timeout()?;
        self.advance_to(at);
        Some(at)
    }

    pub fn drain(&mut self) {
        while let Some(action) = self.upload.poll_action() {
            self.log.push((self.now, action.clone()));
            let request = match &action {
                Action::Create {
                    request, url, len, ..
                } => {
                    assert_eq!(url, ENDPOINT);
                    Some((*request, Req::Create { len: *len }))
                }
                Action::Send {
                    request,
                    url,
                    offset,
                    len,
                } => {
                    assert_eq!(url, URL);
                    assert!(*len > 0 && offset + len <= self.file.len() as u64);
                    Some((
                        *request,
                        Req::Send {
                            offset: *offset,
                            len: *len,
                        },
                    ))
                }
                Action::Head { request, url } => {
                    assert_eq!(url, URL);
                    Some((*request, Req::Head))
                }
                Action::Delete { request, url } => {
                    assert_eq!(url, URL);
                    Some((*request, Req::Delete))
                }
                Action::Abort { request } => {
                    let req = self.inflight.remove(request);
                    assert!(req.is_some(), "aborted {request:?}, which is not in flight");
                    if matches!(req, Some(Req::Send { .. })) {
                        self.interruptions += 1;
                    }
                    self.aborted.push(*request);
                    None
                }
                Action::Created { url, .. } => {
                    assert_eq!(url, URL);
                    None
                }
                Action::Progress(p) => {
                    assert!(p.sent <= p.total);
                    self.shown.push(*p);
                    None
                }
                Action::StateChanged(s) => {
                    self.states.push(s.clone());
                    None
                }
                Action::Finished { process_id, token } => {
                    self.finished.push((process_id.clone(), token.clone()));
                    None
                }
                Action::Failed(e) => {
                    self.failed.push(e.clone());
                    None
                }
                Action::Cancelled => {
                    self.cancelled += 1;
                    None
                }
            };
            if let Some((request, req)) = request {
                assert!(
                    self.inflight.is_empty(),
                    "{req:?} while {:?} in flight",
                    self.inflight
                );
                self.requests.push((self.now, req.clone()));
                self.inflight.insert(request, req);
            }
        }
        assert!(self.inflight.len() <= 1);
    }

    /// The request in flight.
    pub fn pending(&self) -> Option<(RequestId, Req)> {
        self.inflight.iter().next().map(|(r, q)| (*r, q.clone()))
    }

    /// Serves the request in flight with `fault`, after `latency` ms.
    pub fn serve_with(&mut self, fault: Fault, latency: Millis) {
        let (request, req) = self.pending().expect("a request in flight");
        self.now += latency;
        // A silent request is counted when the upload aborts it.
        if !matches!(fault, Fault::None | Fault::Silent) {
            self.interruptions += 1;
        }
        let answer = match fault {
            Fault::None => self.apply(&req, None),
            Fault::Lost => Answer::Network,
            Fault::Cut(per_mille) => {
                self.apply(&req, Some(per_mille));
                Answer::Network
            }
            Fault::AnswerLost => {
                self.apply(&req, None);
                Answer::Network
            }
            Fault::Status(status) => Answer::Status(status),
            Fault::Silent => {
                // The upload gives up on it at its stall deadline.
                let at = self.upload.poll_timeout().expect("a stall deadline");
                self.advance_to(at);
                assert!(!self.inflight.contains_key(&request), "still waiting");
                return;
            }
        };
        self.inflight.remove(&request);
        self.input(Input::Answered { request, answer });
    }

    pub fn serve(&mut self) {
        self.serve_with(Fault::None, 10);
    }

    pub fn answer(&mut self, answer: Answer) {
        let (request, _) = self.pending().expect("a request in flight");
        self.inflight.remove(&request);
        self.input(Input::Answered { request, answer });
    }

    /// What the server does with `req` (`cut`: store only this share of a chunk).
    fn apply(&mut self, req: &Req, cut: Option<u16>) -> Answer {
        let server = &mut self.server;
        match *req {
            Req::Create { len } => {
                server.created = true;
                server.len = len;
                Answer::Created {
                    location: LOCATION.into(),
                    process_id: Some(JOB.into()),
                    token: Some("tok".into()),
                }
            }
            Req::Send { offset, len } => {
                assert!(server.created && !server.deleted);
                if offset != server.bytes.len() as u64 {
                    return Answer::Status(409);
                }
                let keep = match cut {
                    Some(per_mille) => len * u64::from(per_mille) / 1_000,
                    None => len,
                };
                let start = offset as usize;
                let end = start + keep as usize;
                server.bytes.extend_from_slice(&self.file[start..end]);
                assert!(server.bytes.len() as u64 <= server.len);
                Answer::Offset(server.bytes.len() as u64)
            }
            Req::Head => {
                assert!(server.created);
                if server.deleted {
                    Answer::Status(404)
                } else {
                    Answer::Offset(server.bytes.len() as u64)
                }
            }
            Req::Delete => {
                server.deleted = true;
                Answer::Status(204)
            }
        }
    }

    /// Serves every request until the upload stops asking.
    pub fn serve_all(&mut self) {
        while self.pending().is_some() {
            self.serve();
        }
    }

    /// Bytes asked for in every `Send`.
    pub fn bytes_requested(&self) -> u64 {
        self.requests
            .iter()
            .map(|(_, r)| match r {
                Req::Send { len, .. } => *len,
                _ => 0,
            })
            .sum()
    }

    /// Times at which requests of `kind` left.
    pub fn times_of(&self, kind: fn(&Req) -> bool) -> Vec<Millis> {
        self.requests
            .iter()
            .filter(|(_, r)| kind(r))
            .map(|(t, _)| *t)
            .collect()
    }
}

pub fn is_head(r: &Req) -> bool {
    *r == Req::Head
}

pub fn is_send(r: &Req) -> bool {
    matches!(r, Req::Send { .. })
}
