//! The widget's markup, written from a [`Shown`]: the root `<section>` and
//! its children as one HTML string. The server renders it (`ssr`), the
//! browser sets it once when the widget is built, and hydration keeps the
//! server's nodes; from then on `patch.rs` changes only what differs.
//!
//! Every text and attribute value is escaped here, since file names, stage
//! labels and messages come from users and servers. What this writes is a
//! [`SafeHtml`], the only type the widget hands to `innerHTML`, and only
//! `'static` literals are written unescaped: a runtime string cannot reach
//! the page as markup.

use crate::view::classes::*;
use crate::view::labels::Labels;
use upload_progress_core::upload::UploadControls;

use crate::view::lead::{LeadAction, LeadPanel};
use crate::view::shown::{Shown, StageRow};

/// HTML written by this module, every value in it escaped. Its string can
/// be read but not made elsewhere, so whatever reaches `innerHTML` or
/// `insertAdjacentHTML` went through the escaping writer below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SafeHtml(String);

impl SafeHtml {
    /// The markup, for the DOM call that parses it.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The markup, for a renderer that takes ownership of it.
    pub(crate) fn into_string(self) -> String {
        self.0
    }
}

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
/// element text and inside a double-quoted attribute. One copy for every
/// caller: inlined, the loop would be repeated at each value written.
#[inline(never)]
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

/// A small HTML writer: literal markup and escaped values.
struct Html(String);

impl Html {
    /// Markup written as is: only literals, never a runtime string.
    fn raw(&mut self, markup: &'static str) -> &mut Self {
        self.0.push_str(markup);
        self
    }

    /// A fragment this module already wrote (and escaped).
    fn safe(&mut self, html: &SafeHtml) -> &mut Self {
        self.0.push_str(&html.0);
        self
    }

    fn text(&mut self, value: &str) -> &mut Self {
        escape_into(&mut self.0, value);
        self
    }

    /// ` class="…"` with one of the widget's own class names, constants
    /// that need no escaping.
    fn class(&mut self, class: &'static str) -> &mut Self {
        self.raw(" class=\"").raw(class).raw("\"")
    }

    /// ` name="value"`.
    fn attr(&mut self, name: &'static str, value: &str) -> &mut Self {
        self.raw(" ").raw(name).raw("=\"").text(value).raw("\"")
    }

    /// `<tag class="class">text</tag>`.
    fn element(&mut self, tag: &'static str, class: &'static str, text: &str) -> &mut Self {
        self.raw("<")
            .raw(tag)
            .class(class)
            .raw(">")
            .text(text)
            .raw("</")
            .raw(tag)
            .raw(">")
    }
}

/// The whole widget for `shown`: the root `<section>` and its children.
pub(crate) fn html(shown: &Shown, labels: &Labels) -> SafeHtml {
    let mut h = Html(String::with_capacity(2_048));
    h.raw("<section");
    for (name, value) in shown.root.named() {
        if let Some(value) = value {
            h.attr(name, value);
        }
    }
    h.raw("><header")
        .class(HEADER)
        .raw(">")
        .element("span", FILENAME, &shown.title)
        .element("span", PERCENT, &percent_text(shown))
        .raw("</header><div")
        .class(bar_class(shown))
        .attr("role", "progressbar")
        .attr("aria-label", &labels.progress_label)
        .raw(" aria-valuemin=\"0\" aria-valuemax=\"100\"");
    if let Some(p) = shown.percent {
        h.attr("aria-valuenow", &p.to_string());
    }
    h.attr("aria-valuetext", &shown.value_text)
        .raw("><div")
        .class(BAR_FILL)
        .attr("style", &shown.fill_style(false))
        .raw("></div></div>");
    if let Some(panel) = &shown.panel {
        write_panel(&mut h, panel, labels);
    }
    h.raw("<ol")
        .class(STAGES)
        .attr("aria-label", &labels.stages_label)
        .raw(">")
        .safe(&stages_html(&shown.stages))
        .raw("</ol>")
        .element("p", MESSAGE, &shown.message)
        .raw("<div")
        .class(STATUS)
        .raw("><div")
        .class(CONNECTION);
    if let Some(latency) = &shown.latency {
        h.attr("title", latency);
    }
    h.raw("><span")
        .class(DOT)
        .raw(" aria-hidden=\"true\"></span><span")
        .class(CONNECTION_TEXT)
        .raw(" aria-hidden=\"true\">")
        .text(&shown.connection_text)
        .raw("</span><span class=\"upr__announce upr__sr-only\" aria-live=\"polite\" aria-atomic=\"true\">")
        .text(&shown.announced)
        .raw("</span>")
        .element("span", LATENCY, shown.latency.as_deref().unwrap_or(""))
        .raw("</div>")
        .element("span", AGE, &shown.age);
    if shown.offers_reconnect {
        h.safe(&button_html(RECONNECT, &labels.reconnect));
    }
    h.raw("</div><div")
        .class(ALERT)
        .raw(" role=\"alert\">")
        .safe(&alert_html(shown.alert.as_deref()))
        .raw("</div></section>");
    SafeHtml(h.0)
}

/// The header's percent: "40%", or nothing while unknown.
pub(crate) fn percent_text(shown: &Shown) -> String {
    shown.percent.map(|p| format!("{p}%")).unwrap_or_default()
}

/// The bar's class list.
pub(crate) fn bar_class(shown: &Shown) -> &'static str {
    if shown.percent.is_some() {
        BAR
    } else {
        BAR_INDETERMINATE
    }
}

/// The stage list's items.
pub(crate) fn stages_html(stages: &[StageRow]) -> SafeHtml {
    let mut h = Html(String::new());
    for stage in stages {
        h.raw("<li")
            .attr("class", &format!("{STAGE} {STAGE}--{}", stage.modifier))
            .attr("data-stage", &stage.name)
            .attr("data-status", stage.modifier);
        if stage.modifier == "current" {
            h.attr("aria-current", "step");
        }
        h.raw("><span")
            .class(STAGE_MARKER)
            .raw(" aria-hidden=\"true\"></span>")
            .element("span", STAGE_LABEL, &stage.label)
            .element("span", SR_ONLY, &format!(" ({})", stage.word))
            .raw("</li>");
    }
    SafeHtml(h.0)
}

/// The alert region's content: an error paragraph, or nothing.
pub(crate) fn alert_html(alert: Option<&str>) -> SafeHtml {
    let mut h = Html(String::new());
    if let Some(text) = alert {
        h.element("p", ERROR, text);
    }
    SafeHtml(h.0)
}

/// A button with `class` and `label`.
pub(crate) fn button_html(class: &'static str, label: &str) -> SafeHtml {
    let mut h = Html(String::new());
    write_button(&mut h, class, label);
    SafeHtml(h.0)
}

fn write_button(h: &mut Html, class: &'static str, label: &str) {
    h.raw("<button type=\"button\"")
        .class(class)
        .raw(">")
        .text(label)
        .raw("</button>");
}

/// The lead panel's buttons, as offered.
#[cfg_attr(not(feature = "upload"), allow(dead_code))]
pub(crate) fn panel_buttons_html(c: UploadControls, labels: &Labels) -> SafeHtml {
    let mut h = Html(String::new());
    for (offered, class, label) in [
        (c.pause, PAUSE, &labels.upload_pause),
        (c.resume, RESUME, &labels.upload_resume),
        (c.cancel, CANCEL, &labels.upload_cancel),
    ] {
        if offered {
            write_button(&mut h, class, label);
        }
    }
    SafeHtml(h.0)
}

#[cfg(not(feature = "upload"))]
fn write_panel(_: &mut Html, panel: &LeadPanel, _: &Labels) {
    match *panel {}
}

#[cfg(feature = "upload")]
fn write_panel(h: &mut Html, panel: &LeadPanel, labels: &Labels) {
    h.raw("<div").class(UPLOAD).attr("data-upload", panel.phase);
    if panel.hidden {
        h.raw(" hidden");
    }
    h.raw(">")
        .element("span", UPLOAD_AMOUNT, &panel.amount)
        .element("span", UPLOAD_SPEED, &panel.speed)
        .element("span", UPLOAD_LEFT, &panel.left)
        .raw("<span")
        .class(UPLOAD_ACTIONS)
        .raw(">")
        .safe(&panel_buttons_html(panel.controls, labels))
        .raw("</span></div>");
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::view::describe::idle_status;
    use crate::view::shown::Scene;
    use upload_progress_core::{JobState, ProcessId, Progress, Stage, StageStatus};

    /// What a hostile server or user could send: markup, an attribute
    /// breakout and every character the writer escapes.
    const HOSTILE: &str = "<img src=x onerror=\"alert(1)\">&'";
    const ESCAPED: &str = "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;";

    fn html_for(filename: &str, progress: Option<&Progress>, class: &str) -> String {
        let labels = Labels::default();
        let shown = Shown::of(&Scene {
            labels: &labels,
            progress,
            status: &idle_status(),
            filename,
            class,
            lead: None,
            panel: None,
            now: 0,
            announce_at: 0,
        });
        html(&shown, &labels).0
    }

    fn hostile_progress() -> Progress {
        let id = ProcessId::parse("job_1").unwrap();
        Progress {
            state: JobState::Running,
            stage: Some(HOSTILE.into()),
            message: HOSTILE.into(),
            stages: vec![Stage {
                name: HOSTILE.into(),
                label: HOSTILE.into(),
                status: StageStatus::Active,
            }],
            ..Progress::unknown(id, 0)
        }
    }

    #[test]
    fn a_file_name_is_escaped() {
        let html = html_for(HOSTILE, None, "");
        assert!(
            html.contains(&format!(r#"<span class="upr__filename">{ESCAPED}</span>"#)),
            "{html}"
        );
        assert!(!html.contains("<img"), "{html}");
    }

    #[test]
    fn the_message_is_escaped() {
        let html = html_for("a.pdf", Some(&hostile_progress()), "");
        assert!(
            html.contains(&format!(r#"<p class="upr__message">{ESCAPED}</p>"#)),
            "{html}"
        );
        assert!(!html.contains("<img"), "{html}");
    }

    #[test]
    fn a_stage_label_and_its_data_stage_are_escaped() {
        let p = hostile_progress();
        let html = html_for("a.pdf", Some(&p), "");
        assert!(
            html.contains(&format!(
                r#"<span class="upr__stage-label">{ESCAPED}</span>"#
            )),
            "{html}"
        );
        // The row's own attribute and the root's current stage.
        assert_eq!(
            html.matches(&format!(r#"data-stage="{ESCAPED}""#)).count(),
            2,
            "{html}"
        );
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("onerror=\"alert"), "{html}");
        // The row list as the patcher writes it is the same escaped text.
        let shown_rows = stages_html(&[crate::view::shown::StageRow {
            name: HOSTILE.into(),
            modifier: "current",
            label: HOSTILE.into(),
            word: HOSTILE.into(),
        }])
        .0;
        assert!(!shown_rows.contains("<img"), "{shown_rows}");
        assert_eq!(shown_rows.matches(ESCAPED).count(), 3, "{shown_rows}");
    }

    #[test]
    fn the_class_prop_joins_the_root_class_escaped() {
        let html = html_for("a.pdf", None, "  card wide\"><b ");
        assert!(
            html.starts_with(r#"<section class="upr upr--idle card wide&quot;&gt;&lt;b""#),
            "{html}"
        );
        let plain = html_for("a.pdf", None, "");
        assert!(
            plain.starts_with(r#"<section class="upr upr--idle""#),
            "{plain}"
        );
    }

    #[test]
    fn latency_is_visible_text_of_the_status_line() {
        let labels = Labels::default();
        let status = upload_progress_core::session::Status {
            latency_ms: Some(42),
            ..idle_status()
        };
        let shown = Shown::of(&Scene {
            labels: &labels,
            progress: None,
            status: &status,
            filename: "",
            class: "",
            lead: None,
            panel: None,
            now: 0,
            announce_at: 0,
        });
        let html = html(&shown, &labels).0;
        // Its own class only: not the screen-reader-only one.
        assert!(
            html.contains(r#"<span class="upr__latency">Round trip 42 ms</span>"#),
            "{html}"
        );
    }

    #[test]
    fn a_pending_widget_has_an_indeterminate_bar_without_a_value() {
        let html = html_for("a.pdf", None, "");
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
        let html = panel_buttons_html(all, &labels).0;
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
        assert_eq!(pressed(AGE), None);
    }
}
