//! What a sequence knows of the records it made: each live record's written and learned
//! values, the ids it deleted, which record a position names, and what a write must read back as.

use super::Pick;
use crate::plan::Plan;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// What the model knows of one record.
#[derive(Debug, Clone)]
pub(super) struct Record {
    pub(super) id: Value,
    /// The properties the last write set, as written (uuids in lower case).
    pub(super) written: Map<String, Value>,
    /// Other properties, as first read since the last write: they must not change until the
    /// next one.
    pub(super) learned: Map<String, Value>,
    /// The last `last-write.at` read, which later reads must not go before.
    pub(super) written_at: Option<Value>,
}

impl Record {
    /// The value of `property`, when the model knows it.
    pub(super) fn value(&self, property: &str, record_id: &str) -> Option<&Value> {
        if property == record_id {
            return Some(&self.id);
        }
        self.written
            .get(property)
            .or_else(|| self.learned.get(property))
    }
}

/// The records a sequence made.
#[derive(Debug, Default)]
pub(super) struct Model {
    pub(super) live: Vec<Record>,
    pub(super) deleted: Vec<Value>,
}

/// Which id a pick names now.
pub(super) enum Aim {
    Live(usize),
    Gone(Value),
}

impl Model {
    pub(super) fn find(&self, id: &Value) -> Option<usize> {
        self.live.iter().position(|record| &record.id == id)
    }

    pub(super) fn aim(&self, pick: &Pick, never: &Value) -> Aim {
        match pick {
            Pick::Live(at) if !self.live.is_empty() => {
                Aim::Live(usize::from(*at) % self.live.len())
            }
            Pick::Deleted(at) if !self.deleted.is_empty() => {
                Aim::Gone(self.deleted[usize::from(*at) % self.deleted.len()].clone())
            }
            _ => Aim::Gone(never.clone()),
        }
    }
}

/// Each body property of `plan` but `skip`, with the value it must read back as after a
/// success: as sent (uuids in lower case), or as the spec says a property left out reads
/// (`None` when the spec does not say).
pub(super) fn predicted(
    plan: &Plan,
    body: Option<&Value>,
    skip: &[String],
) -> Vec<(String, Option<Value>)> {
    read_back_as(&plan.left_out, &plan.formats, body, skip)
}

/// [`predicted`], from the plan's `left_out` (each body property, with how it reads when left
/// out) and `formats` (the format of each).
fn read_back_as(
    left_out: &BTreeMap<String, Option<Value>>,
    formats: &BTreeMap<String, String>,
    body: Option<&Value>,
    skip: &[String],
) -> Vec<(String, Option<Value>)> {
    left_out
        .iter()
        .filter(|(property, _)| !skip.contains(property))
        .map(|(property, left_out)| {
            let value = match body.and_then(|body| body.get(property)) {
                Some(Value::String(text))
                    if formats.get(property).map(String::as_str) == Some("uuid") =>
                {
                    Some(Value::from(text.to_lowercase()))
                }
                Some(value) => Some(value.clone()),
                None => left_out.clone(),
            };
            (property.clone(), value)
        })
        .collect()
}

/// A `jq` filter for a JSON pointer (`/Value/Id` is `.["Value"]["Id"]`).
pub(super) fn jq(pointer: &str) -> String {
    let path: String = pointer
        .split('/')
        .skip(1)
        .map(|segment| {
            let segment = segment.replace("~1", "/").replace("~0", "~");
            format!("[{}]", Value::from(segment))
        })
        .collect();
    format!(".{path}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(id: u64) -> Record {
        Record {
            id: json!(id),
            written: Map::new(),
            learned: Map::new(),
            written_at: None,
        }
    }

    #[test]
    fn a_position_wraps_and_names_the_never_id_when_nothing_is_there() {
        let never = json!(999);
        let mut model = Model::default();
        assert!(matches!(model.aim(&Pick::Live(3), &never), Aim::Gone(id) if id == never));
        assert!(matches!(model.aim(&Pick::Deleted(0), &never), Aim::Gone(id) if id == never));
        model.live = vec![record(1), record(2)];
        model.deleted = vec![json!(7)];
        assert!(matches!(model.aim(&Pick::Live(3), &never), Aim::Live(1)));
        assert!(matches!(model.aim(&Pick::Live(4), &never), Aim::Live(0)));
        assert!(matches!(model.aim(&Pick::Deleted(5), &never), Aim::Gone(id) if id == json!(7)));
        assert!(matches!(model.aim(&Pick::Never, &never), Aim::Gone(id) if id == never));
        assert_eq!(model.find(&json!(2)), Some(1));
        assert_eq!(model.find(&json!(7)), None);
    }

    #[test]
    fn a_written_value_wins_over_a_learned_one_and_the_id_is_known() {
        let mut known = record(5);
        known.written.insert("Name".into(), json!("written"));
        known.learned.insert("Name".into(), json!("learned"));
        known.learned.insert("Used".into(), json!(false));
        assert_eq!(known.value("Id", "Id"), Some(&json!(5)));
        assert_eq!(known.value("Name", "Id"), Some(&json!("written")));
        assert_eq!(known.value("Used", "Id"), Some(&json!(false)));
        assert_eq!(known.value("Other", "Id"), None);
    }

    #[test]
    fn a_write_reads_back_as_sent_uuids_lowered_and_left_out_as_documented() {
        let left_out: BTreeMap<String, Option<Value>> = [
            ("Code".to_owned(), None),
            ("Free".to_owned(), Some(json!(false))),
            ("Key".to_owned(), None),
            ("Note".to_owned(), Some(json!(null))),
        ]
        .into();
        let formats: BTreeMap<String, String> = [("Key".to_owned(), "uuid".to_owned())].into();
        let body = json!({"Code": "ABC", "Key": "A0B1C2D3-0000-4000-8000-00000000000F"});
        let read = read_back_as(&left_out, &formats, Some(&body), &["Note".to_owned()]);
        assert_eq!(
            read,
            vec![
                ("Code".to_owned(), Some(json!("ABC"))),
                ("Free".to_owned(), Some(json!(false))),
                (
                    "Key".to_owned(),
                    Some(json!("a0b1c2d3-0000-4000-8000-00000000000f"))
                ),
            ]
        );
    }

    #[test]
    fn a_pointer_becomes_a_jq_filter() {
        assert_eq!(jq("/Value/Id"), r#".["Value"]["Id"]"#);
        assert_eq!(jq("/a~1b/c~0d"), r#".["a/b"]["c~d"]"#);
        assert_eq!(jq(""), ".");
    }
}
