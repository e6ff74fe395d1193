//! A token that expires mid-job: the server requires job tokens that live
//! 3 s; after the page's token expired its socket is dropped, so the
//! reconnect presents a dead token (close 4401). The demo page's token
//! provider must fetch a fresh one and the widget must still finish.

use std::time::Duration;

use upload_progress_e2e::browser::BrowserKind;
use upload_progress_e2e::checks::Expect;
use upload_progress_e2e::scenario::{temp_upload, Harness};
use upload_progress_e2e::{browser_tests, fail, pages, stats, wait, Result};

fn unauthorized(body: &serde_json::Value) -> u64 {
    body["closed"]["unauthorized"].as_u64().unwrap_or(0)
}

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
    wait::until(
        "the job tokens to expire",
        Duration::from_secs(20),
        || async {
            Ok((h.api.progress_status_with_token(&id, &probe).await? == 401).then_some(()))
        },
    )
    .await?;
    h.say("the page's token has expired");
    let rejected_before = unauthorized(&h.api.detailed_stats().await?);

    let since = rec.widget("widget-0").len();
    h.api.drop_sockets().await?;
    h.say("fault: drop_sockets");
    h.wait_relive(&mut rec, "widget-0", since, Duration::from_secs(30))
        .await?;
    let rejected_after = unauthorized(&h.api.detailed_stats().await?);
    h.say(format!(
        "server rejected {} request(s) with the expired token",
        rejected_after - rejected_before
    ));
    if rejected_after <= rejected_before {
        return Err(fail(
            "the reconnect was not rejected: the scenario did not test an expired token",
        ));
    }

    h.wait_final(&mut rec, "widget-0", &id, Duration::from_secs(60))
        .await?;
    h.verify(&mut rec, "widget-0", &id, Expect { every_stage: true })
        .await?;
    stats::assert_quiet(&h.api, Duration::from_secs(2)).await?;
    h.finish().await;
    Ok(())
}

browser_tests!(token_expiry => token_expiry_chromium, token_expiry_firefox);
