//! `Hydrated<T>`: a loader's value as it travels from the server's render to the browser in
//! the page's hydration data, as one JSON string.
//!
//! Dioxus carries `use_loader` values in CBOR, so every loaded type was decoded by two
//! decoders in the WASM client: CBOR at hydration, JSON from server functions afterwards,
//! each a full copy of the type's derived deserializer. Wrapped in `Hydrated`, the CBOR
//! side sees one string and the type is decoded by the JSON decoder the client has anyway
//! (`cargo xtask bundle-size` before and after: BENCHMARKS.md), from bytes as server
//! functions decode theirs, so both share one decoder per type. The page carries the same
//! data; JSON inside CBOR is a little larger than CBOR, and already-compressed pages make
//! the difference small.
//!
//! ```ignore
//! let page = use_loader(move || async move { load().await.map(Hydrated) })?;
//! page.read().items   // derefs to the value
//! ```

use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::DeserializeOwned};

/// `T`, serialised as a JSON string.
#[derive(Debug, Clone, PartialEq)]
pub struct Hydrated<T>(pub T);

impl<T> Deref for Hydrated<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Serialize> Serialize for Hydrated<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(&self.0).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Hydrated<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        // From bytes, as server functions decode their answers: the same decoder code
        // serves both (from `&str` would be a second copy of every type's decoder).
        serde_json::from_slice(text.as_bytes())
            .map(Hydrated)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_travels_as_one_json_string_and_comes_back_equal() {
        let value = Hydrated(vec![("龙".to_owned(), 1u64), ("b".to_owned(), 2)]);
        let outer = serde_json::to_value(&value).expect("serialises");
        assert_eq!(outer, serde_json::json!("[[\"龙\",1],[\"b\",2]]"));
        let back: Hydrated<Vec<(String, u64)>> = serde_json::from_value(outer).expect("decodes");
        assert_eq!(back, value);
        assert_eq!(back.len(), 2, "derefs to the value");
    }

    #[test]
    fn a_string_that_is_not_the_type_is_an_error() {
        let bad = serde_json::json!("{\"not\": \"a list\"}");
        assert!(serde_json::from_value::<Hydrated<Vec<u8>>>(bad).is_err());
    }
}
