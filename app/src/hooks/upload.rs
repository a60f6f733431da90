//! Sending a file the user picked, with upload progress: `XMLHttpRequest`, because `fetch`
//! reports no progress for request bodies. The file goes as the raw body (the endpoint
//! takes the image's bytes, with its type as Content-Type), straight from the browser's
//! `File` without being copied into WASM memory. WASM only; elsewhere every call fails.

// The server build renders the upload form but never sends from it.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use app::model::{ApiError, ErrorCode};

/// Bytes sent so far and in all.
pub type Sent = (f64, f64);

/// The answer: status and body text.
pub type Answer = (u16, String);

/// The error when no answer came.
fn network(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Network, message)
}

/// Turns an answer into its body, or the API error it carries.
pub fn checked(answer: Answer) -> Result<String, ApiError> {
    let (status, text) = answer;
    if (200..300).contains(&status) {
        Ok(text)
    } else {
        Err(ApiError::parse_body(&text).unwrap_or_else(|| {
            ApiError::new(
                ErrorCode::from_status(status),
                format!("the server answered {status}"),
            )
        }))
    }
}

/// The file chosen in the `<input type="file">` with this id, if any.
#[cfg(target_arch = "wasm32")]
pub fn chosen_file(input_id: &str) -> Option<web_sys::File> {
    use wasm_bindgen::JsCast;
    web_sys::window()?
        .document()?
        .get_element_by_id(input_id)?
        .dyn_into::<web_sys::HtmlInputElement>()
        .ok()?
        .files()?
        .get(0)
}

/// An object URL showing `file` (a preview before it is uploaded).
#[cfg(target_arch = "wasm32")]
pub fn preview_url(file: &web_sys::File) -> Option<String> {
    web_sys::Url::create_object_url_with_blob(file).ok()
}

/// Releases a preview URL.
#[cfg(target_arch = "wasm32")]
pub fn release(url: &str) {
    let _ = web_sys::Url::revoke_object_url(url);
}

/// Sends `file` (or nothing) with `method` to `url`, calling `progress` as the body goes out.
#[cfg(target_arch = "wasm32")]
pub async fn send(
    method: &str,
    url: &str,
    file: Option<&web_sys::File>,
    mut progress: impl FnMut(Sent) + 'static,
) -> Result<Answer, ApiError> {
    use wasm_bindgen::{JsCast, closure::Closure};
    let xhr =
        web_sys::XmlHttpRequest::new().map_err(|_| network("the browser cannot send requests"))?;
    xhr.open(method, url)
        .map_err(|_| network("the request could not be opened"))?;
    if let Some(file) = file {
        let kind = file.type_();
        if !kind.is_empty() {
            let _ = xhr.set_request_header("Content-Type", &kind);
        }
    }
    let on_progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
            if e.length_computable() {
                progress((e.loaded(), e.total()));
            }
        });
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    let (tx, rx) = futures_channel::oneshot::channel::<bool>();
    let tx = std::rc::Rc::new(std::cell::RefCell::new(Some(tx)));
    let done = {
        let tx = tx.clone();
        Closure::<dyn FnMut()>::new(move || {
            if let Some(tx) = tx.borrow_mut().take() {
                let _ = tx.send(true);
            }
        })
    };
    let failed = Closure::<dyn FnMut()>::new(move || {
        if let Some(tx) = tx.borrow_mut().take() {
            let _ = tx.send(false);
        }
    });
    xhr.set_onload(Some(done.as_ref().unchecked_ref()));
    xhr.set_onerror(Some(failed.as_ref().unchecked_ref()));
    xhr.set_onabort(Some(failed.as_ref().unchecked_ref()));
    let sent = match file {
        Some(f) => xhr.send_with_opt_blob(Some(f.as_ref())),
        None => xhr.send(),
    };
    sent.map_err(|_| network("the request could not be sent"))?;
    let loaded = rx.await.unwrap_or(false);
    // The closures live until the request has ended.
    drop((on_progress, done, failed));
    if !loaded {
        return Err(network("the upload did not reach the server"));
    }
    Ok((
        xhr.status().unwrap_or(0),
        xhr.response_text().ok().flatten().unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_become_bodies_or_the_api_error_they_carry() {
        assert_eq!(checked((202, "{}".into())).ok().as_deref(), Some("{}"));
        let e = checked((
            413,
            r#"{"error":{"code":"payload_too_large","message":"a cover is at most 10 MB","field":"cover"}}"#.into(),
        ))
        .expect_err("an error");
        assert_eq!(e.field(), Some("cover"));
        assert_eq!(
            checked((502, "<html>".into())).err().map(|e| e.code()),
            Some(ErrorCode::from_status(502))
        );
    }
}
