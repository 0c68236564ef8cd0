//! Reads on the caller's thread, beside the writer, for tests and benchmarks that check what a
//! server stored: how many records there are, every id, and SQLite's plan for a list. The
//! server's own reads are [`super::Store::read`] and [`super::Store::list`].

use rusqlite::Connection;
#[cfg(feature = "inspect")]
use rusqlite::ToSql;

#[cfg(feature = "inspect")]
use super::list::{ListQuery, ListSql};
use super::{error::StoreError, layout::TABLE};

/// How many records there are.
pub(super) fn count(connection: &Connection) -> Result<u64, StoreError> {
    let count: i64 = connection.query_row(&format!("SELECT COUNT(*) FROM {TABLE}"), [], |row| {
        row.get(0)
    })?;
    Ok(u64::try_from(count).unwrap_or_default())
}

/// Every id, ascending.
#[cfg(feature = "inspect")]
pub(super) fn ids(connection: &Connection) -> Result<Vec<i64>, StoreError> {
    let mut statement = connection.prepare(&format!("SELECT id FROM {TABLE} ORDER BY id"))?;
    let ids = statement
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

/// SQLite's plan for `query`'s count and then its page, one line per step.
#[cfg(feature = "inspect")]
pub(super) fn plan(connection: &Connection, query: &ListQuery) -> Result<Vec<String>, StoreError> {
    let sql = ListSql::new(query);
    let mut steps = Vec::new();
    for (text, values) in [
        (
            sql.count(),
            sql.values
                .iter()
                .map(|v| *v as &dyn ToSql)
                .collect::<Vec<_>>(),
        ),
        (sql.page(), sql.page_values()),
    ] {
        let mut statement = connection.prepare(&format!("EXPLAIN QUERY PLAN {text}"))?;
        let details = statement
            .query_map(values.as_slice(), |row| row.get::<_, String>(3))?
            .collect::<Result<Vec<_>, _>>()?;
        steps.extend(details);
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use rusqlite::types::Value as Sql;

    use super::*;
    use crate::store::{
        columns::{Column, SortColumn},
        list::Filter,
        testing::{Database, fields},
    };

    #[tokio::test]
    async fn count_and_ids_see_every_committed_record() {
        let database = Database::new();
        let connection = database.connect();
        assert_eq!(count(&connection).unwrap(), 0);
        assert!(ids(&connection).unwrap().is_empty());
        let writer = database.writer();
        writer.create(fields("a"), 3, "a@b.c").await.unwrap();
        writer.delete(2).await.unwrap();
        assert_eq!(count(&connection).unwrap(), 2);
        assert_eq!(ids(&connection).unwrap(), [1, 3]);
    }

    /// The plan's steps are the count's, then the page's: a filter is searched in its column's
    /// index, and a page sorted by an indexed column walks that index instead of sorting.
    #[test]
    fn a_plan_shows_the_count_then_the_page() {
        let database = Database::new();
        let connection = database.connect();
        let query = ListQuery {
            filters: vec![Filter::Equal(Column::business_id, Sql::Integer(1))],
            sort: SortColumn::Field(Column::business_id),
            descending: false,
            page: 1,
            size: 10,
        };
        let steps = plan(&connection, &query).unwrap();
        assert_eq!(steps.len(), 2, "{steps:?}");
        assert!(
            steps[0].starts_with("SEARCH coworker_time_passes USING COVERING INDEX coworker_time_passes_by_business_id"),
            "{steps:?}"
        );
        assert!(
            steps[1].starts_with(
                "SEARCH coworker_time_passes USING INDEX coworker_time_passes_by_business_id"
            ),
            "{steps:?}"
        );
    }
}
