//! The embed API's upload options: `file` (a `File`) and `uploadUrl`.

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};

use crate::upload::FileUpload;

/// The upload asked for in `options`, if any; an error names the option
/// that is unusable.
pub(crate) fn read_upload(options: &JsValue) -> Result<Option<FileUpload>, String> {
    let Some(file) = field(options, "file") else {
        return Ok(None);
    };
    let file = file
        .dyn_into::<web_sys::File>()
        .map_err(|_| "option `file` must be a File (e.g. from an <input type=\"file\">)")?;
    let endpoint = match field(options, "uploadUrl") {
        None => None,
        Some(url) => Some(
            url.as_string()
                .filter(|u| !u.trim().is_empty())
                .ok_or("option `uploadUrl` must be a non-empty string")?,
        ),
    };
    Ok(Some(FileUpload {
        file,
        endpoint,
        options: Default::default(),
    }))
}

/// `options[key]`, unless missing, `undefined` or `null`.
fn field(options: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(options, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}
