//! The column table: the writable fields of a record, declared once with the SQL of each column
//! (the `fields!` invocation below), and how a request becomes them.
//!
//! The table's schema, the insert, the update, the select and the reading of a row are all
//! built from this one list (see the layout module). Requests become [`Fields`] by exhaustive
//! destructuring and records are read into the generated read model by an exhaustive struct
//! literal, so a property the spec gains and the store does not keep fails to compile.

use std::num::NonZeroU64;

use chrono::{DateTime, Utc};
use nexudus_types::{CoworkerTimePassCreate, CoworkerTimePassUpdate};
use rusqlite::ToSql;

/// Declares [`Fields`] and [`Column`] from one list of `field: type = "SQL of the column"`.
macro_rules! fields {
    ($($field:ident: $ty:ty = $sql:literal,)*) => {
        /// The writable fields of a record, as stored: one per column.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Fields {
            $(
                #[doc = concat!("Column `", $sql, "`.")]
                pub $field: $ty,
            )*
        }

        /// A column of [`Fields`].
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Column {
            $(
                #[doc = concat!("`", $sql, "`.")]
                $field,
            )*
        }

        impl Column {
            /// Every column, in table order.
            pub const ALL: &[Column] = &[$(Column::$field),*];

            /// The column's name.
            pub fn name(self) -> &'static str {
                match self {
                    $(Column::$field => stringify!($field),)*
                }
            }

            /// The column's definition in `CREATE TABLE`.
            pub(super) fn definition(self) -> &'static str {
                match self {
                    $(Column::$field => concat!(stringify!($field), " ", $sql),)*
                }
            }
        }

        impl Fields {
            /// The values to bind, in [`Column::ALL`]'s order.
            pub(super) fn values(&self) -> Vec<&dyn ToSql> {
                vec![$(&self.$field),*]
            }

            /// Reads the fields from `row`, whose columns from `first` on are [`Column::ALL`].
            pub(super) fn from_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self> {
                let mut index = first;
                let mut next = || {
                    index += 1;
                    index - 1
                };
                Ok(Self { $($field: row.get(next())?,)* })
            }
        }
    };
}

fields! {
    coworker_id: i64 = "INTEGER NOT NULL",
    business_id: i64 = "INTEGER NOT NULL",
    time_pass_id: i64 = "INTEGER NOT NULL",
    notes: Option<String> = "TEXT",
    purchase_order: Option<String> = "TEXT",
    used: Option<bool> = "INTEGER",
    free: Option<bool> = "INTEGER",
    price: Option<f64> = "REAL",
    expire_date: Option<String> = "TEXT",
    tariff_time_pass_unique_id: Option<String> = "TEXT",
    coworker_product_unique_id: Option<String> = "TEXT",
    coworker_contract_unique_id: Option<String> = "TEXT",
}

/// How date-times are stored: UTC, nine fractional digits, so that the text sorts as the
/// instants do (the spec keeps date-times within years 0000 to 9999 in UTC).
const DATE_TIME: &str = "%Y-%m-%dT%H:%M:%S%.9fZ";

/// A date-time as stored.
pub fn stored_date_time(instant: DateTime<Utc>) -> String {
    instant.format(DATE_TIME).to_string()
}

pub(super) fn parse_date_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|instant| instant.to_utc())
}

impl Fields {
    /// The fields of a create request; `CreateMultiple` says how many records, and is not
    /// stored (the spec marks it write-only).
    pub fn from_create(request: CoworkerTimePassCreate) -> (Self, u32) {
        let CoworkerTimePassCreate {
            coworker_id,
            business_id,
            time_pass_id,
            create_multiple,
            notes,
            purchase_order,
            used,
            free,
            price,
            expire_date,
            tariff_time_pass_unique_id,
            coworker_product_unique_id,
            coworker_contract_unique_id,
        } = request;
        let fields = Self::new(
            [coworker_id, business_id, time_pass_id],
            [notes.map(String::from), purchase_order.map(String::from)],
            [used, free],
            price,
            expire_date,
            [
                tariff_time_pass_unique_id,
                coworker_product_unique_id,
                coworker_contract_unique_id,
            ],
        );
        (fields, create_multiple.get())
    }

    /// The fields of an update request, and the Id of the record to update. `CreateMultiple` is
    /// not stored (the spec marks it write-only).
    pub fn from_update(request: CoworkerTimePassUpdate) -> (i64, Self) {
        let CoworkerTimePassUpdate {
            id,
            coworker_id,
            business_id,
            time_pass_id,
            create_multiple: _,
            notes,
            purchase_order,
            used,
            free,
            price,
            expire_date,
            tariff_time_pass_unique_id,
            coworker_product_unique_id,
            coworker_contract_unique_id,
        } = request;
        let fields = Self::new(
            [coworker_id, business_id, time_pass_id],
            [notes.map(String::from), purchase_order.map(String::from)],
            [used, free],
            price,
            expire_date,
            [
                tariff_time_pass_unique_id,
                coworker_product_unique_id,
                coworker_contract_unique_id,
            ],
        );
        (sql_id(id), fields)
    }

    fn new(
        [coworker_id, business_id, time_pass_id]: [NonZeroU64; 3],
        [notes, purchase_order]: [Option<String>; 2],
        [used, free]: [Option<bool>; 2],
        price: Option<f64>,
        expire_date: Option<DateTime<Utc>>,
        [tariff, product, contract]: [Option<uuid::Uuid>; 3],
    ) -> Self {
        let uuid = |value: Option<uuid::Uuid>| value.map(|uuid| uuid.hyphenated().to_string());
        Self {
            coworker_id: sql_id(coworker_id),
            business_id: sql_id(business_id),
            time_pass_id: sql_id(time_pass_id),
            notes,
            purchase_order,
            used,
            free,
            price,
            expire_date: expire_date.map(stored_date_time),
            tariff_time_pass_unique_id: uuid(tariff),
            coworker_product_unique_id: uuid(product),
            coworker_contract_unique_id: uuid(contract),
        }
    }
}

/// An id as SQLite keeps it. The spec caps ids at `i64::MAX` and the server validates before
/// anything is stored.
fn sql_id(id: NonZeroU64) -> i64 {
    i64::try_from(id.get()).unwrap_or(i64::MAX)
}

/// What a list sorts by: a column of [`Fields`] or of the record itself. It is declared with the
/// columns rather than with the list because the layout, which the list is built on, indexes
/// these same columns by these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    /// The Id.
    Id,
    /// When the record was created.
    CreatedOn,
    /// When it was last written.
    UpdatedOn,
    /// A writable field.
    Field(Column),
}

impl SortColumn {
    /// The column's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::CreatedOn => "created_on",
            Self::UpdatedOn => "updated_on",
            Self::Field(column) => column.name(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rusqlite::Connection;
    use serde_json::json;

    use super::*;
    use crate::store::testing::create_request;

    #[test]
    fn every_field_is_a_column_in_table_order_with_its_sql() {
        let names: Vec<&str> = Column::ALL.iter().map(|column| column.name()).collect();
        assert_eq!(
            names,
            [
                "coworker_id",
                "business_id",
                "time_pass_id",
                "notes",
                "purchase_order",
                "used",
                "free",
                "price",
                "expire_date",
                "tariff_time_pass_unique_id",
                "coworker_product_unique_id",
                "coworker_contract_unique_id",
            ]
        );
        assert_eq!(
            Column::coworker_id.definition(),
            "coworker_id INTEGER NOT NULL"
        );
        assert_eq!(Column::notes.definition(), "notes TEXT");
        assert_eq!(Column::used.definition(), "used INTEGER");
        assert_eq!(Column::price.definition(), "price REAL");
        for column in Column::ALL {
            assert!(
                column
                    .definition()
                    .starts_with(&format!("{} ", column.name())),
                "{column:?}"
            );
        }
    }

    /// What [`Fields::values`] binds is what [`Fields::from_row`] reads back, column by column,
    /// from wherever in the row the fields start.
    #[test]
    fn fields_bind_and_read_back_in_column_order() {
        let fields = Fields {
            coworker_id: 1,
            business_id: 2,
            time_pass_id: 3,
            notes: Some("notes".into()),
            purchase_order: None,
            used: Some(true),
            free: Some(false),
            price: Some(4.5),
            expire_date: Some("2026-07-31T00:00:00.000000000Z".into()),
            tariff_time_pass_unique_id: Some("t".into()),
            coworker_product_unique_id: None,
            coworker_contract_unique_id: Some("c".into()),
        };
        let connection = Connection::open_in_memory().unwrap();
        let placeholders: Vec<String> = (1..=Column::ALL.len())
            .map(|index| format!("?{index}"))
            .collect();
        let values = fields.values();
        assert_eq!(values.len(), Column::ALL.len());
        let read = connection
            .query_row(
                &format!("SELECT 'before', {}", placeholders.join(", ")),
                values.as_slice(),
                |row| Fields::from_row(row, 1),
            )
            .unwrap();
        assert_eq!(read, fields);
    }

    #[test]
    fn a_create_becomes_fields_and_a_count_of_records() {
        let (fields, count) = create_request(json!({
            "CreateMultiple": 3, "Notes": "n", "Used": true, "Price": 2.5,
            "ExpireDate": "2026-07-31T02:00:00+02:00",
            "CoworkerContractUniqueId": "0D6B7C1E-3F8A-4C2E-9B1D-5A7E2F4C8D90"
        }));
        assert_eq!(count, 3);
        assert_eq!(
            fields,
            Fields {
                coworker_id: 1,
                business_id: 2,
                time_pass_id: 3,
                notes: Some("n".into()),
                purchase_order: None,
                used: Some(true),
                free: None,
                price: Some(2.5),
                // In UTC, to the nanosecond, so that the text sorts as the instants do.
                expire_date: Some("2026-07-31T00:00:00.000000000Z".into()),
                tariff_time_pass_unique_id: None,
                coworker_product_unique_id: None,
                // Lower case, hyphenated: one spelling per uuid.
                coworker_contract_unique_id: Some("0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d90".into()),
            }
        );
    }

    #[test]
    fn an_update_names_its_record_and_keeps_no_count() {
        let request = json!({
            "Id": 9223372036854775807u64, "CoworkerId": 4, "BusinessId": 5, "TimePassId": 6,
            "CreateMultiple": 7, "PurchaseOrder": "po", "Free": true
        });
        let (id, fields) = Fields::from_update(serde_json::from_value(request).unwrap());
        assert_eq!(id, i64::MAX);
        assert_eq!(
            (fields.coworker_id, fields.business_id, fields.time_pass_id),
            (4, 5, 6)
        );
        assert_eq!(fields.purchase_order.as_deref(), Some("po"));
        assert_eq!(fields.free, Some(true));
        assert_eq!(fields.notes, None);
    }

    #[test]
    fn an_id_beyond_sqlite_is_capped_not_wrapped() {
        assert_eq!(sql_id(NonZeroU64::new(7).unwrap()), 7);
        assert_eq!(sql_id(NonZeroU64::new(i64::MAX as u64).unwrap()), i64::MAX);
        assert_eq!(sql_id(NonZeroU64::MAX), i64::MAX);
    }

    #[test]
    fn stored_date_times_sort_as_their_instants_and_read_back() {
        let instants = [
            Utc.with_ymd_and_hms(999, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 7, 31, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 7, 31, 0, 0, 0).unwrap() + chrono::Duration::nanoseconds(1),
            Utc.with_ymd_and_hms(2026, 7, 31, 0, 0, 1).unwrap(),
        ];
        let stored: Vec<String> = instants.iter().copied().map(stored_date_time).collect();
        assert_eq!(stored[1], "2026-07-31T00:00:00.000000000Z");
        assert_eq!(stored[2], "2026-07-31T00:00:00.000000001Z");
        let mut sorted = stored.clone();
        sorted.sort();
        assert_eq!(sorted, stored);
        for (text, instant) in stored.iter().zip(instants) {
            assert_eq!(parse_date_time(text), Some(instant));
        }
        assert_eq!(
            parse_date_time("2026-07-31T02:00:00+02:00"),
            Some(instants[1])
        );
        assert_eq!(parse_date_time("yesterday"), None);
    }

    #[test]
    fn sort_columns_are_named_as_the_table_names_them() {
        assert_eq!(SortColumn::Id.name(), "id");
        assert_eq!(SortColumn::CreatedOn.name(), "created_on");
        assert_eq!(SortColumn::UpdatedOn.name(), "updated_on");
        assert_eq!(SortColumn::Field(Column::price).name(), "price");
    }
}
