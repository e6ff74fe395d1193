//! The browser side: the page's module calls [`hydrate`] once the
//! WebAssembly is loaded.

use leptos::prelude::*;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsCast;

use crate::app::App;
use crate::job_param::job_from_query;

/// Takes over the markup the server rendered in `#app`.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    let search = window().location().search().unwrap_or_default();
    let job = job_from_query(&search);
    let Some(root) = document()
        .get_element_by_id("app")
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        leptos::logging::error!("no #app element to hydrate");
        return;
    };
    leptos::mount::hydrate_from(root, move || view! { <App job=job /> }).forget();
}
