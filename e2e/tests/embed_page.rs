//! The plain-HTML embed page, driven through its own buttons: the
//! `<upload-progress-robust>` custom element and `mount_upload_progress`
//! each follow a scripted job through a dropped socket to the end; the
//! element fires `upload-complete` once; removing the element and pressing
//! Unmount leave no socket and no traffic behind.

use std::time::Duration;

use fantoccini::Locator;
use upload_progress_e2e::browser::BrowserKind;
use upload_progress_e2e::checks::Expect;
use upload_progress_e2e::scenario::Harness;
use upload_progress_e2e::{browser_tests, fail, pages, stats, wait, Result};

const WAIT: Duration = Duration::from_secs(20);

/// Collects the ids of `upload-complete` events bubbling to the document.
const LISTEN_JS: &str = r#"
window.__uprCompleted = [];
document.addEventListener("upload-complete", (e) => window.__uprCompleted.push(e.detail.process_id));
return true;
"#;

async fn embed_page(kind: BrowserKind) -> Result<()> {
    let h = Harness::start(kind, &[]).await?;
    let mut rec = pages::open_embed(&h.browser, h.api.base()).await?;
    h.browser.exec(LISTEN_JS, vec![]).await?;

    h.browser
        .client
        .find(Locator::Css("#start-element"))
        .await?
        .click()
        .await?;
    let element_id = wait::until("the custom element", WAIT, || async {
        let id = h
            .browser
            .exec(
                "const el = document.querySelector('#themed upload-progress-robust'); \
                 return el && el.querySelector('section.upr') ? el.getAttribute('process-id') : null;",
                vec![],
            )
            .await?;
        Ok(id.as_str().map(str::to_owned))
    })
    .await?;
    h.browser
        .client
        .find(Locator::Css("#start-js"))
        .await?
        .click()
        .await?;
    // The JS API widget is the one that is not inside the custom element.
    // Its job is read from the page: over the shared page connection the
    // server keeps no per-job socket counters to find it by.
    let js_id = wait::until("the mount_upload_progress job", WAIT, || async {
        let id = h
            .browser
            .exec(
                "const s = document.querySelector('#target section.upr'); \
                 return s ? s.getAttribute('data-process-id') : null;",
                vec![],
            )
            .await?;
        Ok(id
            .as_str()
            .filter(|id| !id.is_empty() && *id != element_id)
            .map(str::to_owned))
    })
    .await?;
    let js_key = wait::until("the JS API widget", WAIT, || async {
        let key = h
            .browser
            .exec(
                "const s = document.querySelector('#target section.upr'); \
                 return s ? window.__uprRec.read(s).key : null;",
                vec![],
            )
            .await?;
        Ok(key.as_str().map(str::to_owned))
    })
    .await?;
    h.say(format!(
        "element job {element_id}, JS API job {js_id} ({js_key})"
    ));

    h.wait_live(&mut rec, &element_id, WAIT).await?;
    h.wait_live(&mut rec, &js_key, WAIT).await?;
    let since_element = rec.widget(&element_id).len();
    let since_js = rec.widget(&js_key).len();
    h.api.drop_sockets().await?;
    h.say("fault: drop_sockets");
    h.wait_relive(&mut rec, &element_id, since_element, WAIT)
        .await?;
    h.wait_relive(&mut rec, &js_key, since_js, WAIT).await?;

    h.wait_final(&mut rec, &element_id, &element_id, Duration::from_secs(60))
        .await?;
    h.wait_final(&mut rec, &js_key, &js_id, Duration::from_secs(60))
        .await?;
    // Stages last 1.5 s here, shorter than a retry may take: order only.
    let expect = Expect { every_stage: false };
    h.verify(&mut rec, &element_id, &element_id, expect).await?;
    h.verify(&mut rec, &js_key, &js_id, expect).await?;

    let completed = h
        .browser
        .exec("return window.__uprCompleted;", vec![])
        .await?;
    let times = completed
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter(|v| v.as_str() == Some(element_id.as_str()))
                .count()
        })
        .unwrap_or(0);
    if times != 1 {
        return Err(fail(format!(
            "upload-complete fired {times} times for the element (events: {completed})"
        )));
    }
    let log = h
        .browser
        .client
        .find(Locator::Css("#log"))
        .await?
        .text()
        .await?;
    h.say(format!("page log: {log:?}"));

    // Leaving the page: the element is removed, the JS widget unmounted.
    h.browser
        .exec(
            "document.querySelector('#themed upload-progress-robust').remove(); return true;",
            vec![],
        )
        .await?;
    h.browser
        .client
        .find(Locator::Css("#unmount-js"))
        .await?
        .click()
        .await?;
    if pages::widget_count(&h.browser).await? != 0 {
        return Err(fail("widgets left in the page after removal"));
    }
    stats::assert_quiet(&h.api, Duration::from_secs(3)).await?;
    h.finish().await;
    Ok(())
}

browser_tests!(embed_page => embed_page_chromium, embed_page_firefox, embed_page_webkit);
