//! Plain HTTP to the server under test, with a deadline on every request.

use std::time::Duration;

use crate::options::{Options, Pace};
use crate::rules;

/// One HTTP answer, read whole.
#[derive(Debug)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body as text.
    pub body: String,
}

impl Answer {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The kit's HTTP client.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    timeout: Duration,
}

impl Http {
    /// A client whose requests each end within `timeout`.
    pub fn new(timeout: Duration) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|err| format!("cannot build the HTTP client: {err}"))?;
        Ok(Self { client, timeout })
    }

    /// `GET url` with extra headers.
    pub async fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Answer, String> {
        let mut req = self.client.get(url);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        self.finish(url, req).await
    }

    /// `method url` with no body (for the 405 and scripted-endpoint checks).
    pub async fn request(&self, method: &str, url: &str) -> Result<Answer, String> {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|err| format!("bad method {method}: {err}"))?;
        let req = self.client.request(method, url);
        self.finish(url, req).await
    }

    /// `POST url` with `Authorization: Bearer token`.
    pub async fn post_bearer(&self, url: &str, token: &str) -> Result<Answer, String> {
        let req = self.client.post(url).bearer_auth(token);
        self.finish(url, req).await
    }

    /// Opens a long response (an event stream) whose body is read bit by
    /// bit; the whole of it may take up to `limit`.
    pub async fn open_stream(
        &self,
        url: &str,
        limit: Duration,
    ) -> Result<reqwest::Response, String> {
        self.client
            .get(url)
            .header("accept", "text/event-stream")
            .timeout(limit)
            .send()
            .await
            .map_err(|err| self.describe(url, &err))
    }

    /// Starts a job with id `id` through the start-job template of `opts`;
    /// returns the `token` of the answer when `opts.tokens` is set.
    pub async fn start_job(
        &self,
        opts: &Options,
        id: &str,
        pace: Pace,
    ) -> Result<Option<String>, String> {
        let url = opts.start_job_url(id, pace);
        let mut req = self.client.post(&url);
        if let Some(token) = &opts.start_bearer {
            req = req.bearer_auth(token);
        }
        let answer = self.finish(&url, req).await?;
        if (200..300).contains(&answer.status) {
            if !opts.tokens {
                return Ok(None);
            }
            let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap_or_default();
            match body.get("token").and_then(|t| t.as_str()) {
                Some(token) => Ok(Some(token.to_owned())),
                None => Err(format!(
                    "with --tokens the kit reads the job's token from the `token` field of the start-job answer, but POST {url} answered {}",
                    rules::excerpt(&answer.body)
                )),
            }
        } else {
            let hint = rules::html_hint(answer.header("content-type"), &answer.body);
            let body = if hint.is_empty() {
                format!(": {}", rules::excerpt(&answer.body))
            } else {
                hint
            };
            Err(format!(
                "could not start a job: POST {url} answered HTTP {}{body} (set --start-job-url to the server's way of starting a job)",
                answer.status,
            ))
        }
    }

    async fn finish(&self, url: &str, req: reqwest::RequestBuilder) -> Result<Answer, String> {
        let resp = req.send().await.map_err(|err| self.describe(url, &err))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.text().await.map_err(|err| self.describe(url, &err))?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    fn describe(&self, url: &str, err: &reqwest::Error) -> String {
        if err.is_timeout() {
            return format!("{url}: no answer within {} ms", self.timeout.as_millis());
        }
        // The interesting part (e.g. "Connection refused") is at the end of the chain.
        let mut cause = err.to_string();
        let mut source = std::error::Error::source(err);
        while let Some(inner) = source {
            cause = inner.to_string();
            source = inner.source();
        }
        if err.is_connect() {
            format!("cannot connect to {url}: {cause}")
        } else {
            format!("{url}: {cause}")
        }
    }
}
