//! Fixtures the store's unit tests share: requests made into fields, and a fresh database with
//! the table laid out, so that each module's tests start from the layers below it only.

use std::path::PathBuf;

use rusqlite::Connection;
use serde_json::json;

use super::{
    columns::Fields,
    connection::connect,
    layout::prepare,
    writer::{Writer, Written},
};

/// A create of coworker 1, business 2, time pass 3 and one record, with `body`'s properties
/// added or replaced.
pub(super) fn create_request(body: serde_json::Value) -> (Fields, u32) {
    let mut request =
        json!({"CoworkerId": 1, "BusinessId": 2, "TimePassId": 3, "CreateMultiple": 1});
    request
        .as_object_mut()
        .unwrap()
        .extend(body.as_object().unwrap().clone());
    Fields::from_create(serde_json::from_value(request).unwrap())
}

/// Fields with these notes, a price and an expiry date.
pub(super) fn fields(notes: &str) -> Fields {
    create_request(json!({"Notes": notes, "Price": 1.5, "ExpireDate": "2026-07-31T00:00:00+02:00"}))
        .0
}

/// A database file in a directory of its own, removed with it.
pub(super) struct Database {
    /// Kept for its removal on drop.
    _dir: tempfile::TempDir,
    pub(super) path: PathBuf,
}

impl Database {
    /// A new, empty database file with the table laid out.
    pub(super) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        prepare(&mut connect(&path).unwrap()).unwrap();
        Self { _dir: dir, path }
    }

    /// A connection to it, as the store opens them.
    pub(super) fn connect(&self) -> Connection {
        connect(&self.path).unwrap()
    }

    /// A writer thread on it.
    pub(super) fn writer(&self) -> Writer {
        Writer::start(self.connect()).unwrap()
    }
}

/// The time a write was committed at; panics on a write that found nothing.
pub(super) fn committed(written: Written) -> chrono::DateTime<chrono::Utc> {
    match written {
        Written::Committed { at, .. } => at,
        Written::NotFound => panic!("not found"),
    }
}
