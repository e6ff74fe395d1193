//! The component rendered natively with `ssr`: its initial state is in the
//! HTML, and tests/fixtures/ssr.html (hydrated by the browser tests) is the
//! same markup. `UPR_UPDATE_FIXTURES=1` rewrites the fixture.

use upload_progress_ssr_app::{render_job_page, FILENAME};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/ssr.html");

#[test]
fn renders_the_initial_state_without_a_browser() {
    let html = render_job_page("job_ssr_1");
    assert!(html.contains(FILENAME), "file name missing: {html}");
    assert!(
        html.contains(r#"role="progressbar""#),
        "no progress bar: {html}"
    );
    for class in [
        "upr",
        "upr__connection",
        "upr__dot",
        "upr__connection-text",
        "upr__bar",
    ] {
        assert!(
            has_class(&html, class),
            "no element of class {class}: {html}"
        );
    }
    // Pending: no percent yet, no stage list entries.
    assert!(
        !html.contains("aria-valuenow"),
        "a pending bar has no value: {html}"
    );
}

/// Whether an element of `html` has `class` among its classes (a whole
/// class, not a prefix of a longer one: `upr__connection` is not found in
/// `upr__connection-text`).
fn has_class(html: &str, class: &str) -> bool {
    html.split(r#"class=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .any(|classes| classes.split_whitespace().any(|c| c == class))
}

#[test]
fn classes_are_matched_whole() {
    let html = r#"<div class="upr__connection-text x"></div>"#;
    assert!(has_class(html, "x"));
    assert!(has_class(html, "upr__connection-text"));
    assert!(!has_class(html, "upr__connection"));
}

#[test]
fn the_hydration_fixture_is_the_rendered_markup() {
    let html = render_job_page("job_ssr_1");
    if std::env::var_os("UPR_UPDATE_FIXTURES").is_some() {
        std::fs::write(FIXTURE, &html).expect("write the fixture");
    }
    let fixture = std::fs::read_to_string(FIXTURE).expect("read tests/fixtures/ssr.html");
    assert_eq!(
        fixture, html,
        "run with UPR_UPDATE_FIXTURES=1 to refresh the fixture"
    );
}
