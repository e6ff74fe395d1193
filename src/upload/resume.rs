//! Resuming after a reload: the upload's URL under a fingerprint of the file
//! in `localStorage`.

use upload_progress_core::upload::ResumeFrom;

/// Identifies one file for one endpoint across page loads.
pub(crate) fn fingerprint(file: &web_sys::File, endpoint: &str) -> String {
    format!(
        "upr-tus::{endpoint}::{}::{}::{}",
        file.name(),
        file.size() as u64,
        file.last_modified() as u64
    )
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The upload created earlier for this fingerprint, if any.
///
/// Stored as the URL, then the process id on a second line when there is
/// one: neither can hold a line break, and a plain format keeps a JSON
/// parser out of the module.
pub(crate) fn load(key: &str) -> Option<ResumeFrom> {
    let text = storage()?.get_item(key).ok()??;
    let (url, process_id) = match text.split_once('\n') {
        Some((url, id)) => (url, Some(id).filter(|id| !id.is_empty())),
        None => (text.as_str(), None),
    };
    // Empty, or a value in an older format: start a new upload.
    if url.is_empty() || url.starts_with('{') {
        return None;
    }
    Some(ResumeFrom {
        url: url.to_owned(),
        process_id: process_id.map(str::to_owned),
        // Tokens are not kept: a reloaded page gets a fresh one from its app.
        token: None,
    })
}

/// Remembers the upload created for this fingerprint.
pub(crate) fn save(key: &str, url: &str, process_id: Option<&str>) {
    if let Some(storage) = storage() {
        let value = match process_id {
            Some(id) => format!("{url}\n{id}"),
            None => url.to_owned(),
        };
        let _ = storage.set_item(key, &value);
    }
}

/// Forgets it (finished, cancelled, or gone from the server).
pub(crate) fn forget(key: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(key);
    }
}
