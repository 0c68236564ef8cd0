//! The list SQL: a query of filters, a sort and a page made into one count of the matches and
//! one page of them, read in one transaction so that both see the same records.

use rusqlite::{Connection, ToSql, params_from_iter};

use super::{
    columns::{Column, SortColumn},
    error::StoreError,
    layout::{TABLE, record, select},
    record::StoredRecord,
};

/// A condition of a list.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// The column equals the value (a null column matches nothing).
    Equal(Column, rusqlite::types::Value),
    /// The column is at least the value.
    AtLeast(Column, rusqlite::types::Value),
    /// The column is at most the value.
    AtMost(Column, rusqlite::types::Value),
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// Every condition a record must meet.
    pub filters: Vec<Filter>,
    /// The sort column; ties are ordered by id, in the same direction.
    pub sort: SortColumn,
    /// Descending instead of ascending (nulls sort first in ascending order).
    pub descending: bool,
    /// The page, from 1.
    pub page: u32,
    /// Records per page, at least 1.
    pub size: u32,
}

/// What a list found.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    /// The page's records, in order.
    pub records: Vec<StoredRecord>,
    /// How many records match, on every page.
    pub total: u64,
}

/// One page of the records that meet `query`, and how many meet it.
pub(super) fn list(connection: &Connection, query: &ListQuery) -> Result<ListPage, StoreError> {
    let sql = ListSql::new(query);
    // One read transaction, so that the count and the page see the same records.
    connection.execute_batch("BEGIN")?;
    let result = (|| {
        let total: i64 = connection
            .prepare_cached(&sql.count())?
            .query_row(params_from_iter(&sql.values), |row| row.get(0))?;
        let records = if sql.offset >= total {
            Vec::new()
        } else {
            connection
                .prepare_cached(&sql.page())?
                .query_map(sql.page_values().as_slice(), record)?
                .collect::<Result<Vec<_>, _>>()?
        };
        Ok(ListPage {
            records,
            total: u64::try_from(total).unwrap_or_default(),
        })
    })();
    connection.execute_batch("COMMIT")?;
    result
}

/// The SQL of a list: a count of the matches and one page of them.
pub(super) struct ListSql<'q> {
    condition: String,
    order: String,
    /// The filters' values, bound to `?1` on in the count and the page.
    pub(super) values: Vec<&'q rusqlite::types::Value>,
    size: i64,
    offset: i64,
}

impl<'q> ListSql<'q> {
    pub(super) fn new(query: &'q ListQuery) -> Self {
        let mut conditions = Vec::new();
        let mut values = Vec::new();
        for filter in &query.filters {
            let (column, operator, value) = match filter {
                Filter::Equal(column, value) => (column, "=", value),
                Filter::AtLeast(column, value) => (column, ">=", value),
                Filter::AtMost(column, value) => (column, "<=", value),
            };
            values.push(value);
            conditions.push(format!("{} {operator} ?{}", column.name(), values.len()));
        }
        let condition = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let direction = if query.descending { "DESC" } else { "ASC" };
        let order = match query.sort {
            SortColumn::Id => format!("ORDER BY id {direction}"),
            column => format!("ORDER BY {} {direction}, id {direction}", column.name()),
        };
        let size = i64::from(query.size.max(1));
        Self {
            condition,
            order,
            values,
            size,
            offset: i64::from(query.page.max(1) - 1) * size,
        }
    }

    /// The count of every match.
    pub(super) fn count(&self) -> String {
        format!("SELECT COUNT(*) FROM {TABLE} {}", self.condition)
    }

    /// One page of the matches, in order; bound to [`ListSql::page_values`].
    pub(super) fn page(&self) -> String {
        let limit = self.values.len() + 1;
        select(&format!(
            "{} {} LIMIT ?{limit} OFFSET ?{}",
            self.condition,
            self.order,
            limit + 1
        ))
    }

    /// The filters' values, then the page's size and offset.
    pub(super) fn page_values(&self) -> Vec<&dyn ToSql> {
        let mut values: Vec<&dyn ToSql> = self
            .values
            .iter()
            .map(|value| *value as &dyn ToSql)
            .collect();
        values.push(&self.size);
        values.push(&self.offset);
        values
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::types::Value as Sql;
    use serde_json::json;

    use super::*;
    use crate::store::{
        connection::read_only,
        testing::{Database, create_request},
    };

    fn query(filters: Vec<Filter>, sort: SortColumn, descending: bool) -> ListQuery {
        ListQuery {
            filters,
            sort,
            descending,
            page: 1,
            size: 25,
        }
    }

    fn paged(page: u32, size: u32) -> (i64, i64) {
        let query = ListQuery {
            page,
            size,
            ..query(Vec::new(), SortColumn::Id, false)
        };
        let sql = ListSql::new(&query);
        (sql.size, sql.offset)
    }

    #[test]
    fn a_page_skips_the_pages_before_it() {
        assert_eq!(paged(1, 25), (25, 0));
        assert_eq!(paged(2, 25), (25, 25));
        assert_eq!(paged(3, 10), (10, 20));
        assert_eq!(paged(5, 1000), (1000, 4000));
        // Below the spec's minimums: the first page, one record.
        assert_eq!(paged(0, 10), (10, 0));
        assert_eq!(paged(3, 0), (1, 2));
        // The largest page the spec allows does not overflow.
        assert_eq!(
            paged(i32::MAX as u32, 1000),
            (1000, (i64::from(i32::MAX) - 1) * 1000)
        );
    }

    #[test]
    fn without_filters_everything_is_counted_and_ties_follow_the_sort() {
        let listed = query(Vec::new(), SortColumn::Field(Column::price), true);
        let sql = ListSql::new(&listed);
        assert_eq!(sql.condition, "");
        assert_eq!(sql.order, "ORDER BY price DESC, id DESC");
        assert_eq!(
            sql.count().trim_end(),
            format!("SELECT COUNT(*) FROM {TABLE}")
        );
        assert!(
            sql.page().ends_with(
                " FROM coworker_time_passes  ORDER BY price DESC, id DESC LIMIT ?1 OFFSET ?2"
            ),
            "{}",
            sql.page()
        );
        assert_eq!(sql.page_values().len(), 2);

        let by_creation = query(Vec::new(), SortColumn::CreatedOn, false);
        assert_eq!(
            ListSql::new(&by_creation).order,
            "ORDER BY created_on ASC, id ASC"
        );
        // The id is unique: nothing to break a tie.
        let by_id = query(Vec::new(), SortColumn::Id, true);
        assert_eq!(ListSql::new(&by_id).order, "ORDER BY id DESC");
    }

    #[test]
    fn filters_are_all_met_each_by_its_own_parameter() {
        let filters = vec![
            Filter::Equal(Column::coworker_id, Sql::Integer(7)),
            Filter::AtLeast(Column::expire_date, Sql::Text("from".into())),
            Filter::AtMost(Column::expire_date, Sql::Text("to".into())),
        ];
        let listed = query(filters, SortColumn::Id, false);
        let sql = ListSql::new(&listed);
        let condition = "WHERE coworker_id = ?1 AND expire_date >= ?2 AND expire_date <= ?3";
        assert_eq!(sql.condition, condition);
        assert_eq!(
            sql.values,
            [
                &Sql::Integer(7),
                &Sql::Text("from".into()),
                &Sql::Text("to".into())
            ]
        );
        assert_eq!(
            sql.count(),
            format!("SELECT COUNT(*) FROM {TABLE} {condition}")
        );
        assert!(
            sql.page()
                .ends_with(&format!("{condition} ORDER BY id ASC LIMIT ?4 OFFSET ?5")),
            "{}",
            sql.page()
        );
        assert_eq!(sql.page_values().len(), 5);
    }

    #[tokio::test]
    async fn lists_filter_sort_and_page() {
        let database = Database::new();
        let writer = database.writer();
        // Prices 3, null, 1, 3, 2 on ids 1 to 5; coworkers alternate.
        for (price, coworker) in [
            (Some(3.0), 1),
            (None, 2),
            (Some(1.0), 1),
            (Some(3.0), 2),
            (Some(2.0), 1),
        ] {
            let (mut fields, _) = create_request(json!({"CoworkerId": coworker}));
            fields.price = price;
            writer.create(fields, 1, "a@b.c").await.unwrap();
        }
        let connection = read_only(&database.path).unwrap();
        let listed = |filters: Vec<Filter>, sort, descending, page, size| {
            let page = list(
                &connection,
                &ListQuery {
                    filters,
                    sort,
                    descending,
                    page,
                    size,
                },
            )
            .unwrap();
            let ids: Vec<i64> = page.records.iter().map(|record| record.id).collect();
            (ids, page.total)
        };
        let price = SortColumn::Field(Column::price);
        // Nulls first ascending, ties by id in the same direction.
        assert_eq!(
            listed(vec![], price, false, 1, 10),
            (vec![2, 3, 5, 1, 4], 5)
        );
        assert_eq!(listed(vec![], price, true, 1, 10), (vec![4, 1, 5, 3, 2], 5));
        assert_eq!(listed(vec![], price, true, 2, 2), (vec![5, 3], 5));
        assert_eq!(listed(vec![], price, true, 3, 2), (vec![2], 5));
        assert_eq!(listed(vec![], price, true, 4, 2), (vec![], 5));
        let coworker = |id| Filter::Equal(Column::coworker_id, Sql::Integer(id));
        assert_eq!(
            listed(vec![coworker(1)], SortColumn::Id, true, 1, 2),
            (vec![5, 3], 3)
        );
        let at_least_two = Filter::AtLeast(Column::price, Sql::Real(2.0));
        assert_eq!(
            listed(vec![coworker(1), at_least_two], price, false, 1, 10),
            (vec![5, 1], 2)
        );
        let at_most_two = Filter::AtMost(Column::price, Sql::Real(2.0));
        assert_eq!(
            listed(vec![at_most_two], price, false, 1, 10),
            (vec![3, 5], 2)
        );
        assert_eq!(listed(vec![coworker(3)], price, false, 1, 10), (vec![], 0));
        // The read transaction is over: the connection is free for the next read.
        assert!(connection.is_autocommit());
    }
}
