//! `UploadProgressView`: renders a progress snapshot and a status.
//!
//! It holds no connection of its own, so it can render any state (tests use
//! it that way). The component renders through it; the embed widget, which
//! has no Leptos, shares its markup and patcher.

use gloo_timers::callback::Interval;
use leptos::prelude::*;
use upload_progress_core::session::{Millis, Status};
use upload_progress_core::Progress;

use crate::component::root_view::{OnPress, RootSlot, RootView};
use crate::shell::clock::{self, TICK_MS};
use crate::view::labels::Labels;
use crate::view::lead::Lead;
use crate::view::markup::{self, Press};
use crate::view::painter::{shown_now, Painter};
use crate::view::shown::{Announce, Scene};

/// Renders one job: file name, progress bar, stages, server message,
/// connection indicator, data age, Reconnect button and errors.
///
/// State for tests and styling is exposed on the root element as
/// `data-process-id`, `data-state` (job state), `data-stage` (current stage
/// name), `data-mode` (`websocket` / `http_polling` / `none`),
/// `data-connection`, `data-seq`, `data-percent` and `data-attempt`;
/// `data-process-id` and `data-stage` are empty until a snapshot names them.
#[component]
pub fn UploadProgressView(
    /// The newest progress, `None` before the first snapshot.
    #[prop(into)]
    progress: Signal<Option<Progress>>,
    /// The connection status.
    #[prop(into)]
    status: Signal<Status>,
    /// Name shown in the header. Reactive. Default: empty (the `untitled`
    /// label is shown).
    #[prop(optional, into)]
    filename: Signal<String>,
    /// Classes added to the root's own (`upr upr--{connection}`), e.g. for
    /// layout. Reactive. Default: none.
    #[prop(optional, into)]
    class: Signal<String>,
    /// Called when the Reconnect button is pressed. Default: nothing.
    #[prop(optional, into)]
    on_reconnect: Option<Callback<()>>,
    /// Visible strings, for translation. Reactive: new labels rewrite every
    /// text at once (the language switched). Default: `Labels::default()`
    /// (English).
    #[prop(optional, into)]
    labels: Signal<Labels>,
    /// The clock for data age and countdowns, in `performance.now()`
    /// milliseconds. Default: a one-second ticker owned by this view.
    #[prop(optional, into)]
    clock: Option<Signal<Millis>>,
    /// A story told before the job's, on the same bar and status line (the
    /// upload of the job's file, from `UploadProgressRobust` with a `file`).
    /// Default: none.
    #[prop(optional_no_strip)]
    lead: Option<Lead>,
) -> impl IntoView {
    // A given clock is used as is. Without one, `tick` changes once a second
    // while the view is mounted (the ticker belongs to the painter below) and
    // every render reads the real clock: a status change between ticks must
    // not show a countdown one second long.
    let (tick, set_tick) = signal(0u32);
    let told = lead.clone();

    // Reads every input (tracked, inside the effect) and hands the scene
    // to `paint`: one computation per update instead of one per bound
    // value, and no reactive node per text.
    let with_scene = move |paint: &mut dyn FnMut(Scene)| {
        let now = match clock {
            Some(given) => given.get(),
            None => {
                tick.track();
                clock::now()
            }
        };
        let (lead, panel) = told.as_ref().map(Lead::read).unwrap_or_default();
        status.with(|status| {
            progress.with(|progress| {
                filename.with(|filename| {
                    class.with(|class| {
                        read_labels(labels, &mut |labels| {
                            paint(Scene {
                                labels,
                                progress: progress.as_ref(),
                                status,
                                filename,
                                class,
                                lead: lead.as_ref(),
                                panel: panel.as_ref(),
                                now,
                                // The painter's, from its `Announce`.
                                announce_at: 0,
                            })
                        })
                    })
                })
            })
        })
    };

    let mut announce = Announce::default();
    let mut first = None;
    untrack(|| {
        with_scene(&mut |scene| {
            let labels = scene.labels;
            let shown = shown_now(&mut announce, scene);
            let html = markup::html(&shown, labels);
            first = Some((shown, html, labels.fingerprint()));
        })
    });
    let (first, html, first_labels) = first.expect("the scene is read once");
    let slot: RootSlot = StoredValue::new_local(None);
    // In the browser only (effects do not run on the server): the first run
    // takes over the elements the markup made (or the server rendered) and
    // writes every value (the server's may differ), every later one writes
    // what changed, or again everything when the labels changed.
    Effect::new(move |view: Option<Option<LiveView>>| {
        let mut view = view.flatten().or_else(|| {
            let element = slot.try_with_value(|r| r.as_ref().map(|r| r.element.clone()))??;
            // A failure names the missing element in the console.
            let painter = Painter::adopt(element, first.clone(), announce.clone())?;
            let ticker = clock.is_none().then(|| {
                Interval::new(TICK_MS, move || {
                    set_tick.try_update(|t| *t = t.wrapping_add(1));
                })
            });
            Some(LiveView {
                painter,
                labels: first_labels.clone(),
                _ticker: ticker,
            })
        })?;
        with_scene(&mut |scene| {
            let labels = scene.labels.fingerprint();
            if labels != view.labels {
                view.labels = labels;
                view.painter.relabel();
            }
            view.painter.paint(scene)
        });
        Some(view)
    });
    let on_press: OnPress = Box::new(move |press| match press {
        Press::Reconnect => {
            if let Some(cb) = on_reconnect {
                cb.run(());
            }
        }
        Press::Lead(action) => {
            if let Some(lead) = &lead {
                lead.act(action);
            }
        }
    });
    RootView {
        html,
        slot,
        on_press,
        spread: Vec::new(),
    }
}

/// Reads the labels (tracked) through one non-generic entry point: each
/// closure given to `Signal::with` would otherwise copy the signal's read
/// for every kind of signal into the bundle.
#[inline(never)]
fn read_labels(labels: Signal<Labels>, f: &mut dyn FnMut(&Labels)) {
    labels.with(|labels| f(labels));
}

/// The painter, the labels the elements show (their fingerprint, to
/// notice new ones) and the ticker, stopped with it when the view goes away.
struct LiveView {
    painter: Painter,
    labels: String,
    _ticker: Option<Interval>,
}
