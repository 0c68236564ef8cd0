//! The table in SQL: its schema and indexes, built from the column table, the version of that
//! layout, and the statements (and the reading of a row) that the readers and the writer share.
//!
//! `AUTOINCREMENT` keeps ids unique and increasing across restarts, even after deletes, so an id
//! is never given twice. Every column a list can filter or sort on has an index (whose entries
//! SQLite orders by the column, then by id), so that a filtered page costs what its matches
//! cost, not what the table holds.

use rusqlite::{Connection, OptionalExtension};

use super::{
    columns::{Column, Fields, SortColumn},
    error::StoreError,
    record::StoredRecord,
};

/// The table of records.
pub(super) const TABLE: &str = "coworker_time_passes";

/// The columns of the record besides [`Fields`], in the order every select reads them.
const RECORD_COLUMNS: &str = "id, unique_id, created_on, updated_on, updated_by";

/// The columns a list can filter or sort on, each indexed (an index's entries are ordered by
/// the column, then by the id, which SQLite keeps in every index: so one index serves a filter,
/// a sort, and a sort's tie-break by id; the id itself is the primary key).
const INDEXED: [SortColumn; 10] = [
    SortColumn::Field(Column::coworker_id),
    SortColumn::Field(Column::business_id),
    SortColumn::Field(Column::time_pass_id),
    SortColumn::Field(Column::purchase_order),
    SortColumn::Field(Column::used),
    SortColumn::Field(Column::free),
    SortColumn::Field(Column::price),
    SortColumn::Field(Column::expire_date),
    SortColumn::CreatedOn,
    SortColumn::UpdatedOn,
];

/// The layout version this server writes (`PRAGMA user_version`).
const LAYOUT: i64 = 1;

fn create_table() -> String {
    let columns: Vec<&str> = Column::ALL
        .iter()
        .map(|column| column.definition())
        .collect();
    format!(
        "CREATE TABLE IF NOT EXISTS {TABLE} (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            unique_id TEXT NOT NULL UNIQUE,
            {},
            created_on TEXT NOT NULL,
            updated_on TEXT NOT NULL,
            updated_by TEXT NOT NULL
        )",
        columns.join(",\n            ")
    )
}

fn create_indexes() -> String {
    INDEXED
        .iter()
        .map(|column| {
            let name = column.name();
            format!("CREATE INDEX IF NOT EXISTS {TABLE}_by_{name} ON {TABLE} ({name});")
        })
        .collect()
}

/// Creates the table in a new database, in one transaction with its layout version; a database
/// that holds the table in another layout (or one this server did not write) is refused as it
/// is, never rewritten.
pub(super) fn prepare(connection: &mut Connection) -> Result<(), StoreError> {
    let transaction = connection.transaction()?;
    let version: i64 = transaction.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let has_table: bool = transaction.query_row(
        "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [TABLE],
        |row| row.get(0),
    )?;
    if has_table && version != LAYOUT {
        return Err(StoreError::Layout {
            found: version,
            writes: LAYOUT,
        });
    }
    if !has_table {
        transaction.execute_batch(&create_table())?;
        transaction.execute_batch(&format!("PRAGMA user_version = {LAYOUT}"))?;
    }
    transaction.execute_batch(&create_indexes())?;
    transaction.commit()?;
    Ok(())
}

/// The statements built from the column table, once.
pub(super) struct Statements {
    /// `SELECT` of every column of a record, up to the `FROM` clause included.
    select: String,
    /// The record with id `?1`.
    select_by_id: String,
    /// `unique_id` `?1`, the fields, then created and updated on, updated by.
    pub(super) insert: String,
    /// The fields, then updated on, updated by, and the id.
    pub(super) update: String,
}

pub(super) static STATEMENTS: std::sync::LazyLock<Statements> = std::sync::LazyLock::new(|| {
    let names: Vec<&str> = Column::ALL.iter().map(|column| column.name()).collect();
    let count = Column::ALL.len();
    let select = format!("SELECT {RECORD_COLUMNS}, {} FROM {TABLE}", names.join(", "));
    let placeholders: Vec<String> = (2..count + 2).map(|index| format!("?{index}")).collect();
    let assignments: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(index, name)| format!("{name} = ?{}", index + 1))
        .collect();
    Statements {
        select_by_id: format!("{select} WHERE id = ?1"),
        insert: format!(
            "INSERT INTO {TABLE} (unique_id, {}, created_on, updated_on, updated_by)
             VALUES (?1, {}, ?{n}, ?{n}, ?{})",
            names.join(", "),
            placeholders.join(", "),
            count + 3,
            n = count + 2,
        ),
        update: format!(
            "UPDATE {TABLE} SET {}, updated_on = ?{}, updated_by = ?{} WHERE id = ?{}",
            assignments.join(", "),
            count + 1,
            count + 2,
            count + 3
        ),
        select,
    }
});

/// `SELECT` of every column of a record, then `rest`.
pub(super) fn select(rest: &str) -> String {
    format!("{} {rest}", STATEMENTS.select)
}

/// A row of [`select`].
pub(super) fn record(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRecord> {
    Ok(StoredRecord {
        id: row.get(0)?,
        unique_id: row.get(1)?,
        created_on: row.get(2)?,
        updated_on: row.get(3)?,
        updated_by: row.get(4)?,
        fields: Fields::from_row(row, 5)?,
    })
}

/// The record with `id`.
pub(super) fn get(connection: &Connection, id: i64) -> Result<Option<StoredRecord>, StoreError> {
    let mut statement = connection.prepare_cached(&STATEMENTS.select_by_id)?;
    Ok(statement.query_row([id], record).optional()?)
}

#[cfg(test)]
mod tests {
    use rusqlite::ToSql;

    use super::*;
    use crate::store::{
        connection::connect,
        testing::{Database, fields},
    };

    /// Inserts one record of `fields` by the shared insert statement, and returns its id.
    fn insert(connection: &Connection, unique_id: &str, fields: &Fields, at: &str) -> i64 {
        let mut values: Vec<&dyn ToSql> = vec![&unique_id];
        values.extend(fields.values());
        values.push(&at);
        values.push(&"a@b.c");
        connection
            .execute(&STATEMENTS.insert, values.as_slice())
            .unwrap();
        connection.last_insert_rowid()
    }

    #[test]
    fn a_new_database_has_every_column_an_index_per_sortable_column_and_the_version() {
        let database = Database::new();
        let connection = database.connect();
        let mut statement = connection
            .prepare(&format!(
                "SELECT name FROM pragma_table_info('{TABLE}') ORDER BY cid"
            ))
            .unwrap();
        let columns: Vec<String> = statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut expected = vec!["id", "unique_id"];
        expected.extend(Column::ALL.iter().map(|column| column.name()));
        expected.extend(["created_on", "updated_on", "updated_by"]);
        assert_eq!(columns, expected);

        let mut statement = connection
            .prepare("SELECT name FROM pragma_index_list(?1) WHERE origin = 'c' ORDER BY name")
            .unwrap();
        let indexes: Vec<String> = statement
            .query_map([TABLE], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut expected: Vec<String> = INDEXED
            .iter()
            .map(|column| format!("{TABLE}_by_{}", column.name()))
            .collect();
        expected.sort();
        assert_eq!(indexes, expected);
        // The id is the table's own order, so it needs none.
        assert!(!INDEXED.contains(&SortColumn::Id));

        let version: i64 = connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(version, LAYOUT);
    }

    /// The insert, the update and the select number their parameters and columns as their
    /// callers bind and read them: what goes in comes out, column by column.
    #[test]
    fn what_the_statements_write_reads_back() {
        let database = Database::new();
        let connection = database.connect();
        let first = fields("first");
        let id = insert(&connection, "u-1", &first, "2026-01-01");
        assert_eq!(id, 1);
        let expected = StoredRecord {
            id,
            unique_id: "u-1".into(),
            fields: first,
            created_on: "2026-01-01".into(),
            updated_on: "2026-01-01".into(),
            updated_by: "a@b.c".into(),
        };
        assert_eq!(get(&connection, id).unwrap(), Some(expected.clone()));
        assert_eq!(get(&connection, id + 1).unwrap(), None);

        let mut second = fields("second");
        second.price = None;
        second.used = Some(false);
        let mut values = second.values();
        values.push(&"2026-01-02");
        values.push(&"d@e.f");
        values.push(&id);
        assert_eq!(
            connection
                .execute(&STATEMENTS.update, values.as_slice())
                .unwrap(),
            1
        );
        assert_eq!(
            get(&connection, id).unwrap(),
            Some(StoredRecord {
                fields: second,
                updated_on: "2026-01-02".into(),
                updated_by: "d@e.f".into(),
                ..expected
            })
        );
        let listed: Vec<i64> = connection
            .prepare(&select("ORDER BY id"))
            .unwrap()
            .query_map([], record)
            .unwrap()
            .map(|record| record.unwrap().id)
            .collect();
        assert_eq!(listed, [id]);
    }

    #[test]
    fn a_database_of_another_layout_is_refused_not_rewritten() {
        let database = Database::new();
        let path = &database.path;
        insert(&database.connect(), "u-1", &fields("n"), "2026-01-01");
        // Preparing again keeps what was stored.
        prepare(&mut connect(path).unwrap()).unwrap();
        let record = get(&database.connect(), 1).unwrap().unwrap();
        assert_eq!(record.fields.notes.as_deref(), Some("n"));

        for found in [0, LAYOUT + 1] {
            Connection::open(path)
                .unwrap()
                .execute_batch(&format!("PRAGMA user_version = {found}"))
                .unwrap();
            let error = prepare(&mut connect(path).unwrap()).unwrap_err();
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("the database's layout is version {found}, ")),
                "{error}"
            );
            // Nothing was changed.
            let old = Connection::open(path).unwrap();
            let version: i64 = old
                .query_row("PRAGMA user_version", [], |row| row.get(0))
                .unwrap();
            assert_eq!(version, found);
            let notes: String = old
                .query_row(&format!("SELECT notes FROM {TABLE}"), [], |row| row.get(0))
                .unwrap();
            assert_eq!(notes, "n");
        }
    }
}
