//! The `class` prop and attributes spread onto the component, rendered on
//! the server: both land on the widget's root element, escaped.

use leptos::prelude::*;
use upload_progress_robust::UploadProgressRobust;

fn render(view: impl FnOnce() -> AnyView + 'static) -> String {
    let owner = Owner::new();
    owner.with(move || view().to_html())
}

#[test]
fn the_class_prop_and_spread_attributes_reach_the_root() {
    let html = render(|| {
        view! {
            <UploadProgressRobust
                process_id="job_ssr_2"
                class="card wide"
                attr:id="job-panel"
                attr:data-owner="a\"b"
            />
        }
        .into_any()
    });
    let root_tag = &html[..html.find('>').expect("an opening tag")];
    assert!(
        root_tag.starts_with(r#"<section class="upr upr--idle card wide""#),
        "the class prop joins the root's class list: {root_tag}"
    );
    assert!(root_tag.contains(r#" id="job-panel""#), "{root_tag}");
    assert!(root_tag.contains(r#" data-owner="a&quot;b""#), "{root_tag}");
}

#[test]
fn a_spread_class_joins_the_root_class_list() {
    let html = render(|| {
        view! { <UploadProgressRobust process_id="job_ssr_3" attr:class="outer" /> }.into_any()
    });
    let root_tag = &html[..html.find('>').expect("an opening tag")];
    assert!(
        root_tag.starts_with(r#"<section class="upr upr--idle outer""#),
        "{root_tag}"
    );
    assert_eq!(root_tag.matches("class=").count(), 1, "{root_tag}");
}
