//! Keeps the widget's elements equal to the newest [`Shown`], writing only
//! the texts and attributes that changed since the last one.
//!
//! The elements are the ones `markup.rs` wrote (or the server rendered, when
//! hydrating); they are looked up once, by class. Updates reach this at most
//! once per animation frame (the hook's frame sink coalesces bursts), and
//! each writes nothing but its differences, so a new `seq` alone touches
//! `data-seq` and nothing else.
//!
//! A full patch ([`Patcher::apply_all`]) writes every value whether or not
//! it changed: right after hydration, since the server's markup may differ
//! from what the browser computes (a server/client difference is corrected
//! at once instead of when that value next changes), and when the labels
//! change (the language switched at run time).

use upload_progress_core::session::bar_animates;
use wasm_bindgen::JsCast;
use web_sys::Element;

use crate::shell::clock;
use crate::view::classes::*;
use crate::view::labels::Labels;
use crate::view::lead::LeadPanel;
#[cfg(feature = "upload")]
use crate::view::markup::panel_buttons_html;
use crate::view::markup::{
    alert_html, bar_class, button_html, percent_text, stages_html, SafeHtml,
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
    /// The next update writes every value, not only the changed ones.
    write_all: bool,
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

/// The element under `root` with `class`; a missing one is logged loudly,
/// since the widget would then paint nothing.
fn find(root: &Element, class: &str) -> Option<Element> {
    let found = root.query_selector(&format!(".{class}")).ok().flatten();
    if found.is_none() {
        web_sys::console::error_2(
            &"upload-progress: the widget's markup is not its own (changed by a \
              script, or rendered by another version) and nothing is painted; missing:"
                .into(),
            &class.into(),
        );
    }
    found
}

impl Patcher {
    /// Takes over the elements under `root`, which show `shown` (built from
    /// it) or may differ from it (rendered by the server): the first update
    /// writes every value. `None`, logged as an error in the console, when
    /// the markup is not the widget's (an element is missing).
    pub(crate) fn adopt(root: Element, shown: Shown) -> Option<Self> {
        let panel = match root.query_selector(&format!(".{UPLOAD}")).ok().flatten() {
            Some(panel) => Some(PanelNodes {
                amount: find(&panel, UPLOAD_AMOUNT)?,
                speed: find(&panel, UPLOAD_SPEED)?,
                left: find(&panel, UPLOAD_LEFT)?,
                actions: find(&panel, UPLOAD_ACTIONS)?,
                root: panel,
            }),
            None => None,
        };
        Some(Self {
            filename: find(&root, FILENAME)?,
            percent: find(&root, PERCENT)?,
            bar: find(&root, BAR)?,
            fill: find(&root, BAR_FILL)?,
            panel,
            stages: find(&root, STAGES)?,
            message: find(&root, MESSAGE)?,
            connection: find(&root, CONNECTION)?,
            connection_text: find(&root, CONNECTION_TEXT)?,
            announce: find(&root, ANNOUNCE)?,
            latency: find(&root, LATENCY)?,
            age: find(&root, AGE)?,
            status: find(&root, STATUS)?,
            alert: find(&root, ALERT)?,
            root,
            last: shown,
            write_all: true,
            percent_changed_at: None,
        })
    }

    /// Makes the next update a full patch (the labels changed).
    pub(crate) fn write_all_next(&mut self) {
        self.write_all = true;
    }

    /// Brings the elements to `next`: writes what changed since the last
    /// update, or, after adopting or [`Self::write_all_next`], every value
    /// the elements do not show yet (read back from the DOM).
    pub(crate) fn apply(&mut self, next: Shown, labels: &Labels) {
        let w = Write {
            all: std::mem::take(&mut self.write_all),
        };
        let last = &self.last;
        if w.all {
            w.attr(&self.bar, "aria-label", "", &labels.progress_label);
            w.attr(&self.stages, "aria-label", "", &labels.stages_label);
        }
        set_root_class(&self.root, &last.root.class, &next.root.class, w.all);
        // The rest after the class, which comes first.
        for ((name, old), (_, new)) in last.root.named().into_iter().zip(next.root.named()).skip(1)
        {
            w.optional_attr(&self.root, name, old, new);
        }

        w.text(&self.filename, &last.title, &next.title);
        if w.all || last.percent != next.percent {
            w.text(&self.percent, &percent_text(last), &percent_text(&next));
            w.attr(&self.bar, "class", bar_class(last), bar_class(&next));
            let old = last.percent.map(|p| p.to_string());
            let new = next.percent.map(|p| p.to_string());
            w.optional_attr(&self.bar, "aria-valuenow", old.as_deref(), new.as_deref());
            let now = clock::now();
            let animates = bar_animates(self.percent_changed_at.map(|t| now.saturating_sub(t)));
            if last.percent != next.percent {
                self.percent_changed_at = Some(now);
            }
            let style = next.fill_style(animates && last.percent != next.percent);
            w.attr(&self.fill, "style", "", &style);
        }
        w.attr(
            &self.bar,
            "aria-valuetext",
            &last.value_text,
            &next.value_text,
        );
        if let (Some(nodes), Some(new)) = (&self.panel, &next.panel) {
            nodes.apply(w, last.panel.as_ref(), new, labels);
        }
        w.html(&self.stages, last.stages != next.stages, || {
            stages_html(&next.stages)
        });
        w.text(&self.message, &last.message, &next.message);
        w.optional_attr(
            &self.connection,
            "title",
            last.latency.as_deref(),
            next.latency.as_deref(),
        );
        w.text(
            &self.connection_text,
            &last.connection_text,
            &next.connection_text,
        );
        w.text(&self.announce, &last.announced, &next.announced);
        w.text(
            &self.latency,
            last.latency.as_deref().unwrap_or(""),
            next.latency.as_deref().unwrap_or(""),
        );
        w.text(&self.age, &last.age, &next.age);
        if w.all || last.offers_reconnect != next.offers_reconnect {
            let button = find_quietly(&self.status, RECONNECT);
            match (button, next.offers_reconnect) {
                (Some(button), true) => w.text(&button, "", &labels.reconnect),
                (Some(button), false) => button.remove(),
                (None, true) => {
                    let _ = self.status.insert_adjacent_html(
                        "beforeend",
                        button_html(RECONNECT, &labels.reconnect).as_str(),
                    );
                }
                (None, false) => {}
            }
        }
        w.html(&self.alert, last.alert != next.alert, || {
            alert_html(next.alert.as_deref())
        });
        self.last = next;
    }
}

/// How an update writes: only what differs from the last value, or (`all`)
/// whatever differs from what the element shows now.
#[derive(Clone, Copy)]
struct Write {
    all: bool,
}

impl Write {
    fn text(self, el: &Element, old: &str, new: &str) {
        let differs = if self.all {
            el.text_content().as_deref() != Some(new)
        } else {
            old != new
        };
        if differs {
            el.set_text_content(Some(new));
        }
    }

    fn attr(self, el: &Element, name: &str, old: &str, new: &str) {
        self.optional_attr(el, name, Some(old), Some(new));
    }

    fn optional_attr(self, el: &Element, name: &str, old: Option<&str>, new: Option<&str>) {
        let differs = if self.all {
            el.get_attribute(name).as_deref() != new
        } else {
            old != new
        };
        if !differs {
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

    /// Replaces the children of `el` with `html` when `changed`, or (`all`)
    /// when they serialize differently.
    fn html(self, el: &Element, changed: bool, html: impl FnOnce() -> SafeHtml) {
        if !(changed || self.all) {
            return;
        }
        let html = html();
        if !self.all || el.inner_html() != html.as_str() {
            el.set_inner_html(html.as_str());
        }
    }
}

impl PanelNodes {
    #[cfg(not(feature = "upload"))]
    fn apply(&self, _: Write, _: Option<&LeadPanel>, next: &LeadPanel, _: &Labels) {
        match *next {}
    }

    #[cfg(feature = "upload")]
    fn apply(&self, w: Write, last: Option<&LeadPanel>, next: &LeadPanel, labels: &Labels) {
        if last == Some(next) && !w.all {
            return;
        }
        let _ = self.root.set_attribute("data-upload", next.phase);
        let _ = self.root.toggle_attribute_with_force("hidden", next.hidden);
        let empty = String::new();
        let text = |f: fn(&LeadPanel) -> &String| last.map_or(&empty, f);
        w.text(&self.amount, text(|p| &p.amount), &next.amount);
        w.text(&self.speed, text(|p| &p.speed), &next.speed);
        w.text(&self.left, text(|p| &p.left), &next.left);
        let changed = last.map(|p| p.controls) != Some(next.controls);
        w.html(&self.actions, changed, || {
            panel_buttons_html(next.controls, labels)
        });
    }
}

/// The element under `root` with `class`, if there is one (a button that
/// comes and goes).
fn find_quietly(root: &Element, class: &str) -> Option<Element> {
    root.query_selector(&format!(".{class}")).ok().flatten()
}

/// Writes the root's class list from `old` to `new`, keeping the classes
/// that others put there (attributes spread onto the component): a class is
/// the widget's when it starts with `upr` or was in `old`.
fn set_root_class(root: &Element, old: &str, new: &str, all: bool) {
    if old == new && !all {
        return;
    }
    let has = |list: &str, token: &str| list.split_ascii_whitespace().any(|t| t == token);
    let mut class = new.to_owned();
    for token in root.class_name().split_ascii_whitespace() {
        if !token.starts_with(ROOT) && !has(old, token) && !has(new, token) {
            class.push(' ');
            class.push_str(token);
        }
    }
    if root.class_name() != class {
        root.set_class_name(&class);
    }
}

/// The class of the button an event came from, if it came from a button
/// inside the widget.
pub(crate) fn pressed_class(event: &web_sys::Event) -> Option<String> {
    let target = event.target()?.dyn_into::<Element>().ok()?;
    let button = target.closest("button").ok()??;
    Some(button.class_name())
}
