//! The smallest useful Leptos app: a button that counts. Its bundle is the
//! baseline the component's size is compared against.

use leptos::prelude::*;

fn main() {
    mount_to_body(|| {
        let (count, set_count) = signal(0);
        view! {
            <button on:click=move |_| set_count.update(|n| *n += 1)>
                "Clicked " {count} " times"
            </button>
        }
    });
}
