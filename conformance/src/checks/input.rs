//! What the client may send, and what it must not crash: pings, malformed
//! JSON, unknown types, oversized messages (PROTOCOL.md 4.6 and 4.8).

use crate::wire::ServerMessage;

use super::Ctx;
use crate::options::Pace;
use crate::socket::{Event, Socket};

/// Size of the oversized message: one byte over 64 KiB.
pub const OVERSIZED_BYTES: usize = 64 * 1024 + 1;

/// A long job whose sockets stay open for the input checks.
pub struct SlowJob {
    id: Result<String, String>,
}

impl SlowJob {
    /// Starts the job (or remembers why it could not).
    pub async fn start(ctx: &Ctx) -> SlowJob {
        let id = ctx.ids.fresh("input");
        let started = ctx.start_job(&id, Pace::SLOW).await;
        SlowJob {
            id: started.map(|()| id),
        }
    }

    /// Opens a socket on the job and reads its snapshot.
    pub(super) async fn open(&self, ctx: &Ctx) -> Result<Socket, String> {
        let id = self.id.as_ref().map_err(Clone::clone)?;
        let (socket, p) = ctx.open_with_snapshot(id).await?;
        if p.state.is_terminal() {
            socket.close().await;
            return Err(format!(
                "the job started for the input checks had already ended ({:?}); they need it running (slow it down through --start-job-url)",
                p.state
            ));
        }
        Ok(socket)
    }
}

/// Sends `ping {id}` and waits for the matching `pong`, skipping state frames.
async fn ping(socket: &mut Socket, id: u64) -> Result<(), String> {
    socket
        .send_text(format!(r#"{{"type":"ping","id":{id}}}"#))
        .await?;
    loop {
        match socket.next().await {
            Event::Frame(ServerMessage::Pong { id: got, .. }) if got == id => return Ok(()),
            Event::Frame(ServerMessage::Pong { id: got, .. }) => {
                return Err(format!(
                    "PROTOCOL.md 4.6: ping {id} was answered by pong {got}; a pong carries the ping's id"
                ))
            }
            Event::Frame(ServerMessage::Progress { .. }) => continue,
            other => {
                return Err(format!(
                    "PROTOCOL.md 4.6: expected pong {id} after ping {id}, got {}",
                    other.describe()
                ))
            }
        }
    }
}

/// One ping with `id` on a fresh socket of the job, answered by its pong.
pub(super) async fn ping_on(ctx: &Ctx, job: &SlowJob, id: u64) -> Result<(), String> {
    let mut socket = job.open(ctx).await?;
    let result = ping(&mut socket, id).await;
    socket.close().await;
    result
}

/// Two pings with different ids (one above 2^32) each get their own pong.
pub async fn ping_pong(ctx: &Ctx, job: &SlowJob) -> Result<(), String> {
    let mut socket = job.open(ctx).await?;
    let result = async {
        ping(&mut socket, 7).await?;
        ping(&mut socket, 4_294_967_301).await?;
        ping(&mut socket, 0).await
    }
    .await;
    socket.close().await;
    result
}

/// Sends `text` and expects an `error` frame with `bad_message`.
pub(super) async fn expect_bad_message(
    ctx: &Ctx,
    job: &SlowJob,
    text: &str,
    what: &str,
) -> Result<(), String> {
    let mut socket = job.open(ctx).await?;
    let result = async {
        socket.send_text(text.to_owned()).await?;
        match socket.next_answer().await {
            Event::Frame(ServerMessage::Error { code, .. }) if code == "bad_message" => Ok(()),
            Event::Frame(ServerMessage::Error { code, .. }) => Err(format!(
                "PROTOCOL.md 4.8: {what} got an error frame `{code}`, expected `bad_message`"
            )),
            other => Err(format!(
                "PROTOCOL.md 4.8: {what} must get an error frame `bad_message`; got {}",
                other.describe()
            )),
        }
    }
    .await;
    socket.close().await;
    result
}

/// `{not json` gets `error bad_message`.
pub async fn malformed_json(ctx: &Ctx, job: &SlowJob) -> Result<(), String> {
    expect_bad_message(ctx, job, "{not json", "malformed JSON").await
}

/// A message of an unknown `type` gets `error bad_message`.
pub async fn unknown_type(ctx: &Ctx, job: &SlowJob) -> Result<(), String> {
    expect_bad_message(
        ctx,
        job,
        r#"{"type":"subscribe","process_id":"x"}"#,
        "a message of unknown type `subscribe`",
    )
    .await
}

/// A message over 64 KiB gets close 1009 (after an optional `error message_too_big`).
pub async fn oversized(ctx: &Ctx, job: &SlowJob) -> Result<(), String> {
    let mut socket = job.open(ctx).await?;
    // A valid ping padded with spaces: only its size is wrong.
    let mut text = String::from(r#"{"type":"ping","id":1}"#);
    text.push_str(&" ".repeat(OVERSIZED_BYTES - text.len()));
    socket.send_text(text).await?;
    let mut told = false;
    loop {
        match socket.next_answer().await {
            Event::Frame(ServerMessage::Error { code, .. }) if code == "message_too_big" => {
                told = true;
            }
            Event::Close(Some(1009), _) if told => return Ok(()),
            Event::Close(Some(1009), _) => {
                return Err(
                    "PROTOCOL.md 4.8: close 1009 must follow an `error` frame `message_too_big`"
                        .to_owned(),
                )
            }
            other => {
                socket.close().await;
                return Err(format!(
                    "PROTOCOL.md 4.8: a message of {OVERSIZED_BYTES} bytes (over 64 KiB) must get close 1009; got {}",
                    other.describe()
                ));
            }
        }
    }
}

/// After all of that, a fresh socket still gets its snapshot and its pongs.
pub async fn survives(ctx: &Ctx, job: &SlowJob) -> Result<(), String> {
    let mut socket = job.open(ctx).await.map_err(|why| {
        format!("PROTOCOL.md 4.8: after bad input the server must keep serving: {why}")
    })?;
    let result = ping(&mut socket, 99).await;
    socket.close().await;
    result.map_err(|why| format!("after bad input: {why}"))
}
