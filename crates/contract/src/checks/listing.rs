//! The checks of a list answer: its paging figures against its records and the request, the
//! order of its records by the requested field, and the filters sent.

use super::*;
use crate::{
    plan::{Filter, Match, Order, Page},
    vocabulary::{Check, Mismatch, Problems},
};
use serde_json::{Map, Value, json};
use spec_strategies::Request;
use std::{cmp::Ordering, collections::BTreeMap};

fn integer_at(body: &Value, pointer: &str) -> Result<i128, Mismatch> {
    body.pointer(pointer)
        .and_then(|value| {
            value
                .as_i64()
                .map(i128::from)
                .or(value.as_u64().map(i128::from))
        })
        .ok_or_else(|| {
            Mismatch::new(
                format!("{pointer} not an integer"),
                format!("{pointer} is not an integer"),
            )
        })
}

fn bool_at(body: &Value, pointer: &str) -> Result<bool, Mismatch> {
    body.pointer(pointer)
        .and_then(Value::as_bool)
        .ok_or_else(|| {
            Mismatch::new(
                format!("{pointer} not a boolean"),
                format!("{pointer} is not a boolean"),
            )
        })
}

pub(crate) fn records<'a>(
    body: Option<&'a Value>,
    page: &Page,
) -> Result<&'a Vec<Value>, Mismatch> {
    body.and_then(|body| body.pointer(&page.records))
        .and_then(Value::as_array)
        .ok_or_else(|| {
            Mismatch::new(
                format!("{} not an array", page.records),
                format!("{} is not an array", page.records),
            )
        })
}

/// The paging figures agree with each other and with the records on the page: every figure
/// expected is worked out from the total, the page number and the page size the answer states.
pub(crate) fn page_figures(body: Option<&Value>, page: &Page) -> Outcome {
    let result = (|| {
        let body = body.ok_or_else(|| Mismatch::new("not JSON", "the body is not JSON"))?;
        let count = records(Some(body), page)?.len() as i128;
        let number = integer_at(body, &page.number)?;
        let size = integer_at(body, &page.size)?;
        let total = integer_at(body, &page.total_items)?;
        let pages = integer_at(body, &page.total_pages)?;
        let first = integer_at(body, &page.first_item)?;
        let last = integer_at(body, &page.last_item)?;
        let has_next = bool_at(body, &page.has_next)?;
        let has_previous = bool_at(body, &page.has_previous)?;
        if number < 1 || size < 1 {
            return Err(Mismatch::new(
                "page number or size below 1",
                format!(
                    "{} is {number} and {} is {size}; both count from 1",
                    page.number, page.size
                ),
            ));
        }
        let before = (number - 1) * size;
        let on_page = (total - before).clamp(0, size);
        let (expected_first, expected_last) = if on_page == 0 {
            (0, 0)
        } else {
            (before + 1, before + on_page)
        };
        let total_pages = (total + size - 1) / size;
        let figures = [
            ("records on the page", json!(count), json!(on_page)),
            (page.total_pages.as_str(), json!(pages), json!(total_pages)),
            (
                page.first_item.as_str(),
                json!(first),
                json!(expected_first),
            ),
            (page.last_item.as_str(), json!(last), json!(expected_last)),
            (
                page.has_next.as_str(),
                json!(has_next),
                json!(number < total_pages),
            ),
            (
                page.has_previous.as_str(),
                json!(has_previous),
                json!(number > 1),
            ),
        ];
        let wrong: Vec<&(&str, Value, Value)> = figures
            .iter()
            .filter(|(_, got, expected)| got != expected)
            .collect();
        check(wrong.is_empty(), || {
            let said: Vec<String> = wrong
                .iter()
                .map(|(what, got, expected)| format!("{what} {got}, expected {expected}"))
                .collect();
            let names: Vec<&str> = wrong.iter().map(|(what, _, _)| *what).collect();
            let object = |pick: fn(&(&str, Value, Value)) -> Value| {
                Value::Object(
                    wrong
                        .iter()
                        .map(|figure| (figure.0.to_owned(), pick(figure)))
                        .collect::<Map<String, Value>>(),
                )
            };
            Mismatch::new(
                names.join(", "),
                format!(
                    "{} is {total}, page {number} of {size} per page: {}",
                    page.total_items,
                    said.join("; ")
                ),
            )
            .values(
                object(|figure| figure.2.clone()),
                object(|figure| figure.1.clone()),
            )
        })
    })();
    (Check::PageFigures, result)
}

/// How two values of a record property compare, as the list sorts them: numbers by value,
/// booleans false first, date-times as instants, other strings by code point, null first.
pub(crate) fn compare(
    a: &Value,
    b: &Value,
    format: Option<&str>,
    nulls_first: bool,
) -> Result<Ordering, String> {
    let null_order = if nulls_first {
        Ordering::Less
    } else {
        Ordering::Greater
    };
    Ok(match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => null_order,
        (_, Value::Null) => null_order.reverse(),
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .partial_cmp(&b.as_f64())
            .ok_or("numbers that do not compare")?,
        (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
        (Value::String(a), Value::String(b)) if format == Some("date-time") => {
            instant(a).cmp(&instant(b))
        }
        (Value::String(a), Value::String(b)) => a.cmp(b),
        (a, b) => return Err(format!("{a} and {b} do not compare")),
    })
}

pub(crate) fn instant(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|instant| instant.to_utc())
}

/// The records are sorted as the request asked: by the property the field parameter names
/// (or its default), in the direction asked, ties by `then` in the same direction.
pub(crate) fn order(
    body: Option<&Value>,
    page: &Page,
    order: &Order,
    request: &Request,
    default: &dyn Fn(&str) -> Option<Value>,
    formats: &BTreeMap<String, String>,
) -> Outcome {
    let result = (|| {
        let records = records(body, page)?;
        let sent = |name: &str| request.query.get(name).cloned().or_else(|| default(name));
        let property = sent(&order.field)
            .and_then(|value| value.as_str().map(str::to_owned))
            .ok_or_else(|| {
                Mismatch::new(
                    "no property to sort by",
                    format!(
                        "{} names no property to sort by, and has no default",
                        order.field
                    ),
                )
            })?;
        let direction = sent(&order.direction);
        let descending = if direction.as_ref() == Some(&order.descending) {
            true
        } else if direction.is_none() || direction.as_ref() == Some(&order.ascending) {
            false
        } else {
            let direction = direction.unwrap_or(Value::Null);
            return Err(Mismatch::new(
                "unknown direction",
                format!(
                    "{} is {direction}, neither {} (ascending) nor {} (descending)",
                    order.direction, order.ascending, order.descending
                ),
            ));
        };
        let unorderable = |message: String| Mismatch::new("values that do not compare", message);
        for (index, pair) in records.windows(2).enumerate() {
            let key = |record: &Value, name: &str| record.get(name).cloned().unwrap_or(Value::Null);
            let mut ordering = compare(
                &key(&pair[0], &property),
                &key(&pair[1], &property),
                formats.get(&property).map(String::as_str),
                order.nulls_first,
            )
            .map_err(unorderable)?;
            if ordering == Ordering::Equal {
                ordering = compare(
                    &key(&pair[0], &order.then),
                    &key(&pair[1], &order.then),
                    formats.get(&order.then).map(String::as_str),
                    order.nulls_first,
                )
                .map_err(unorderable)?;
            }
            if descending {
                ordering = ordering.reverse();
            }
            if ordering == Ordering::Greater {
                return Err(Mismatch::new(
                    "records out of order",
                    format!(
                        "records {index} and {} are out of order by {property} ({}), then {}: {} before {}",
                        index + 1,
                        if descending {
                            "descending"
                        } else {
                            "ascending"
                        },
                        order.then,
                        key(&pair[0], &property),
                        key(&pair[1], &property)
                    ),
                ));
            }
        }
        Ok(())
    })();
    (Check::Order, result)
}

/// Every record meets every filter sent.
pub(crate) fn filters(
    body: Option<&Value>,
    page: &Page,
    filters: &[Filter],
    request: &Request,
    formats: &BTreeMap<String, String>,
) -> Outcome {
    let result = (|| {
        let records = records(body, page)?;
        let mut problems = Problems::default();
        for filter in filters {
            let Some(sent) = request.query.get(&filter.parameter) else {
                continue;
            };
            let format = formats.get(&filter.property).map(String::as_str);
            for (index, record) in records.iter().enumerate() {
                let got = record.get(&filter.property).unwrap_or(&Value::Null);
                if !meets(filter.matching, got, sent, format) {
                    problems.add(
                        "a record outside the filters sent",
                        format!(
                            "record {index} has {} {got}, but {}={sent}",
                            filter.property, filter.parameter
                        ),
                    );
                }
            }
        }
        problems.result()
    })();
    (Check::Filters, result)
}

/// Whether a record's value `got` meets a filter sent as `sent` (a null meets none).
pub(crate) fn meets(matching: Match, got: &Value, sent: &Value, format: Option<&str>) -> bool {
    !got.is_null()
        && match (matching, compare(got, sent, format, true)) {
            (Match::Equal, Ok(ordering)) => ordering == Ordering::Equal,
            (Match::From, Ok(ordering)) => ordering != Ordering::Less,
            (Match::To, Ok(ordering)) => ordering != Ordering::Greater,
            (_, Err(_)) => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;
    use serde_json::json;

    fn page() -> Page {
        Page {
            records: "/R".into(),
            number: "/P".into(),
            size: "/S".into(),
            total_items: "/T".into(),
            total_pages: "/N".into(),
            first_item: "/F".into(),
            last_item: "/L".into(),
            has_next: "/X".into(),
            has_previous: "/V".into(),
        }
    }

    #[test]
    fn page_figures_must_agree() {
        let ok = json!({"R": [1, 2], "P": 3, "S": 2, "T": 6, "N": 3, "F": 5, "L": 6, "X": false, "V": true});
        assert_eq!(page_figures(Some(&ok), &page()).1, Ok(()));
        let empty = json!({"R": [], "P": 9, "S": 25, "T": 0, "N": 0, "F": 0, "L": 0, "X": false, "V": true});
        assert_eq!(page_figures(Some(&empty), &page()).1, Ok(()));
        for (pointer, wrong) in [
            ("/N", json!(4)),
            ("/F", json!(4)),
            ("/X", json!(true)),
            ("/V", json!(false)),
        ] {
            let mut body = ok.clone();
            *body.pointer_mut(pointer).unwrap() = wrong;
            assert!(page_figures(Some(&body), &page()).1.is_err(), "{pointer}");
        }
        let mut short = ok.clone();
        short["R"] = json!([1]);
        assert!(
            page_figures(Some(&short), &page()).1.is_err(),
            "a record missing"
        );
        // The first page of several, and a last page that is not full.
        let first = json!({"R": [1, 2, 3], "P": 1, "S": 3, "T": 8, "N": 3, "F": 1, "L": 3, "X": true, "V": false});
        assert_eq!(page_figures(Some(&first), &page()).1, Ok(()));
        let last = json!({"R": [7, 8], "P": 3, "S": 3, "T": 8, "N": 3, "F": 7, "L": 8, "X": false, "V": true});
        assert_eq!(page_figures(Some(&last), &page()).1, Ok(()));
        for (pointer, wrong) in [
            ("/N", json!(2)),
            ("/F", json!(6)),
            ("/L", json!(9)),
            ("/X", json!(true)),
        ] {
            let mut body = last.clone();
            *body.pointer_mut(pointer).unwrap() = wrong;
            assert!(page_figures(Some(&body), &page()).1.is_err(), "{pointer}");
        }
        let single =
            json!({"R": [2], "P": 2, "S": 1, "T": 3, "N": 3, "F": 2, "L": 2, "X": true, "V": true});
        assert_eq!(
            page_figures(Some(&single), &page()).1,
            Ok(()),
            "pages of one record"
        );
        let mut second = first.clone();
        second["P"] = json!(2);
        assert!(
            page_figures(Some(&second), &page()).1.is_err(),
            "page 2 holds items 4 to 6"
        );
        for (pointer, zero) in [("/P", json!(0)), ("/S", json!(0))] {
            let mut body = first.clone();
            *body.pointer_mut(pointer).unwrap() = zero;
            assert!(
                page_figures(Some(&body), &page()).1.unwrap_err().kind
                    == "page number or size below 1",
                "{pointer}"
            );
        }
        assert_eq!(
            message(page_figures(Some(&json!({"R": [], "P": "1"})), &page())),
            "/P is not an integer"
        );
        assert_eq!(message(page_figures(None, &page())), "the body is not JSON");
        // Every figure expected follows from the total, the page and the size: a page holding a
        // record when the total says none is one fault, said once, not contradicted.
        let extra = json!({"R": [1], "P": 1, "S": 1, "T": 0, "N": 0, "F": 0, "L": 0, "X": false, "V": false});
        let wrong = page_figures(Some(&extra), &page()).1.unwrap_err();
        assert_eq!(
            wrong.message,
            "/T is 0, page 1 of 1 per page: records on the page 1, expected 0"
        );
        assert_eq!(wrong.kind, "records on the page");
        assert_eq!(wrong.expected, Some(json!({"records on the page": 0})));
    }

    #[test]
    fn values_compare_as_the_list_sorts_them() {
        let less = |a: Value, b: Value, format: Option<&str>| {
            assert_eq!(compare(&a, &b, format, true), Ok(Ordering::Less), "{a} {b}");
            assert_eq!(
                compare(&b, &a, format, true),
                Ok(Ordering::Greater),
                "{b} {a}"
            );
        };
        less(json!(2), json!(10.5), None);
        less(json!(false), json!(true), None);
        less(json!("B"), json!("a"), None);
        less(
            json!("2026-01-01T01:00:00+01:00"),
            json!("2026-01-01T00:30:00Z"),
            Some("date-time"),
        );
        less(json!(null), json!(0), None);
        assert_eq!(
            compare(&json!(null), &json!(0), None, false),
            Ok(Ordering::Greater)
        );
        assert_eq!(
            compare(&json!(0), &json!(null), None, false),
            Ok(Ordering::Less)
        );
        assert_eq!(
            compare(&json!(null), &json!(null), None, true),
            Ok(Ordering::Equal)
        );
        assert_eq!(
            compare(&json!(1), &json!(1.0), None, true),
            Ok(Ordering::Equal)
        );
        assert!(compare(&json!(1), &json!("1"), None, true).is_err());
    }

    #[test]
    fn order_and_filters_follow_the_request() {
        let order = Order {
            field: "by".into(),
            direction: "dir".into(),
            ascending: json!(1),
            descending: json!(-1),
            nulls_first: true,
            then: "Id".into(),
        };
        let formats = BTreeMap::from([("When".to_owned(), "date-time".to_owned())]);
        let request = |query: Value| Request {
            query: query.as_object().unwrap().clone(),
            ..Request::default()
        };
        let body = json!({"R": [
            {"Id": 1, "When": null, "N": 5},
            {"Id": 3, "When": "2026-01-01T00:00:00.5Z", "N": 5},
            {"Id": 2, "When": "2026-01-01T00:00:01Z", "N": 7}
        ]});
        let default = |_: &str| None;
        let sorted = |query: Value| {
            super::order(
                Some(&body),
                &page(),
                &order,
                &request(query),
                &default,
                &formats,
            )
            .1
        };
        assert_eq!(sorted(json!({"by": "When"})), Ok(()));
        assert_eq!(sorted(json!({"by": "When", "dir": 1})), Ok(()));
        assert_eq!(
            sorted(json!({"by": "When", "dir": 0})).unwrap_err().message,
            "dir is 0, neither 1 (ascending) nor -1 (descending)"
        );
        assert!(sorted(json!({})).is_err(), "no property to sort by");
        assert!(sorted(json!({"by": "When", "dir": -1})).is_err());
        assert!(sorted(json!({"by": "Id"})).is_err());
        // Ties on N are ordered by Id, in the same direction.
        assert_eq!(sorted(json!({"by": "N"})), Ok(()));
        assert_eq!(
            sorted(json!({"by": "N", "dir": -1})).unwrap_err().message,
            "records 0 and 1 are out of order by N (descending), then Id: 5 before 5"
        );
        let filter = |parameter: &str, property: &str, matching| Filter {
            parameter: parameter.into(),
            property: property.into(),
            matching,
        };
        let filters = [
            filter("n", "N", Match::Equal),
            filter("from", "When", Match::From),
            filter("to", "When", Match::To),
        ];
        let check = |query: Value| {
            super::filters(Some(&body), &page(), &filters, &request(query), &formats).1
        };
        assert!(check(json!({"n": 5})).is_err(), "the N 7 record");
        assert!(
            check(json!({"from": "2025-01-01T00:00:00Z"})).is_err(),
            "the null"
        );
        let dated = json!({"R": [body["R"][1], body["R"][2]]});
        let dated = |query: Value| {
            super::filters(Some(&dated), &page(), &filters, &request(query), &formats).1
        };
        assert_eq!(dated(json!({"to": "2026-01-01T00:00:01Z"})), Ok(()));
        assert_eq!(
            dated(json!({"to": "2026-01-01T00:00:00.5Z"}))
                .unwrap_err()
                .message,
            "record 1 has When \"2026-01-01T00:00:01Z\", but to=\"2026-01-01T00:00:00.5Z\""
        );
        assert!(dated(json!({"from": "2026-01-01T00:00:00.6Z"})).is_err());
        let two = json!({"R": [{"Id": 2, "When": "2026-01-01T00:00:01Z", "N": 7}]});
        assert_eq!(
            super::filters(
                Some(&two),
                &page(),
                &filters,
                &request(json!({"n": 7, "from": "2026-01-01T01:00:01+01:00"})),
                &formats
            )
            .1,
            Ok(())
        );
    }
}
