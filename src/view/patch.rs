//! Keeps the widget's elements equal to the newest [`Shown`], writing only
//! the texts and attributes that changed since the last one.
//!
//! The elements are the ones `markup.rs` wrote (or the server rendered, when
//! hydrating); they are looked up once, by class. Updates reach this at most
//! once per animation frame (the hook's frame sink coalesces bursts), and
//! each writes nothing but its differences, so a new `seq` alone touches
//! `data-seq` and nothing else.

use upload_progress_core::session::bar_animates;
use wasm_bindgen::JsCast;
use web_sys::Element;

use crate::shell::clock;
use crate::view::labels::Labels;
use crate::view::lead::LeadPanel;
#[cfg(feature = "upload")]
use crate::view::markup::panel_buttons_html;
use crate::view::markup::{
    alert_html, bar_class, button_html, percent_text, stages_html, RECONNECT,
};
use crate::view::shown::Shown;

/// The widget's elements and what they show now.
pub(crate) struct Patcher {
    root: Element,
    filename: Element,
    percent: Element,
    bar: Element,
    fill: Element,
    panel: Option<PanelNodes>,
    stages: Element,
    message: Element,
    connection: Element,
    connection_text: Element,
    announce: Element,
    latency: Element,
    age: Element,
    status: Element,
    alert: Element,
    last: Shown,
    /// When the percent last changed (`performance.now()`), for the rule on
    /// whether the bar animates to the next one.
    percent_changed_at: Option<u64>,
}

// Without `upload` no lead has a panel, so its elements are never read.
#[cfg_attr(not(feature = "upload"), allow(dead_code))]
struct PanelNodes {
    root: Element,
    amount: Element,
    speed: Element,
    left: Element,
    actions: Element,
}

fn find(root: &Element, class: &str) -> Option<Element> {
    root.query_selector(&format!(".{class}")).ok().flatten()
}

impl Patcher {
    /// Takes over the elements under `root`, which show `shown`. `None` when
    /// the markup is not the widget's (an element is missing).
    pub(crate) fn adopt(root: Element, shown: Shown) -> Option<Self> {
        let panel = match find(&root, "upr__upload") {
            Some(panel) => Some(PanelNodes {
                amount: find(&panel, "upr__upload-amount")?,
                speed: find(&panel, "upr__upload-speed")?,
                left: find(&panel, "upr__upload-left")?,
                actions: find(&panel, "upr__upload-actions")?,
                root: panel,
            }),
            None => None,
        };
        Some(Self {
            filename: find(&root, "upr__filename")?,
            percent: find(&root, "upr__percent")?,
            bar: find(&root, "upr__bar")?,
            fill: find(&root, "upr__bar-fill")?,
            panel,
            stages: find(&root, "upr__stages")?,
            message: find(&root, "upr__message")?,
            connection: find(&root, "upr__connection")?,
            connection_text: find(&root, "upr__connection-text")?,
            announce: find(&root, "upr__announce")?,
            latency: find(&root, "upr__latency")?,
            age: find(&root, "upr__age")?,
            status: find(&root, "upr__status")?,
            alert: find(&root, "upr__alert")?,
            root,
            last: shown,
            percent_changed_at: None,
        })
    }

    /// Brings the elements to `next`.
    pub(crate) fn apply(&mut self, next: Shown, labels: &Labels) {
        let last = &self.last;
        for ((name, old), (_, new)) in last.root.named().into_iter().zip(next.root.named()) {
            set_optional_attr(&self.root, name, old, new);
        }

        set_text(&self.filename, &last.title, &next.title);
        if last.percent != next.percent {
            self.percent.set_text_content(Some(&percent_text(&next)));
            set_attr(&self.bar, "class", bar_class(last), bar_class(&next));
            let old = last.percent.map(|p| p.to_string());
            let new = next.percent.map(|p| p.to_string());
            set_optional_attr(&self.bar, "aria-valuenow", old.as_deref(), new.as_deref());
            let now = clock::now();
            let animates = bar_animates(self.percent_changed_at.map(|t| now.saturating_sub(t)));
            self.percent_changed_at = Some(now);
            let _ = self.fill.set_attribute("style", &next.fill_style(animates));
        }
        set_attr(
            &self.bar,
            "aria-valuetext",
            &last.value_text,
            &next.value_text,
        );
        if let (Some(nodes), Some(new)) = (&self.panel, &next.panel) {
            nodes.apply(last.panel.as_ref(), new, labels);
        }
        if last.stages != next.stages {
            self.stages.set_inner_html(&stages_html(&next.stages));
        }
        set_text(&self.message, &last.message, &next.message);
        set_optional_attr(
            &self.connection,
            "title",
            last.latency.as_deref(),
            next.latency.as_deref(),
        );
        set_text(
            &self.connection_text,
            &last.connection_text,
            &next.connection_text,
        );
        set_text(&self.announce, &last.announced, &next.announced);
        set_text(
            &self.latency,
            last.latency.as_deref().unwrap_or(""),
            next.latency.as_deref().unwrap_or(""),
        );
        set_text(&self.age, &last.age, &next.age);
        if last.offers_reconnect != next.offers_reconnect {
            if next.offers_reconnect {
                let _ = self
                    .status
                    .insert_adjacent_html("beforeend", &button_html(RECONNECT, &labels.reconnect));
            } else if let Some(button) = find(&self.status, RECONNECT) {
                button.remove();
            }
        }
        if last.alert != next.alert {
            self.alert
                .set_inner_html(&alert_html(next.alert.as_deref()));
        }
        self.last = next;
    }
}

impl PanelNodes {
    #[cfg(not(feature = "upload"))]
    fn apply(&self, _: Option<&LeadPanel>, next: &LeadPanel, _: &Labels) {
        match *next {}
    }

    #[cfg(feature = "upload")]
    fn apply(&self, last: Option<&LeadPanel>, next: &LeadPanel, labels: &Labels) {
        if last == Some(next) {
            return;
        }
        let _ = self.root.set_attribute("data-upload", next.phase);
        let _ = self.root.toggle_attribute_with_force("hidden", next.hidden);
        let empty = String::new();
        let text = |f: fn(&LeadPanel) -> &String| last.map_or(&empty, f);
        set_text(&self.amount, text(|p| &p.amount), &next.amount);
        set_text(&self.speed, text(|p| &p.speed), &next.speed);
        set_text(&self.left, text(|p| &p.left), &next.left);
        if last.map(|p| p.controls) != Some(next.controls) {
            self.actions
                .set_inner_html(&panel_buttons_html(next.controls, labels));
        }
    }
}

fn set_text(el: &Element, old: &str, new: &str) {
    if old != new {
        el.set_text_content(Some(new));
    }
}

fn set_attr(el: &Element, name: &str, old: &str, new: &str) {
    if old != new {
        let _ = el.set_attribute(name, new);
    }
}

fn set_optional_attr(el: &Element, name: &str, old: Option<&str>, new: Option<&str>) {
    if old == new {
        return;
    }
    match new {
        Some(value) => {
            let _ = el.set_attribute(name, value);
        }
        None => {
            let _ = el.remove_attribute(name);
        }
    }
}

/// The class of the button an event came from, if it came from a button
/// inside the widget.
pub(crate) fn pressed_class(event: &web_sys::Event) -> Option<String> {
    let target = event.target()?.dyn_into::<Element>().ok()?;
    let button = target.closest("button").ok()??;
    Some(button.class_name())
}
