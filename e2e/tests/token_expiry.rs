//! Tokens that expire mid-job: the server requires job tokens that live
//! 3 s and ends sockets whose token expires (close 4401); on top, the
//! socket is dropped once after the first token died. The demo page's token
//! provider must fetch fresh tokens and the widget must still finish.

use std::time::Duration;

use upload_progress_e2e::browser::BrowserKind;
use upload_progress_e2e::checks::Expect;
use upload_progress_e2e::scenario::{temp_upload, Harness};
use upload_progress_e2e::{browser_tests, fail, pages, stats, wait, Result};

async fn token_expiry(kind: BrowserKind) -> Result<()> {
    // About 16 s, 4 s per stage; tokens live 3 s.
    let h = Harness::start(
        kind,
        &["--require-token", "--token-ttl-s", "3", "--stage-ms", "800"],
    )
    .await?;
    let mut rec = pages::open_demo(&h.browser, h.api.base()).await?;
    let file = temp_upload(&format!("token-{kind}.txt"), 50)?;
    pages::upload_through_demo(&h.browser, &file).await?;
    let id = h.only_job().await?;
    // Issued after the page's token, so once this one is dead so is the page's.
    let probe = h.api.fresh_token(&id).await?;
    h.wait_live(&mut rec, "widget-0", Duration::from_secs(20))
        .await?;
    let since = rec.widget("widget-0").len();
    wait::until(
        "the job tokens to expire",
        Duration::from_secs(20),
        || async {
            Ok((h.api.progress_status_with_token(&id, &probe).await? == 401).then_some(()))
        },
    )
    .await?;
    h.say("the page's first token has expired");
    // The server ends a socket whose token expires (4401); either way a
    // dropped socket makes the page reconnect with whatever token it holds.
    h.api.drop_sockets().await?;
    h.say("fault: drop_sockets");
    h.wait_relive(&mut rec, "widget-0", since, Duration::from_secs(30))
        .await?;
    h.wait_final(&mut rec, "widget-0", &id, Duration::from_secs(60))
        .await?;
    h.verify(&mut rec, "widget-0", &id, Expect { every_stage: true })
        .await?;
    // The demo follows over the page connection, where a token that
    // expires ends that job's subscription (protocol 11.3) and the page
    // subscribes again with a token from its provider. The server refused
    // the dead token at least once, and the job outlived the first token
    // several times over with every stage shown (checked above): every
    // update after the first 3 s came on a token the page fetched.
    let reading = stats::read(&h.api).await?;
    let job = reading.jobs.get(&id).copied().unwrap_or_default();
    let refused = h.api.detailed_stats().await?["closed"]["unauthorized"]
        .as_u64()
        .unwrap_or(0);
    h.say(format!(
        "server: {job:?}, {} connections opened, {refused} tokens refused",
        reading.opened
    ));
    if job.ws_opened != 0 || refused == 0 {
        return Err(fail(format!(
            "expected the page connection to meet a refused token and go on: {job:?}, {refused} refused"
        )));
    }
    stats::assert_quiet(&h.api, Duration::from_secs(2)).await?;
    h.finish().await;
    Ok(())
}

browser_tests!(token_expiry => token_expiry_chromium, token_expiry_firefox, token_expiry_webkit);
