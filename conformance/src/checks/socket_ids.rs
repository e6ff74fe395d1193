//! Socket checks about ids: invalid ones (4400) and ones that never get a job (4404).

use crate::wire::{JobState, ServerMessage};
use tokio::time::Instant;

use super::http_poll::too_long_id;
use super::Ctx;
use crate::socket::Event;

/// An invalid id is upgraded, maybe told why in an `error` frame, and closed 4400.
pub async fn invalid_id_4400(ctx: &Ctx) -> Result<(), String> {
    for bad in ["not.valid".to_owned(), too_long_id()] {
        let mut socket = ctx
            .open(&bad)
            .await
            .map_err(|why| format!("{why} (PROTOCOL.md 4.9: upgrade, then close 4400)"))?;
        let mut told = false;
        loop {
            match socket.next().await {
                Event::Frame(ServerMessage::Error { code, .. }) if code == "invalid_process_id" => {
                    told = true;
                }
                Event::Close(Some(4400), _) if told => break,
                Event::Close(Some(4400), _) => return Err(
                    "PROTOCOL.md 4.9: close 4400 must follow an `error` frame `invalid_process_id`"
                        .to_owned(),
                ),
                other => {
                    socket.close().await;
                    return Err(format!(
                        "PROTOCOL.md 4.9: a socket for the invalid id {:?} must be closed 4400; got {}",
                        short(&bad),
                        other.describe()
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A valid id that never gets a job: pending seq 0 snapshot, then close 4404 after the grace.
pub async fn unknown_id_4404(ctx: &Ctx) -> Result<(), String> {
    let id = ctx.ids.fresh("never_started");
    let started = Instant::now();
    let (mut socket, first) = ctx.open_with_snapshot(&id).await?;
    if first.state != JobState::Pending || first.seq != 0 {
        socket.close().await;
        return Err(format!(
            "PROTOCOL.md 4.5: the snapshot for an id without a job must be pending with seq 0; got seq {} ({:?})",
            first.seq, first.state
        ));
    }
    let deadline = started + ctx.opts.grace_wait;
    let mut told = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match socket.next_within(left).await {
            Event::Frame(ServerMessage::Error { code, .. }) if code == "unknown_process" => {
                told = true;
            }
            Event::Close(Some(4404), _) if told => return Ok(()),
            Event::Close(Some(4404), _) => {
                return Err(
                    "PROTOCOL.md 4.5: close 4404 must follow an `error` frame `unknown_process`"
                        .to_owned(),
                )
            }
            Event::Silent(_) => {
                socket.close().await;
                return Err(format!(
                    "PROTOCOL.md 4.5: no close 4404 within {} ms for an id that never got a job (raise --grace-wait-ms if the server's grace is longer)",
                    ctx.opts.grace_wait.as_millis()
                ));
            }
            other => {
                socket.close().await;
                return Err(format!(
                    "PROTOCOL.md 4.5: an id that never got a job must end with close 4404; got {}",
                    other.describe()
                ));
            }
        }
    }
}

fn short(id: &str) -> String {
    if id.len() > 20 {
        format!("{}... ({} chars)", &id[..12], id.len())
    } else {
        id.to_owned()
    }
}
