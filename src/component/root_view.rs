//! The widget as a Leptos view: one element given as HTML (from
//! `markup.rs`), handed to the patcher once it exists.
//!
//! Leptos' `InertElement` already renders an element from HTML on the
//! server, builds it in the browser and takes over the server's element when
//! hydrating; this wraps it to keep the element it built or took over, which
//! `InertElement` does not expose. One element from one string costs the
//! bundle far less than a `view!` with a typed attribute per value.
//!
//! Attributes spread onto the component (`<UploadProgressRobust {..}
//! id="job" on:click=... />`) land on this root: written into its opening
//! tag on the server, set (or hydrated) on the element in the browser. The
//! patcher keeps classes it did not write, so a spread `class` stays too.

use leptos::prelude::*;
use leptos::tachys::html::attribute::any_attribute::{
    AnyAttribute, AnyAttributeState, IntoAnyAttribute,
};
use leptos::tachys::html::attribute::Attribute;
use leptos::tachys::html::InertElement;
use leptos::tachys::hydration::Cursor;
use leptos::tachys::view::{Mountable, Position, PositionState, Render, RenderHtml};
use web_sys::Element;

use crate::shell::listener::Listener;
use crate::view::markup::{self, Press, SafeHtml};
use crate::view::patch::pressed_class;

/// Where the built (or hydrated) element is left for the view's effect,
/// with its click listener; both go when the view's owner does.
pub(crate) type RootSlot = StoredValue<Option<Root>, LocalStorage>;

/// The root element, its one click listener and the spread attributes'
/// state (their reactive updates live as long as it does).
pub(crate) struct Root {
    pub(crate) element: Element,
    _click: Listener,
    _spread: Option<(Element, Vec<AnyAttributeState>)>,
}

/// What a pressed button does.
pub(crate) type OnPress = Box<dyn Fn(Press) + Send + Sync>;

/// The widget's root element, as HTML.
pub(crate) struct RootView {
    pub(crate) html: SafeHtml,
    pub(crate) slot: RootSlot,
    pub(crate) on_press: OnPress,
    /// Attributes spread onto the component, for the root.
    pub(crate) spread: Vec<AnyAttribute>,
}

/// What Leptos keeps of a built root (the element, mounted and unmounted
/// by `InertElement`'s own state).
pub(crate) type RootState = <InertElement as Render>::State;

impl RootView {
    /// Leaves the element in the slot and listens for its buttons, from
    /// the moment it exists (a click right after mounting counts); `spread`
    /// puts the spread attributes on it.
    fn keep(
        slot: RootSlot,
        on_press: OnPress,
        state: RootState,
        spread: impl FnOnce(&Element) -> Option<(Element, Vec<AnyAttributeState>)>,
    ) -> RootState {
        if let Some(element) = state.elements().into_iter().next() {
            // One listener for every button, present or still to come.
            let click = Listener::new(&element, "click", move |event| {
                if let Some(press) = pressed_class(&event).as_deref().and_then(markup::pressed) {
                    on_press(press);
                }
            });
            let spread = spread(&element);
            slot.try_set_value(Some(Root {
                element,
                _click: click,
                _spread: spread,
            }));
        }
        state
    }
}

impl Render for RootView {
    type State = RootState;

    fn build(self) -> Self::State {
        let spread = self.spread;
        Self::keep(
            self.slot,
            self.on_press,
            InertElement::new(self.html.into_string()).build(),
            |el| (!spread.is_empty()).then(|| spread.build(el)),
        )
    }

    fn rebuild(self, state: &mut Self::State) {
        // Always a fresh element, even for the same HTML: the one on the
        // page belongs to the widget being replaced and shows its state,
        // and this widget's patcher must start from its own markup.
        let mut fresh = InertElement::new(self.html.into_string()).build();
        state.insert_before_this(&mut fresh);
        state.unmount();
        let spread = self.spread;
        *state = Self::keep(self.slot, self.on_press, fresh, |el| {
            (!spread.is_empty()).then(|| spread.build(el))
        });
    }
}

impl leptos::tachys::view::add_attr::AddAnyAttr for RootView {
    type Output<SomeNewAttr: Attribute> = RootView;

    fn add_any_attr<NewAttr: Attribute>(mut self, attr: NewAttr) -> Self::Output<NewAttr> {
        self.spread.push(attr.into_any_attr());
        self
    }
}

impl RenderHtml for RootView {
    type AsyncOutput = Self;
    type Owned = Self;

    const MIN_LENGTH: usize = 0;

    fn html_len(&self) -> usize {
        self.html.as_str().len() + self.spread.html_len()
    }

    fn dry_resolve(&mut self) {}

    async fn resolve(self) -> Self::AsyncOutput {
        self
    }

    fn to_html_with_buf(
        self,
        buf: &mut String,
        position: &mut Position,
        escape: bool,
        mark_branches: bool,
        extra_attrs: Vec<AnyAttribute>,
    ) {
        let html = with_spread(self.html.into_string(), self.spread);
        InertElement::new(html).to_html_with_buf(buf, position, escape, mark_branches, extra_attrs);
    }

    fn hydrate<const FROM_SERVER: bool>(
        self,
        cursor: &Cursor,
        position: &PositionState,
    ) -> Self::State {
        let state =
            InertElement::new(self.html.into_string()).hydrate::<FROM_SERVER>(cursor, position);
        let spread = self.spread;
        Self::keep(self.slot, self.on_press, state, |el| {
            (!spread.is_empty()).then(|| spread.hydrate::<FROM_SERVER>(el))
        })
    }

    fn into_owned(self) -> Self::Owned {
        self
    }
}

/// The root's markup with the spread attributes in its opening tag: their
/// classes joined to the root's class list (which comes first), the rest
/// after it. Leptos escapes what it writes.
fn with_spread(html: String, spread: Vec<AnyAttribute>) -> String {
    if spread.is_empty() {
        return html;
    }
    let (mut attrs, mut class, mut style, mut inner) =
        (String::new(), String::new(), String::new(), String::new());
    spread.to_html(&mut attrs, &mut class, &mut style, &mut inner);
    if !style.is_empty() {
        attrs.push_str(" style=\"");
        attrs.push_str(&style);
        attrs.push('"');
    }
    // `<section class="upr …"`: the class value ends at the first quote
    // after its opening one.
    const OPEN: &str = "<section class=\"";
    let class_end = OPEN.len() + html[OPEN.len()..].find('"').unwrap_or(0);
    let mut out = String::with_capacity(html.len() + attrs.len() + class.len() + 1);
    out.push_str(&html[..class_end]);
    if !class.trim().is_empty() {
        out.push(' ');
        out.push_str(class.trim());
    }
    out.push('"');
    out.push_str(&attrs);
    out.push_str(&html[class_end + 1..]);
    out
}
