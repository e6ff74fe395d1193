//! The widget as a Leptos view: one element given as HTML (from
//! `markup.rs`), handed to the patcher once it exists.
//!
//! Leptos' `InertElement` already renders an element from HTML on the
//! server, builds it in the browser and takes over the server's element when
//! hydrating; this wraps it to keep the element it built or took over, which
//! `InertElement` does not expose. One element from one string costs the
//! bundle far less than a `view!` with a typed attribute per value.

use leptos::prelude::*;
use leptos::tachys::html::attribute::any_attribute::AnyAttribute;
use leptos::tachys::html::InertElement;
use leptos::tachys::hydration::Cursor;
use leptos::tachys::view::{Mountable, Position, PositionState, Render, RenderHtml};
use web_sys::Element;

use crate::shell::listener::Listener;
use crate::view::markup::{self, Press};
use crate::view::patch::pressed_class;

/// Where the built (or hydrated) element is left for the view's effect,
/// with its click listener; both go when the view's owner does.
pub(crate) type RootSlot = StoredValue<Option<Root>, LocalStorage>;

/// The root element and its one click listener.
pub(crate) struct Root {
    pub(crate) element: Element,
    _click: Listener,
}

/// What a pressed button does.
pub(crate) type OnPress = Box<dyn Fn(Press) + Send + Sync>;

/// The widget's root element, as HTML.
pub(crate) struct RootView {
    pub(crate) html: String,
    pub(crate) slot: RootSlot,
    pub(crate) on_press: OnPress,
}

/// What Leptos keeps of a built root (the element, mounted and unmounted
/// by `InertElement`'s own state).
pub(crate) type RootState = <InertElement as Render>::State;

impl RootView {
    /// Leaves the element in the slot and listens for its buttons, from
    /// the moment it exists (a click right after mounting counts).
    fn keep(slot: RootSlot, on_press: OnPress, state: RootState) -> RootState {
        if let Some(element) = state.elements().into_iter().next() {
            // One listener for every button, present or still to come.
            let click = Listener::new(&element, "click", move |event| {
                if let Some(press) = pressed_class(&event).as_deref().and_then(markup::pressed) {
                    on_press(press);
                }
            });
            slot.try_set_value(Some(Root {
                element,
                _click: click,
            }));
        }
        state
    }
}

impl Render for RootView {
    type State = RootState;

    fn build(self) -> Self::State {
        Self::keep(
            self.slot,
            self.on_press,
            InertElement::new(self.html).build(),
        )
    }

    fn rebuild(self, state: &mut Self::State) {
        // Always a fresh element, even for the same HTML: the one on the
        // page belongs to the widget being replaced and shows its state,
        // and this widget's patcher must start from its own markup.
        let mut fresh = InertElement::new(self.html).build();
        state.insert_before_this(&mut fresh);
        state.unmount();
        *state = Self::keep(self.slot, self.on_press, fresh);
    }
}

// Attributes spread onto the component are not applied: the root's
// attributes are the widget's own (state, mode, connection…).
leptos::tachys::no_attrs!(RootView);

impl RenderHtml for RootView {
    type AsyncOutput = Self;
    type Owned = Self;

    const MIN_LENGTH: usize = 0;

    fn html_len(&self) -> usize {
        self.html.len()
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
        InertElement::new(self.html).to_html_with_buf(
            buf,
            position,
            escape,
            mark_branches,
            extra_attrs,
        );
    }

    fn hydrate<const FROM_SERVER: bool>(
        self,
        cursor: &Cursor,
        position: &PositionState,
    ) -> Self::State {
        let state = InertElement::new(self.html).hydrate::<FROM_SERVER>(cursor, position);
        Self::keep(self.slot, self.on_press, state)
    }

    fn into_owned(self) -> Self::Owned {
        self
    }
}
