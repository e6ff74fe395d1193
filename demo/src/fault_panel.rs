//! Buttons that break the connection on purpose, each saying what real
//! trouble it stands in for, and the answer of the last one pressed.

use leptos::prelude::*;

use crate::api;
use crate::faults::Fault;

/// The fault panel; `http_base` is the server's origin, `admin_token` its
/// admin bearer.
#[component]
pub fn FaultPanel(
    #[prop(into)] http_base: Signal<String>,
    #[prop(into)] admin_token: Signal<String>,
) -> impl IntoView {
    let (answer, set_answer) = signal(String::new());
    let rows = Fault::ALL
        .iter()
        .map(|&fault| {
            let inject = move |_| {
                let base = http_base.get_untracked();
                let admin = admin_token.get_untracked();
                set_answer.set(format!("{}…", fault.label()));
                leptos::task::spawn_local(async move {
                    let text = match api::inject(&base, &admin, fault).await {
                        Ok(text) => text,
                        Err(e) => format!("{}: {e}", fault.label()),
                    };
                    set_answer.try_set(text);
                });
            };
            view! {
                <li class="demo__fault">
                    <button type="button" class="demo__button" on:click=inject>
                        {fault.label()}
                    </button>
                    <span class="demo__muted">{fault.simulates()}</span>
                </li>
            }
        })
        .collect_view();

    view! {
        <section class="demo__panel" aria-labelledby="demo-faults-title">
            <h2 id="demo-faults-title">"Break the connection"</h2>
            <ul class="demo__faults">
                {rows}
                <li class="demo__fault">
                    <span class="demo__offline">"Offline"</span>
                    <span class="demo__muted">
                        "The browser's own: switch the network off in its developer tools. "
                        "Widgets and uploads hold still and go on the moment it is back."
                    </span>
                </li>
            </ul>
            <p class="demo__answer" role="status">{answer}</p>
        </section>
    }
}
