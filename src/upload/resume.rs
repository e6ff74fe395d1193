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
pub(crate) fn load(key: &str) -> Option<ResumeFrom> {
    let text = storage()?.get_item(key).ok()??;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(ResumeFrom {
        url: value.get("url")?.as_str()?.to_owned(),
        process_id: value
            .get("process_id")
            .and_then(|v| v.as_str())
            .map(str::to_owned),
        // Tokens are not kept: a reloaded page gets a fresh one from its app.
        token: None,
    })
}

/// Remembers the upload created for this fingerprint.
pub(crate) fn save(key: &str, url: &str, process_id: Option<&str>) {
    if let Some(storage) = storage() {
        let value = serde_json::json!({ "url": url, "process_id": process_id });
        let _ = storage.set_item(key, &value.to_string());
    }
}

/// Forgets it (finished, cancelled, or gone from the server).
pub(crate) fn forget(key: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(key);
    }
}
