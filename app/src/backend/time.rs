//! Timestamps: stored as microseconds since the Unix epoch (compact, fast to compare and
//! index), sent as RFC 3339 strings with microsecond precision.

use crate::model::ApiError;

/// Microseconds since the Unix epoch, now.
pub fn now_micros() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

/// A write's timestamp: now, but always after `previous`, so `updated_at` strictly grows
/// and a stale-edit check cannot be fooled by two edits in the same microsecond.
pub fn next_after(previous: i64) -> i64 {
    now_micros().max(previous + 1)
}

/// A stored timestamp as RFC 3339, e.g. `2026-11-28T16:07:21.123456Z`.
pub fn to_rfc3339(micros: i64) -> String {
    match jiff::Timestamp::from_microsecond(micros) {
        Ok(ts) => ts.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        Err(_) => "1970-01-01T00:00:00.000000Z".to_owned(),
    }
}

/// Parses an RFC 3339 timestamp sent by a client, for the field named `field`.
pub fn parse_rfc3339(field: &str, text: &str) -> Result<i64, ApiError> {
    text.parse::<jiff::Timestamp>()
        .map(|ts| ts.as_microsecond())
        .map_err(|_| {
            ApiError::invalid(
                field,
                format!("{field} must be an RFC 3339 timestamp like 2026-11-28T16:07:21.123456Z"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_microseconds() {
        let us = 1_795_000_000_123_456;
        let text = to_rfc3339(us);
        assert!(text.ends_with(".123456Z"), "{text}");
        assert_eq!(parse_rfc3339("updated_at", &text).expect("parses"), us);
        assert!(parse_rfc3339("updated_at", "yesterday").is_err());
        assert!(next_after(i64::MAX / 2) > i64::MAX / 2);
    }
}
