//! `UploadProgressView`: renders a progress snapshot and a status.
//!
//! It holds no connection of its own, so it can render any state (tests use
//! it that way) and the component and the embed API share it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use gloo_timers::callback::Interval;
use leptos::prelude::*;
use upload_progress_core::session::{bar_animates, Millis, Status};
use upload_progress_core::Progress;

use crate::clock;
use crate::describe;
use crate::labels::Labels;
use crate::lead::{told, Lead};

/// How often the data age and countdowns are re-rendered.
const TICK_MS: u32 = 1_000;

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
    /// Name shown in the header. Default: empty (the `untitled` label is shown).
    #[prop(optional, into)]
    filename: Signal<String>,
    /// Called when the Reconnect button is pressed. Default: nothing.
    #[prop(optional, into)]
    on_reconnect: Option<Callback<()>>,
    /// Visible strings. Default: `Labels::default()` (English).
    #[prop(optional)]
    labels: Option<Labels>,
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
    let lead_text = lead.as_ref().map(Lead::text);
    let labels = Arc::new(labels.unwrap_or_default());
    // With its own ticker the view reads the real clock whenever it renders
    // (a status change between ticks must not show a countdown one second
    // long); the tick only makes it render again. A given clock is used as is.
    let external = clock.is_some();
    let tick = clock.unwrap_or_else(ticking_clock);
    let now = move || {
        let t = tick.get();
        if external {
            t
        } else {
            clock::now().max(t)
        }
    };

    // One memo per shown value: an update recomputes them all (cheap), but
    // only a value that changed reaches its text node or attribute, so a new
    // `seq` touches `data-seq` and nothing else. Nearly every memo is a
    // `Memo<String>` or `Memo<Option<String>>` built by `memo`, so the
    // rendering code is generated once per type, not once per binding.
    let l = labels.clone();
    let title = memo(Box::new(move || {
        let name = filename.get();
        if name.trim().is_empty() {
            l.untitled.clone()
        } else {
            name
        }
    }));
    let percent = Memo::new(move |_| {
        told(lead_text, |t| t.percent)
            .unwrap_or_else(|| progress.with(|p| p.as_ref().map(describe::percent_whole)))
    });
    let percent_text = memo(Box::new(move || percent.get().map(|p| format!("{p}%"))));
    let percent_now = memo(Box::new(move || percent.get().map(|p| p.to_string())));
    let percent_attr = memo(Box::new(move || percent.get().unwrap_or(0).to_string()));
    // The fill is the bar's full width slid left by what is missing: a
    // transform the compositor animates, where a width needs a layout.
    // Whether it animates to the new value is core's rule on the time since
    // the previous change (measured here; 0: no change yet; an atomic as
    // memo readers must be `Sync`): a fast change is drawn as it is, with
    // the stylesheet's transition switched off inline.
    let last_change = AtomicU64::new(0);
    let fill_style = memo(Box::new(move || {
        let missing = 100 - percent.get().unwrap_or(0).min(100);
        let now = clock::now().max(1);
        let previous = last_change.swap(now, Ordering::Relaxed);
        let animates = bar_animates((previous > 0).then(|| now.saturating_sub(previous)));
        let motion = if animates { "" } else { "; transition: none" };
        format!("transform: translateX(-{missing}%){motion}")
    }));
    let indeterminate = Memo::new(move |_| percent.get().is_none());
    let l = labels.clone();
    let value_text = memo(Box::new(move || {
        told(lead_text, |t| t.value_text.clone())
            .unwrap_or_else(|| progress.with(|p| describe::value_text(&l, p.as_ref())))
    }));
    let process_id = memo(Box::new(move || {
        progress.with(|p| {
            p.as_ref()
                .map(|p| p.process_id.to_string())
                .unwrap_or_default()
        })
    }));
    let stage = memo(Box::new(move || {
        progress.with(|p| p.as_ref().and_then(|p| p.stage.clone()).unwrap_or_default())
    }));
    let seq = memo(Box::new(move || {
        progress
            .with(|p| p.as_ref().map_or(0, |p| p.seq))
            .to_string()
    }));
    let message = memo(Box::new(move || {
        progress.with(|p| p.as_ref().map(|p| p.message.clone()).unwrap_or_default())
    }));
    let job_state = memo(Box::new(move || {
        progress
            .with(|p| describe::job_state_attr(p.as_ref()))
            .to_owned()
    }));
    let stages = Memo::new(move |_| {
        progress.with(|p| p.as_ref().map(|p| p.stages.clone()).unwrap_or_default())
    });
    let connection = memo(Box::new(move || {
        status.with(describe::connection_attr).to_owned()
    }));
    let root_class = memo(Box::new(move || {
        connection.with(|c| format!("upr upr--{c}"))
    }));
    let mode = memo(Box::new(move || {
        status.with(|s| describe::mode_attr(s.mode)).to_owned()
    }));
    let attempt = memo(Box::new(move || status.with(describe::attempt_attr)));
    let l = labels.clone();
    let connection_text = memo(Box::new(move || {
        told(lead_text, |t| t.status_text.clone())
            .unwrap_or_else(|| status.with(|s| describe::connection_text(&l, s, now())))
    }));
    // The announced sentence follows the status only, not the one-second
    // tick, so a screen reader hears "reconnecting in 8 s" once per change
    // instead of a countdown every second.
    let l = labels.clone();
    let announced = memo(Box::new(move || {
        if let Some(news) = told(lead_text, |t| t.announcement.clone()) {
            return news;
        }
        status.with(|s| {
            let at = if external {
                tick.get_untracked()
            } else {
                clock::now().max(tick.get_untracked())
            };
            describe::connection_text(&l, s, at)
        })
    }));
    let l = labels.clone();
    let latency = memo(Box::new(move || {
        status.with(|s| describe::latency_text(&l, s))
    }));
    let l = labels.clone();
    let age_text = memo(Box::new(move || {
        status.with(|s| describe::age_text(&l, s.last_update_at, now()))
    }));
    let l = labels.clone();
    let alert = memo(Box::new(move || {
        progress.with(|p| status.with(|s| describe::alert_text(&l, p.as_ref(), s)))
    }));
    let offers_reconnect = Memo::new(move |_| status.with(Status::offers_reconnect));
    let l = labels.clone();
    let stage_items = move || {
        stages.with(|list| {
            list.iter()
                .map(|stage| {
                    let (modifier, word) = describe::stage_status(&l, stage.status);
                    view! {
                        <li
                            class=format!("upr__stage upr__stage--{modifier}")
                            data-stage=stage.name.clone()
                            data-status=modifier
                            aria-current=(modifier == "current").then_some("step")
                        >
                            <span class="upr__stage-marker" aria-hidden="true"></span>
                            <span class="upr__stage-label">{stage.label.clone()}</span>
                            <span class="upr__sr-only">{format!(" ({word})")}</span>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let reconnect_label = labels.reconnect.clone();
    let progress_label = labels.progress_label.clone();
    let stages_label = labels.stages_label.clone();

    view! {
        <section
            class=root_class
            data-process-id=process_id
            data-state=job_state
            data-stage=stage
            data-mode=mode
            data-connection=connection
            data-seq=seq
            data-percent=percent_attr
            data-attempt=attempt
        >
            <header class="upr__header">
                <span class="upr__filename">{title}</span>
                <span class="upr__percent">{percent_text}</span>
            </header>
            <div
                class="upr__bar"
                class:upr__bar--indeterminate=indeterminate
                role="progressbar"
                aria-label=progress_label
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow=percent_now
                aria-valuetext=value_text
            >
                <div class="upr__bar-fill" style=fill_style></div>
            </div>
            {lead.map(Lead::into_panel)}
            <ol class="upr__stages" aria-label=stages_label>
                {stage_items}
            </ol>
            <p class="upr__message">{message}</p>
            <div class="upr__status">
                <div class="upr__connection" title=latency>
                    <span class="upr__dot" aria-hidden="true"></span>
                    <span class="upr__connection-text" aria-hidden="true">{connection_text}</span>
                    <span class="upr__announce upr__sr-only" aria-live="polite" aria-atomic="true">
                        {announced}
                    </span>
                    <span class="upr__latency upr__sr-only">{latency}</span>
                </div>
                <span class="upr__age">{age_text}</span>
                <Show when=move || offers_reconnect.get()>
                    <button
                        type="button"
                        class="upr__reconnect"
                        on:click=move |_| {
                            if let Some(cb) = on_reconnect {
                                cb.run(());
                            }
                        }
                    >
                        {reconnect_label.clone()}
                    </button>
                </Show>
            </div>
            <div class="upr__alert" role="alert">
                {move || alert.get().map(|text| view! { <p class="upr__error">{text}</p> })}
            </div>
        </section>
    }
}

/// How a shown value is read from the signals.
type Read<T> = Box<dyn Fn() -> T + Send + Sync>;

/// A memo over `read`. Taking the reader boxed keeps one copy of the memo's
/// code per value type instead of one per call site.
fn memo<T: PartialEq + Send + Sync + 'static>(read: Read<T>) -> Memo<T> {
    Memo::new(move |_| read())
}

/// A signal holding `performance.now()`, refreshed every second while the
/// view is mounted. The interval lives in the view's owner and is cancelled
/// with it.
fn ticking_clock() -> Signal<Millis> {
    let (now, set_now) = signal(clock::now());
    // Effects run only in the browser: a server render starts no timer.
    let holder = StoredValue::new_local(None::<Interval>);
    Effect::new(move |_| {
        set_now.try_set(clock::now());
        let interval = Interval::new(TICK_MS, move || {
            set_now.try_set(clock::now());
        });
        holder.try_set_value(Some(interval));
    });
    on_cleanup(move || {
        let interval = holder.try_update_value(|i| i.take()).flatten();
        drop(interval);
    });
    now.into()
}
