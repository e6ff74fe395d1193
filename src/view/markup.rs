//! The widget's markup, written from a [`Shown`]: the root `<section>` and
//! its children as one HTML string. The server renders it (`ssr`), the
//! browser sets it once when the widget is built, and hydration keeps the
//! server's nodes; from then on `patch.rs` changes only what differs.
//!
//! Every text and attribute value is escaped here, since file names, stage
//! labels and messages come from users and servers.

use crate::view::labels::Labels;
use upload_progress_core::upload::UploadControls;

use crate::view::lead::{LeadAction, LeadPanel};
use crate::view::shown::{Shown, StageRow};

/// The Reconnect button's class.
pub(crate) const RECONNECT: &str = "upr__reconnect";
const PAUSE: &str = "upr__pause";
const RESUME: &str = "upr__resume";
const CANCEL: &str = "upr__cancel";

/// A button of the widget, pressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Press {
    Reconnect,
    Lead(LeadAction),
}

/// The button a class names, for the root's one click listener.
pub(crate) fn pressed(class: &str) -> Option<Press> {
    match class {
        RECONNECT => Some(Press::Reconnect),
        PAUSE => Some(Press::Lead(LeadAction::Pause)),
        RESUME => Some(Press::Lead(LeadAction::Resume)),
        CANCEL => Some(Press::Lead(LeadAction::Cancel)),
        _ => None,
    }
}

/// Appends `text` with `&`, `<`, `>`, `"` and `'` escaped, so it is safe as
/// element text and inside a double-quoted attribute.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// A small HTML writer: raw markup and escaped values.
struct Html(String);

impl Html {
    fn raw(&mut self, markup: &str) -> &mut Self {
        self.0.push_str(markup);
        self
    }

    fn text(&mut self, value: &str) -> &mut Self {
        escape_into(&mut self.0, value);
        self
    }

    /// ` name="value"`.
    fn attr(&mut self, name: &str, value: &str) -> &mut Self {
        self.raw(" ").raw(name).raw("=\"").text(value).raw("\"")
    }

    /// `<tag class="class">text</tag>`.
    fn element(&mut self, tag: &str, class: &str, text: &str) -> &mut Self {
        self.raw("<")
            .raw(tag)
            .attr("class", class)
            .raw(">")
            .text(text)
            .raw("</")
            .raw(tag)
            .raw(">")
    }
}

/// The whole widget for `shown`: the root `<section>` and its children.
pub(crate) fn html(shown: &Shown, labels: &Labels) -> String {
    let mut h = Html(String::with_capacity(2_048));
    h.raw("<section");
    for (name, value) in shown.root.named() {
        if let Some(value) = value {
            h.attr(name, value);
        }
    }
    h.raw("><header class=\"upr__header\">")
        .element("span", "upr__filename", &shown.title)
        .element("span", "upr__percent", &percent_text(shown))
        .raw("</header><div")
        .attr("class", bar_class(shown))
        .attr("role", "progressbar")
        .attr("aria-label", &labels.progress_label)
        .raw(" aria-valuemin=\"0\" aria-valuemax=\"100\"");
    if let Some(p) = shown.percent {
        h.attr("aria-valuenow", &p.to_string());
    }
    h.attr("aria-valuetext", &shown.value_text)
        .raw("><div class=\"upr__bar-fill\"")
        .attr("style", &shown.fill_style(false))
        .raw("></div></div>");
    if let Some(panel) = &shown.panel {
        write_panel(&mut h, panel, labels);
    }
    h.raw("<ol class=\"upr__stages\"")
        .attr("aria-label", &labels.stages_label)
        .raw(">")
        .raw(&stages_html(&shown.stages))
        .raw("</ol>")
        .element("p", "upr__message", &shown.message)
        .raw("<div class=\"upr__status\"><div class=\"upr__connection\"");
    if let Some(latency) = &shown.latency {
        h.attr("title", latency);
    }
    h.raw("><span class=\"upr__dot\" aria-hidden=\"true\"></span>")
        .raw("<span class=\"upr__connection-text\" aria-hidden=\"true\">")
        .text(&shown.connection_text)
        .raw("</span><span class=\"upr__announce upr__sr-only\" aria-live=\"polite\" aria-atomic=\"true\">")
        .text(&shown.announced)
        .raw("</span>")
        .element(
            "span",
            "upr__latency upr__sr-only",
            shown.latency.as_deref().unwrap_or(""),
        )
        .raw("</div>")
        .element("span", "upr__age", &shown.age);
    if shown.offers_reconnect {
        h.raw(&button_html(RECONNECT, &labels.reconnect));
    }
    h.raw("</div><div class=\"upr__alert\" role=\"alert\">")
        .raw(&alert_html(shown.alert.as_deref()))
        .raw("</div></section>");
    h.0
}

/// The header's percent: "40%", or nothing while unknown.
pub(crate) fn percent_text(shown: &Shown) -> String {
    shown.percent.map(|p| format!("{p}%")).unwrap_or_default()
}

/// The bar's class list.
pub(crate) fn bar_class(shown: &Shown) -> &'static str {
    if shown.percent.is_some() {
        "upr__bar"
    } else {
        "upr__bar upr__bar--indeterminate"
    }
}

/// The stage list's items.
pub(crate) fn stages_html(stages: &[StageRow]) -> String {
    let mut h = Html(String::new());
    for stage in stages {
        h.raw("<li")
            .attr(
                "class",
                &format!("upr__stage upr__stage--{}", stage.modifier),
            )
            .attr("data-stage", &stage.name)
            .attr("data-status", stage.modifier);
        if stage.modifier == "current" {
            h.attr("aria-current", "step");
        }
        h.raw("><span class=\"upr__stage-marker\" aria-hidden=\"true\"></span>")
            .element("span", "upr__stage-label", &stage.label)
            .element("span", "upr__sr-only", &format!(" ({})", stage.word))
            .raw("</li>");
    }
    h.0
}

/// The alert region's content: an error paragraph, or nothing.
pub(crate) fn alert_html(alert: Option<&str>) -> String {
    let mut h = Html(String::new());
    if let Some(text) = alert {
        h.element("p", "upr__error", text);
    }
    h.0
}

/// A button with `class` and `label`.
pub(crate) fn button_html(class: &str, label: &str) -> String {
    let mut h = Html(String::new());
    h.raw("<button type=\"button\"")
        .attr("class", class)
        .raw(">")
        .text(label)
        .raw("</button>");
    h.0
}

/// The lead panel's buttons, as offered.
#[cfg_attr(not(feature = "upload"), allow(dead_code))]
pub(crate) fn panel_buttons_html(c: UploadControls, labels: &Labels) -> String {
    [
        (c.pause, PAUSE, &labels.upload_pause),
        (c.resume, RESUME, &labels.upload_resume),
        (c.cancel, CANCEL, &labels.upload_cancel),
    ]
    .iter()
    .filter(|(offered, ..)| *offered)
    .map(|(_, class, label)| button_html(class, label))
    .collect()
}

#[cfg(not(feature = "upload"))]
fn write_panel(_: &mut Html, panel: &LeadPanel, _: &Labels) {
    match *panel {}
}

#[cfg(feature = "upload")]
fn write_panel(h: &mut Html, panel: &LeadPanel, labels: &Labels) {
    h.raw("<div class=\"upr__upload\"")
        .attr("data-upload", panel.phase);
    if panel.hidden {
        h.raw(" hidden");
    }
    h.raw(">")
        .element("span", "upr__upload-amount", &panel.amount)
        .element("span", "upr__upload-speed", &panel.speed)
        .element("span", "upr__upload-left", &panel.left)
        .raw("<span class=\"upr__upload-actions\">")
        .raw(&panel_buttons_html(panel.controls, labels))
        .raw("</span></div>");
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::view::describe::idle_status;
    use crate::view::shown::Scene;

    fn shown_for(filename: &str) -> Shown {
        Shown::of(&Scene {
            labels: &Labels::default(),
            progress: None,
            status: &idle_status(),
            filename,
            lead: None,
            panel: None,
            now: 0,
            announce_at: 0,
        })
    }

    #[test]
    fn values_from_users_are_escaped() {
        let html = html(
            &shown_for("<img src=x onerror=\"alert(1)\">&'"),
            &Labels::default(),
        );
        assert!(
            html.contains("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;"),
            "{html}"
        );
        assert!(!html.contains("<img"), "{html}");
    }

    #[test]
    fn a_pending_widget_has_an_indeterminate_bar_without_a_value() {
        let html = html(&shown_for("a.pdf"), &Labels::default());
        assert!(html.contains(r#"class="upr__bar upr__bar--indeterminate" role="progressbar""#));
        assert!(!html.contains("aria-valuenow"), "{html}");
        assert!(html.contains(r#"<span class="upr__filename">a.pdf</span>"#));
        // Idle offers a manual connect.
        assert!(html.contains(r#"<button type="button" class="upr__reconnect">"#));
    }

    #[test]
    fn every_button_class_maps_back_to_its_action() {
        let labels = Labels::default();
        let all = UploadControls {
            pause: true,
            resume: true,
            cancel: true,
        };
        let html = panel_buttons_html(all, &labels);
        let presses: Vec<_> = html
            .split("class=\"")
            .skip(1)
            .map(|rest| pressed(rest.split('"').next().unwrap()))
            .collect();
        assert_eq!(
            presses,
            [
                Some(Press::Lead(LeadAction::Pause)),
                Some(Press::Lead(LeadAction::Resume)),
                Some(Press::Lead(LeadAction::Cancel)),
            ]
        );
        assert_eq!(pressed(RECONNECT), Some(Press::Reconnect));
        assert_eq!(pressed("upr__age"), None);
    }
}
