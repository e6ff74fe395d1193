//! The page's HTML: the app rendered by Leptos inside `#app`, and the
//! module that loads the browser build and hydrates it.

use leptos::prelude::*;

use crate::app::App;

/// The browser build's JavaScript module under `/pkg/` (wasm-bindgen
/// names it after the crate).
pub const MODULE: &str = "upload_progress_fullstack.js";

/// The page's own few rules; the widget brings its stylesheet.
const PAGE_CSS: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9}\
.fullstack{max-width:42rem;margin:2rem auto;padding:0 1rem}\
.fullstack__pick{display:block;margin:1.5rem 0}\
.fullstack__result output{display:block;padding:.75rem;background:#fff;border:1px solid #cdd;\
border-radius:.4rem;overflow-wrap:anywhere}\
.fullstack__missing{color:#a00}";

/// The whole page for an optional followed `job`. `pkg_missing`: the
/// browser build is not there, which the page then says.
pub fn render(job: Option<String>, pkg_missing: bool) -> String {
    let app = Owner::new().with(move || view! { <App job=job /> }.to_html());
    let missing = if pkg_missing {
        "<p class=\"fullstack__missing\">The browser build is missing: run \
         examples/fullstack/run.sh, which builds it first.</p>"
    } else {
        ""
    };
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Upload and process a file</title>\
         <link rel=\"stylesheet\" href=\"/upload-progress.css\"><style>{PAGE_CSS}</style>\
         </head><body>{missing}<div id=\"app\">{app}</div>\
         <script type=\"module\">import init, {{ hydrate }} from \"/pkg/{MODULE}\";\
         init().then(hydrate);</script></body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn renders_the_app_and_its_module() {
        let html = render(None, false);
        assert!(
            html.contains("<div id=\"app\"><main class=\"fullstack\""),
            "{html}"
        );
        assert!(html.contains("type=\"file\""), "{html}");
        assert!(html.contains("/pkg/upload_progress_fullstack.js"), "{html}");
        assert!(!html.contains("class=\"upr "), "no job, no widget: {html}");
        assert!(!html.contains("class=\"fullstack__missing\""), "{html}");
    }

    #[test]
    fn a_linked_job_gets_its_widget_on_the_server() {
        let html = render(Some("job_42".into()), true);
        // The widget's initial state: it learns the job in the browser.
        assert!(html.contains("<section class=\"upr upr--idle\""), "{html}");
        assert!(html.contains("class=\"fullstack__missing\""), "{html}");
    }
}
