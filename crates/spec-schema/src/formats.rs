//! The string formats the spec uses that draft 4 leaves open or does not know (`date-time`,
//! `uuid`), defined as strictly as the server can store them: a value accepted here must never
//! fail later when the generated type parses it.

/// An RFC 3339 date-time (`T` or `t` between date and time, a `Z`, `z` or numeric offset) that
/// names an instant whose UTC form is an RFC 3339 date-time too, that is within years 0000 to
/// 9999: a server that keeps date-times in UTC can store and answer every value this accepts.
pub(crate) fn is_date_time(text: &str) -> bool {
    use chrono::Datelike;

    // chrono also takes a space between date and time, which RFC 3339's grammar does not.
    if !matches!(text.as_bytes().get(10), Some(b'T' | b't')) {
        return false;
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .is_ok_and(|instant| (0..=9999).contains(&instant.to_utc().year()))
}

/// A hyphenated RFC 4122 uuid, in its plain form (no braces, no URN prefix).
pub(crate) fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            8 | 13 | 18 | 23 => *byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_fixture::check;

    #[test]
    fn date_times_name_an_instant_that_utc_can_write() {
        for accepted in [
            "2025-01-15T10:30:00Z",
            "2025-01-15t10:30:00.8822471z",
            "0000-01-01T00:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59.999999999Z",
            "9999-12-31T23:59:59+14:00",
        ] {
            check(json!({"Id": 1, "Name": "a", "When": accepted}), &[]);
        }
        for rejected in [
            // In UTC these are years 10000 and -1.
            "9999-12-31T23:59:59-14:00",
            "0000-01-01T00:00:00+01:00",
            "2025-01-15 10:30:00Z",
            "2025-01-15T10:30:00",
            "2025-02-30T00:00:00Z",
            "2025-01-15T10:30:00+24:00",
        ] {
            check(
                json!({"Id": 1, "Name": "a", "When": rejected}),
                &[("When", Some(json!(rejected)), "must be a valid date-time")],
            );
        }
    }

    #[test]
    fn uuids_are_hyphenated_hex_of_rfc_4122_length() {
        assert!(is_uuid("0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d90"));
        assert!(is_uuid("0D6B7C1E-3F8A-4C2E-9B1D-5A7E2F4C8D90"));
        for refused in [
            "0d6b7c1e3f8a4c2e9b1d5a7e2f4c8d90",
            "0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d9",
            "0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d900",
            "0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d9g",
            "0d6b7c1e-3f8a-4c2e-9b1d_5a7e2f4c8d90",
            "0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c-d90",
        ] {
            assert!(!is_uuid(refused), "{refused}");
        }
    }

    /// The date and time are separated by `T` or `t` at the eleventh byte, and the offset is
    /// required; a text too short to have one is no date-time.
    #[test]
    fn date_times_are_read_by_rfc_3339_alone() {
        assert!(is_date_time("2025-01-15T10:30:00+01:00"));
        assert!(is_date_time("2025-01-15T10:30:00.5-05:30"));
        for refused in [
            "",
            "2025-01-15",
            "2025-01-15T",
            "2025-01-15_10:30:00Z",
            "10:30:00Z",
        ] {
            assert!(!is_date_time(refused), "{refused}");
        }
    }

    /// Any version, the nil uuid included, in either case; the braced and URN forms are not the
    /// hyphenated form.
    #[test]
    fn uuids_of_any_version_are_accepted_in_their_plain_form_only() {
        assert!(is_uuid("00000000-0000-0000-0000-000000000000"));
        assert!(is_uuid("ffffffff-ffff-ffff-ffff-ffffffffffff"));
        for refused in [
            "",
            "{0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d90}",
            "urn:uuid:0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d90",
            "0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d9\u{e9}",
        ] {
            assert!(!is_uuid(refused), "{refused}");
        }
    }
}
