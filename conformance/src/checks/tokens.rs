//! With `--tokens`: progress without a token is refused (PROTOCOL.md 7).

use super::Ctx;
use crate::options::Pace;
use crate::rules;
use crate::socket::{Event, Socket};
use crate::wire::ServerMessage;

/// A job started for the token checks (or why it could not be).
pub struct TokenJob {
    id: Result<String, String>,
}

impl TokenJob {
    /// Starts a job; its token stays with the kit and is not presented below.
    pub async fn start(ctx: &Ctx) -> TokenJob {
        let id = ctx.ids.fresh("token");
        let started = ctx.start_job(&id, Pace::SLOW).await;
        TokenJob {
            id: started.map(|()| id),
        }
    }
}

/// A socket without `?token=`: maybe an `error` frame, then close 4401, and no state.
pub async fn socket_without_token(ctx: &Ctx, job: &TokenJob) -> Result<(), String> {
    let id = job.id.as_ref().map_err(Clone::clone)?;
    let mut socket = Socket::connect(&ctx.bare_ws_url(id), ctx.opts.timeout).await?;
    let mut told = false;
    loop {
        match socket.next().await {
            Event::Frame(ServerMessage::Error { code, .. }) if code == "token_missing" => {
                told = true;
            }
            Event::Close(Some(4401), _) if told => return Ok(()),
            Event::Close(Some(4401), _) => {
                return Err(
                    "PROTOCOL.md 7: close 4401 must follow an `error` frame `token_missing`"
                        .to_owned(),
                )
            }
            other => {
                socket.close().await;
                return Err(format!(
                    "PROTOCOL.md 7: a socket without a token must get close 4401 (after an error `token_missing`) and no state; got {}",
                    other.describe()
                ));
            }
        }
    }
}

/// A poll without `Authorization`: 401 `token_missing` as a JSON error.
pub async fn poll_without_token(ctx: &Ctx, job: &TokenJob) -> Result<(), String> {
    let id = job.id.as_ref().map_err(Clone::clone)?;
    let url = ctx.progress_url(id);
    let a = ctx.http.get(&url, &[]).await?;
    rules::check_error_answer(
        &format!("GET {url} without a token"),
        a.status,
        a.header("content-type"),
        &a.body,
        401,
        "token_missing",
    )
    .map_err(|why| why.replacen("6.3", "7 and 6.3", 1))
}
