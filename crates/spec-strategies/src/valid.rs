//! Values a schema accepts, biased towards its boundaries and shrinking towards the simplest.

use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::schema::{Format, Node};

/// Bounds used where the schema states none, so that values stay readable.
pub(crate) const NUMBER_SPAN: f64 = 1e9;
/// Longest string generated where the schema states no `maxLength`.
const DEFAULT_MAX_LEN: usize = 40;

/// Values `node` accepts.
pub(crate) fn strategy(node: &Node) -> BoxedStrategy<Value> {
    match node {
        Node::Any => any_value(),
        Node::Boolean => any::<bool>().prop_map(Value::Bool).boxed(),
        Node::Integer { min, max } => integer(
            min.unwrap_or(i64::MIN.into()),
            max.unwrap_or(u64::MAX.into()),
        ),
        Node::Number { min, max } => {
            number(min.unwrap_or(-NUMBER_SPAN), max.unwrap_or(NUMBER_SPAN))
        }
        Node::String {
            format: Some(Format::DateTime),
            ..
        } => date_time(),
        Node::String {
            format: Some(Format::Uuid),
            ..
        } => uuid(),
        Node::String {
            min_len, max_len, ..
        } => string(*min_len, max_len.unwrap_or(min_len + DEFAULT_MAX_LEN)),
        Node::Array(item) => prop::collection::vec(strategy(item), 0..4)
            .prop_map(Value::Array)
            .boxed(),
        Node::Object {
            properties,
            required,
        } => object(properties, required),
        Node::Nullable(inner) => prop_oneof![1 => Just(Value::Null), 3 => strategy(inner)].boxed(),
        Node::Enum(values) => prop::sample::select(values.clone()).boxed(),
    }
}

/// An object: required properties always, optional ones present or absent.
///
/// Which optionals are present is decided first, in one mask, and the values after it: proptest
/// shrinks a tuple front to back, so a failing case first loses every optional it does not need
/// and only then simplifies the values that are left.
fn object(
    properties: &[(String, Node)],
    required: &std::collections::BTreeSet<String>,
) -> BoxedStrategy<Value> {
    let names: Vec<String> = properties.iter().map(|(name, _)| name.clone()).collect();
    let optional: Vec<bool> = names.iter().map(|name| !required.contains(name)).collect();
    let mask = prop::collection::vec(any::<bool>(), optional.len());
    let values: Vec<BoxedStrategy<Value>> =
        properties.iter().map(|(_, node)| strategy(node)).collect();
    (mask, values)
        .prop_map(move |(mask, values)| {
            let object: Map<String, Value> = names
                .iter()
                .zip(values)
                .enumerate()
                .filter(|(index, _)| !optional[*index] || mask[*index])
                .map(|(_, (name, value))| (name.clone(), value))
                .collect();
            Value::Object(object)
        })
        .boxed()
}

/// An integer as JSON: `i64`, `u64`, or (beyond both) a float.
pub(crate) fn int_value(n: i128) -> Value {
    if let Ok(n) = i64::try_from(n) {
        Value::from(n)
    } else if let Ok(n) = u64::try_from(n) {
        Value::from(n)
    } else {
        Value::from(n as f64)
    }
}

fn integer(min: i128, max: i128) -> BoxedStrategy<Value> {
    prop_oneof![Just(min), Just(max), min..=max]
        .prop_map(int_value)
        .boxed()
}

fn number(min: f64, max: f64) -> BoxedStrategy<Value> {
    let mut choices = vec![Just(min).boxed(), Just(max).boxed(), (min..=max).boxed()];
    // Whole numbers and two-decimal prices are what clients mostly send: whole hundredths of
    // 1 and of 100 within the bounds, where there are any.
    for scale in [1.0, 100.0] {
        let (low, high) = ((min * scale).ceil() as i64, (max * scale).floor() as i64);
        if low <= high {
            choices.push(
                (low..=high)
                    .prop_map(move |n| n as f64 / scale)
                    // Division can round a hundredth just past a bound.
                    .prop_filter("within bounds", move |n| (min..=max).contains(n))
                    .boxed(),
            );
        }
    }
    proptest::strategy::Union::new(choices)
        .prop_map(Value::from)
        .boxed()
}

fn string(min_len: usize, max_len: usize) -> BoxedStrategy<Value> {
    let len = prop_oneof![Just(min_len), Just(max_len), min_len..=max_len];
    (len, any::<u64>())
        .prop_map(|(len, seed)| Value::String(text(seed, len)))
        .boxed()
}

/// `len` characters drawn from `seed`: ASCII mostly, then Latin-1, the rest of the BMP, astral
/// planes, and characters that trip up encoders (NUL, quotes, backslash, BOM, bidi override).
///
/// Deriving the text from a seed, not character by character, keeps shrinking short: the length
/// shrinks by picking a shorter alternative and the seed by binary search, instead of one step
/// per character (which, in the contract runner, would be one HTTP request each).
pub(crate) fn text(seed: u64, len: usize) -> String {
    const SPECIAL: [char; 8] = [
        '\0', '\n', '\t', '"', '\\', '\u{7f}', '\u{feff}', '\u{202e}',
    ];
    let mut state = seed;
    let mut next = move || {
        // splitmix64
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    (0..len)
        .map(|_| {
            let r = next();
            let pick = |low: u32, high: u32| low + ((r >> 8) % u64::from(high - low)) as u32;
            let code = match r % 16 {
                0..=9 => pick(0x20, 0x7f),
                10 => pick(0xa0, 0x100),
                11 | 12 => pick(0x100, 0xd800),
                13 => pick(0x10000, 0x110000),
                _ => return SPECIAL[((r >> 8) % SPECIAL.len() as u64) as usize],
            };
            char::from_u32(code).expect("no surrogates in these ranges")
        })
        .collect()
}

/// RFC 3339 date-times: any day from year 1 to 9999, optional fraction of up to nine digits,
/// `Z` or an offset; never an instant whose UTC form leaves years 0000 to 9999 (the spec's
/// date-times name instants that UTC can write), so at the ends of that range the offset is `Z`.
fn date_time() -> BoxedStrategy<Value> {
    let year = prop_oneof![3 => 1970i32..=2100, 1 => 1i32..=9999];
    let fraction = prop_oneof![Just(None), (1usize..=9, any::<u32>()).prop_map(Some)];
    let offset = prop_oneof![
        Just(None),
        (-14i32..=14, prop::sample::select(vec![0, 30, 45])).prop_map(Some)
    ];
    (
        year,
        1u32..=365,
        0u32..24,
        0u32..60,
        0u32..60,
        fraction,
        offset,
    )
        .prop_map(|(year, ordinal, hour, minute, second, fraction, offset)| {
            let date = chrono::NaiveDate::from_yo_opt(year, ordinal).expect("day 1 to 365 exists");
            let local = date
                .and_hms_opt(hour, minute, second)
                .expect("a valid time of day");
            Value::String(date_time_text(local, fraction, offset))
        })
        .boxed()
}

/// `local` with a fraction of `digits` digits taken from `n`, and the offset `(hours,
/// minutes)` (the sign of the hours applies to both), or `Z` when there is none or when it would put
/// the instant's UTC form outside years 0000 to 9999.
fn date_time_text(
    local: chrono::NaiveDateTime,
    fraction: Option<(usize, u32)>,
    offset: Option<(i32, i32)>,
) -> String {
    use chrono::Datelike;

    let fraction = fraction
        .map(|(digits, n)| {
            format!(
                ".{:0digits$}",
                n % 10u32.pow(digits.min(9) as u32),
                digits = digits
            )
        })
        .unwrap_or_default();
    let offset = offset.filter(|(hours, minutes)| {
        let sign = if *hours < 0 { -1 } else { 1 };
        let seconds = sign * (hours.abs() * 3600 + minutes * 60);
        let utc = local - chrono::Duration::seconds(i64::from(seconds));
        (0..=9999).contains(&utc.year())
    });
    let offset = match offset {
        None => "Z".to_owned(),
        Some((hours, minutes)) => {
            let sign = if hours < 0 { '-' } else { '+' };
            format!("{sign}{:02}:{minutes:02}", hours.abs())
        }
    };
    format!("{}{fraction}{offset}", local.format("%Y-%m-%dT%H:%M:%S"))
}

fn uuid() -> BoxedStrategy<Value> {
    (any::<u128>(), any::<bool>())
        .prop_map(|(bits, upper)| {
            let text = uuid::Uuid::from_u128(bits).hyphenated().to_string();
            Value::String(if upper { text.to_uppercase() } else { text })
        })
        .boxed()
}

/// Small values of every JSON type, for schemas that accept anything.
pub(crate) fn any_value() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        "[a-z]{0,8}".prop_map(Value::String),
    ]
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seed names one text for good: proptest's regression files record the runner's seed, so
    /// a changed derivation would make a committed failure replay as some other case.
    #[test]
    fn a_seed_gives_the_same_text_in_every_version() {
        assert_eq!(text(0, 12), "\u{7f}l\u{7f}ⶁ鵴âZ溫8.'R");
        assert_eq!(text(1, 12), "'l\u{7f}\u{1dc9}lH\\&|pR\"");
        assert_eq!(text(u64::MAX, 12), "=Z26\n`kq_酮xu");
        assert_eq!(text(7, 0), "");
    }

    /// Texts mix ASCII (10 in 16), Latin-1 (1), the rest of the BMP (2), astral planes (1) and
    /// the characters that trip encoders up (2), each class spread over its range.
    #[test]
    fn texts_draw_from_every_class_of_character() {
        const SPECIAL: &str = "\0\n\t\"\\\u{7f}\u{feff}\u{202e}";
        let mut counts = [0usize; 5];
        let mut distinct = std::collections::BTreeSet::new();
        for seed in 0..2000 {
            for c in text(seed, 8).chars() {
                let class = match u32::from(c) {
                    _ if SPECIAL.contains(c) => 4,
                    0x20..0x7f => 0,
                    0xa0..0x100 => 1,
                    0x100..0xd800 => 2,
                    0x10000..0x110000 => 3,
                    other => panic!("{other:#x} is in no class"),
                };
                counts[class] += 1;
                distinct.insert(c);
            }
        }
        let expected = [10, 1, 2, 1, 2].map(|sixteenths| 16_000 * sixteenths / 16);
        for (class, (count, expected)) in counts.iter().zip(expected).enumerate() {
            assert!(
                count * 10 > expected * 8 && count * 10 < expected * 12,
                "class {class}: {count} of 16000, {expected} expected"
            );
        }
        assert!(
            distinct.len() > 3000,
            "{} distinct characters",
            distinct.len()
        );
    }

    fn local(text: &str) -> chrono::NaiveDateTime {
        text.parse().unwrap()
    }

    #[test]
    fn date_times_carry_their_fraction_and_offset() {
        let noon = local("2020-01-01T12:00:00");
        assert_eq!(date_time_text(noon, None, None), "2020-01-01T12:00:00Z");
        assert_eq!(
            date_time_text(noon, Some((3, 7)), Some((5, 45))),
            "2020-01-01T12:00:00.007+05:45"
        );
        assert_eq!(
            date_time_text(noon, Some((9, u32::MAX)), Some((-3, 30))),
            "2020-01-01T12:00:00.294967295-03:30"
        );
        assert_eq!(
            date_time_text(noon, Some((1, 12)), Some((0, 30))),
            "2020-01-01T12:00:00.2+00:30"
        );
    }

    /// At the ends of years 1 to 9999 an offset is kept only while the instant's UTC form stays
    /// within years 0000 to 9999.
    #[test]
    fn date_times_keep_an_offset_only_while_utc_stays_in_range() {
        let cases = [
            // UTC 9999-12-31T23:59: kept.
            ("9999-12-31T22:29:00", (-1, 30), "9999-12-31T22:29:00-01:30"),
            // UTC 10000-01-01T00:01: not.
            ("9999-12-31T22:31:00", (-1, 30), "9999-12-31T22:31:00Z"),
            ("9999-12-31T23:00:00", (-5, 0), "9999-12-31T23:00:00Z"),
            ("9999-12-31T23:00:00", (5, 0), "9999-12-31T23:00:00+05:00"),
            ("9999-12-31T10:30:00", (-14, 0), "9999-12-31T10:30:00Z"),
            // An offset of less than an hour is ahead of UTC.
            ("9999-12-31T23:45:00", (0, 30), "9999-12-31T23:45:00+00:30"),
            // UTC 0000-12-31: still a four-digit year.
            ("0001-01-01T00:30:00", (14, 0), "0001-01-01T00:30:00+14:00"),
            (
                "0001-01-01T00:30:00",
                (-14, 45),
                "0001-01-01T00:30:00-14:45",
            ),
        ];
        for (time, offset, expected) in cases {
            assert_eq!(date_time_text(local(time), None, Some(offset)), expected);
        }
    }
}
