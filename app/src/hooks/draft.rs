//! Unsaved text kept in the browser (`localStorage`) until the server has it, so a reload,
//! a crash or a closed tab loses nothing typed. A draft records the version it was typed
//! on; it is offered back only while the stored version is still that one (else someone
//! saved over it, and the server's text wins). Nothing on the server; a no-op there.
//!
//! Stored as JSON written and read by the browser's own `JSON` object, so no serde code for
//! it goes into the WASM bundle.

/// Changed fields of one record, and the version they were typed on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Draft {
    /// The `updated_at` the edits started from.
    pub base: String,
    /// Field name and text.
    pub fields: Vec<(String, String)>,
}

fn key(id: &str) -> String {
    format!("aion-draft:{id}")
}

#[cfg(target_arch = "wasm32")]
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// Keeps `draft` for record `id`; an empty draft removes it.
pub fn save(id: &str, draft: &Draft) {
    #[cfg(target_arch = "wasm32")]
    if let Some(s) = storage() {
        if draft.fields.is_empty() {
            let _ = s.remove_item(&key(id));
        } else if let Some(json) = to_json(draft) {
            let _ = s.set_item(&key(id), &json);
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (key(id), draft);
}

/// The draft of record `id` if it was typed on version `current`.
pub fn load(id: &str, current: &str) -> Option<Draft> {
    #[cfg(target_arch = "wasm32")]
    {
        let json = storage()?.get_item(&key(id)).ok()??;
        let draft = from_json(&json)?;
        (draft.base == current && !draft.fields.is_empty()).then_some(draft)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (key(id), current);
        None
    }
}

#[cfg(target_arch = "wasm32")]
fn to_json(draft: &Draft) -> Option<String> {
    use js_sys::{Object, Reflect};
    let fields = Object::new();
    for (k, v) in &draft.fields {
        Reflect::set(&fields, &k.into(), &v.into()).ok()?;
    }
    let obj = Object::new();
    Reflect::set(&obj, &"base".into(), &draft.base.as_str().into()).ok()?;
    Reflect::set(&obj, &"fields".into(), &fields).ok()?;
    js_sys::JSON::stringify(&obj).ok()?.as_string()
}

#[cfg(target_arch = "wasm32")]
fn from_json(json: &str) -> Option<Draft> {
    use js_sys::{Array, Object, Reflect};
    use wasm_bindgen::JsCast;
    let obj = js_sys::JSON::parse(json).ok()?;
    let base = Reflect::get(&obj, &"base".into()).ok()?.as_string()?;
    let fields = Reflect::get(&obj, &"fields".into())
        .ok()?
        .dyn_into::<Object>()
        .ok()?;
    let mut out = Vec::new();
    for entry in Object::entries(&fields).iter() {
        let pair = entry.dyn_into::<Array>().ok()?;
        out.push((pair.get(0).as_string()?, pair.get(1).as_string()?));
    }
    Some(Draft { base, fields: out })
}
