//! Where files enter the page: a drop zone around the browser's own file
//! button (native, so it is reachable and operable by keyboard and screen
//! readers without extra work).

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Every file of a `FileList`, in order.
fn files_of(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    let Some(list) = list else {
        return Vec::new();
    };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// The drop zone; `on_files` gets every file dropped or chosen.
#[component]
pub fn DropZone(on_files: Callback<Vec<web_sys::File>>) -> impl IntoView {
    // A file dropped beside the zone would make the browser leave the page
    // to show it; the page takes no drops outside the zone instead.
    for handle in [
        window_event_listener(leptos::ev::dragover, |ev| ev.prevent_default()),
        window_event_listener(leptos::ev::drop, |ev| ev.prevent_default()),
    ] {
        on_cleanup(move || handle.remove());
    }
    // dragenter and dragleave fire for every child crossed, so the zone is
    // highlighted while the count of entered elements is above zero.
    let (depth, set_depth) = signal(0_u32);

    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        set_depth.set(0);
        let files = files_of(ev.data_transfer().and_then(|d| d.files()));
        if !files.is_empty() {
            on_files.run(files);
        }
    };
    let on_change = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let files = files_of(input.files());
        // Cleared, so choosing the same file again starts another upload
        // (which resumes the first one's if it is unfinished).
        input.set_value("");
        if !files.is_empty() {
            on_files.run(files);
        }
    };

    // dragover must be cancelled too, or the browser refuses the drop.
    view! {
        <div
            class="demo__drop"
            class=("demo__drop--over", move || depth.get() > 0)
            on:dragenter=move |ev: leptos::ev::DragEvent| {
                ev.prevent_default();
                set_depth.update(|d| *d += 1);
            }
            on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
            on:dragleave=move |_| set_depth.update(|d| *d = d.saturating_sub(1))
            on:drop=on_drop
        >
            <p class="demo__drop-title">"Drop files here"</p>
            <label class="demo__drop-label" for="demo-file">
                "or choose them:"
            </label>
            <input id="demo-file" class="demo__file" type="file" multiple on:change=on_change />
            <p class="demo__muted">
                "Each file goes up in resumable chunks (tus) and gets its own widget; "
                "up to 10 MB each. Three go up at a time; the others wait their turn."
            </p>
        </div>
    }
}
