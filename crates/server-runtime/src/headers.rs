//! The request's head read strictly: a header that names one thing is sent at most once, the
//! framing is one this crate decodes, and a body is sent in the one media type (and encoding)
//! the operation reads. A server and the proxies before it must not each see a different
//! request, so an ambiguous head is refused rather than resolved by picking one reading.

use api_description::BodyFormat;
use http::{HeaderMap, HeaderName, Version, header};

use crate::rejection::Rejection;

/// Headers that name one thing: sent twice, a server and the proxies before it could each read a
/// different one.
static SINGLE: [(HeaderName, &str); 5] = [
    (header::AUTHORIZATION, "Authorization"),
    (header::CONTENT_TYPE, "Content-Type"),
    (header::CONTENT_LENGTH, "Content-Length"),
    (header::CONTENT_ENCODING, "Content-Encoding"),
    (header::HOST, "Host"),
];

/// The head of a request read strictly, before anything else: each header that names one thing
/// at most once, `Host` present in HTTP/1.1 (RFC 9112, section 3.2), and `Transfer-Encoding`
/// only as `chunked`: another coding would not be decoded. (A `Content-Length` beside it is
/// the HTTP implementation's to drop, as section 6.3 says; hyper does, and closes the connection
/// after the answer.)
pub fn check_headers(version: Version, headers: &HeaderMap) -> Result<(), Rejection> {
    for (header, name) in &SINGLE {
        once(headers, header, name)?;
    }
    let mut codings = headers.get_all(header::TRANSFER_ENCODING).iter().peekable();
    if codings.peek().is_some() {
        let chunked_alone = codings.count() == 1
            && headers
                .get(header::TRANSFER_ENCODING)
                .and_then(|value| value.to_str().ok())
                .is_some_and(|value| value.trim().eq_ignore_ascii_case("chunked"));
        if !chunked_alone {
            return Err(Rejection::Framing {
                header: "Transfer-Encoding",
                message: "must be chunked alone: no other transfer coding is read",
            });
        }
    }
    if version == Version::HTTP_11 && !headers.contains_key(header::HOST) {
        return Err(Rejection::MissingHeader { name: "Host" });
    }
    Ok(())
}

fn once(headers: &HeaderMap, header: &HeaderName, name: &'static str) -> Result<(), Rejection> {
    if headers.get_all(header).iter().nth(1).is_some() {
        return Err(Rejection::RepeatedHeader { name });
    }
    Ok(())
}

/// The body's own headers, before a byte of it is read: the `Content-Type` once and the
/// operation's, and no `Content-Encoding`, which would not be decoded.
pub(crate) fn check_content_type(headers: &HeaderMap, format: BodyFormat) -> Result<(), Rejection> {
    once(headers, &header::CONTENT_TYPE, "Content-Type")?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    if !content_type
        .as_deref()
        .is_some_and(|content_type| is_media_type(content_type, format.media_type()))
    {
        return Err(Rejection::UnsupportedMediaType {
            content_type,
            expected: format.media_type(),
        });
    }
    if let Some(encoding) = headers.get(header::CONTENT_ENCODING) {
        return Err(Rejection::UnsupportedEncoding {
            content_encoding: String::from_utf8_lossy(encoding.as_bytes()).into_owned(),
        });
    }
    Ok(())
}

/// `media_type` alone or with `charset=utf-8` (RFC 8259 defines JSON as UTF-8 and no parameter of
/// its own; forms are read as UTF-8): neither `+json` types, whose meaning is their own, nor other
/// charsets.
fn is_media_type(content_type: &str, media_type: &str) -> bool {
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case(media_type)
        && parts.all(|parameter| {
            let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|value| value.strip_suffix('"'))
                .unwrap_or(value);
            name.trim().eq_ignore_ascii_case("charset") && value.eq_ignore_ascii_case("utf-8")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::headers;

    #[test]
    fn content_types() {
        let json = BodyFormat::Json;
        let ct = |value: &str| check_content_type(&headers(&[(header::CONTENT_TYPE, value)]), json);
        assert!(ct("application/json").is_ok());
        assert!(ct("Application/JSON; charset=utf-8").is_ok());
        assert!(ct("application/json;charset=\"UTF-8\"").is_ok());
        for refused in [
            "application/problem+json",
            "application/merge-patch+json",
            "application/json; charset=utf-16",
            "application/json; charset=utf-8; q=1",
            "application/json;",
            "text/plain",
            "application/jsonx",
        ] {
            assert_eq!(
                ct(refused),
                Err(Rejection::UnsupportedMediaType {
                    content_type: Some(refused.to_owned()),
                    expected: "application/json",
                }),
                "{refused}"
            );
        }
        let form = |value: &str| {
            check_content_type(&headers(&[(header::CONTENT_TYPE, value)]), BodyFormat::Form)
        };
        assert!(form("application/x-www-form-urlencoded").is_ok());
        assert!(form("application/x-www-form-urlencoded; charset=UTF-8").is_ok());
        assert_eq!(
            form("application/json"),
            Err(Rejection::UnsupportedMediaType {
                content_type: Some("application/json".to_owned()),
                expected: "application/x-www-form-urlencoded",
            })
        );
        let gzip = headers(&[
            (header::CONTENT_TYPE, "application/json"),
            (header::CONTENT_ENCODING, "gzip"),
        ]);
        assert_eq!(
            check_content_type(&gzip, json),
            Err(Rejection::UnsupportedEncoding {
                content_encoding: "gzip".to_owned()
            })
        );
        assert_eq!(
            check_content_type(&HeaderMap::new(), json),
            Err(Rejection::UnsupportedMediaType {
                content_type: None,
                expected: "application/json"
            })
        );
    }

    /// Two `Content-Type`s are refused as repeated even when both name the operation's media
    /// type, and before the media type is looked at: which one a proxy read is unknown.
    #[test]
    fn a_content_type_sent_twice_is_refused_before_it_is_read() {
        let twice = |first: &str, second: &str| {
            check_content_type(
                &headers(&[
                    (header::CONTENT_TYPE, first),
                    (header::CONTENT_TYPE, second),
                ]),
                BodyFormat::Json,
            )
        };
        let repeated = Err(Rejection::RepeatedHeader {
            name: "Content-Type",
        });
        assert_eq!(twice("application/json", "application/json"), repeated);
        assert_eq!(twice("text/plain", "application/json"), repeated);
    }

    /// Whitespace around the media type and its parameter is no part of them; a parameter that
    /// is not `charset`, or a `charset` with no value, is refused.
    #[test]
    fn media_type_parameters_other_than_utf_8_are_refused() {
        assert!(is_media_type(
            "  application/json ;  charset = utf-8 ",
            "application/json"
        ));
        assert!(!is_media_type(
            "application/json; charset",
            "application/json"
        ));
        assert!(!is_media_type(
            "application/json; version=1",
            "application/json"
        ));
        assert!(!is_media_type(
            "application/json; charset=\"utf-8",
            "application/json"
        ));
        assert!(!is_media_type("", "application/json"));
    }

    #[test]
    fn headers_that_name_one_thing_are_sent_once() {
        let host = (header::HOST, "example.com");
        let ok = headers(&[host.clone(), (header::ACCEPT, "a"), (header::ACCEPT, "b")]);
        assert_eq!(check_headers(Version::HTTP_11, &ok), Ok(()));
        for (header, name) in &SINGLE {
            let twice = headers(&[host.clone(), (header.clone(), "x"), (header.clone(), "x")]);
            assert_eq!(
                check_headers(Version::HTTP_11, &twice),
                Err(Rejection::RepeatedHeader { name }),
                "{name}"
            );
        }
        assert_eq!(
            check_headers(Version::HTTP_11, &HeaderMap::new()),
            Err(Rejection::MissingHeader { name: "Host" })
        );
        assert_eq!(check_headers(Version::HTTP_10, &HeaderMap::new()), Ok(()));
        let framed = |pairs: &[(header::HeaderName, &str)]| {
            let mut all = vec![host.clone()];
            all.extend_from_slice(pairs);
            check_headers(Version::HTTP_11, &headers(&all))
        };
        assert_eq!(framed(&[(header::TRANSFER_ENCODING, "Chunked")]), Ok(()));
        for refused in [
            vec![(header::TRANSFER_ENCODING, "gzip, chunked")],
            vec![
                (header::TRANSFER_ENCODING, "gzip"),
                (header::TRANSFER_ENCODING, "chunked"),
            ],
        ] {
            assert!(
                matches!(framed(&refused), Err(Rejection::Framing { .. })),
                "{refused:?}"
            );
        }
    }

    /// Only HTTP/1.1 is held to a `Host`: HTTP/2 names the authority in a pseudo-header. A
    /// repeated header is reported before a missing `Host`, and `chunked` may be padded.
    #[test]
    fn host_is_required_in_http_1_1_alone_and_repetition_is_reported_first() {
        assert_eq!(check_headers(Version::HTTP_2, &HeaderMap::new()), Ok(()));
        let no_host_twice = headers(&[
            (header::AUTHORIZATION, "Bearer a"),
            (header::AUTHORIZATION, "Bearer b"),
        ]);
        assert_eq!(
            check_headers(Version::HTTP_11, &no_host_twice),
            Err(Rejection::RepeatedHeader {
                name: "Authorization"
            })
        );
        let padded = headers(&[
            (header::HOST, "example.com"),
            (header::TRANSFER_ENCODING, " chunked "),
        ]);
        assert_eq!(check_headers(Version::HTTP_11, &padded), Ok(()));
        let identity = headers(&[
            (header::HOST, "example.com"),
            (header::TRANSFER_ENCODING, "identity"),
        ]);
        assert!(matches!(
            check_headers(Version::HTTP_11, &identity),
            Err(Rejection::Framing { .. })
        ));
    }
}
