//! A record as stored, and the spec's read model made from it: what was written, with null for
//! every property this server has no source for, and any value it did not write reported
//! rather than mangled.

use nexudus_types::CoworkerTimePass;

use super::{
    columns::{Fields, parse_date_time},
    error::StoreError,
};

/// One stored record.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    /// The record's Id.
    pub id: i64,
    /// The record's UniqueId.
    pub unique_id: String,
    /// What was last written.
    pub fields: Fields,
    /// When it was created, as stored.
    pub created_on: String,
    /// When it was last written, as stored.
    pub updated_on: String,
    /// Who last wrote it.
    pub updated_by: String,
}

impl StoredRecord {
    /// The record as the spec's read model: what was written, and null for every field this
    /// server has no source for (the spec says which).
    pub fn to_read_model(&self) -> Result<CoworkerTimePass, StoreError> {
        let corrupt = |column: &'static str, value: &str| StoreError::Corrupt {
            id: self.id,
            column,
            value: value.to_owned(),
        };
        let id = |column: &'static str, value: i64| {
            u64::try_from(value)
                .ok()
                .and_then(std::num::NonZeroU64::new)
                .ok_or_else(|| corrupt(column, &value.to_string()))
        };
        let date = |column: &'static str, text: &str| {
            parse_date_time(text).ok_or_else(|| corrupt(column, text))
        };
        let uuid = |column: &'static str, text: &Option<String>| {
            text.as_deref()
                .map(|text| {
                    text.parse::<uuid::Uuid>()
                        .map_err(|_| corrupt(column, text))
                })
                .transpose()
        };
        let Fields {
            coworker_id,
            business_id,
            time_pass_id,
            notes,
            purchase_order,
            used,
            free,
            price,
            expire_date,
            tariff_time_pass_unique_id,
            coworker_product_unique_id,
            coworker_contract_unique_id,
        } = &self.fields;
        Ok(CoworkerTimePass {
            id: id("id", self.id)?,
            unique_id: self
                .unique_id
                .parse()
                .map_err(|_| corrupt("unique_id", &self.unique_id))?,
            coworker_id: id("coworker_id", *coworker_id)?,
            business_id: id("business_id", *business_id)?,
            time_pass_id: id("time_pass_id", *time_pass_id)?,
            time_pass_name: None,
            time_pass_currency_code: None,
            notes: notes.clone(),
            purchase_order: purchase_order.clone(),
            used: *used,
            checked_in: None,
            used_date: None,
            remaining_uses: None,
            total_uses: None,
            free: *free,
            price: *price,
            create_multiple: 1,
            expire_date: expire_date
                .as_deref()
                .map(|text| date("expire_date", text))
                .transpose()?,
            invoiced: None,
            invoice_date: None,
            is_from_tariff: None,
            is_pay_as_you_go: None,
            tariff_time_pass_unique_id: uuid(
                "tariff_time_pass_unique_id",
                tariff_time_pass_unique_id,
            )?,
            coworker_product_unique_id: uuid(
                "coworker_product_unique_id",
                coworker_product_unique_id,
            )?,
            coworker_contract_unique_id: uuid(
                "coworker_contract_unique_id",
                coworker_contract_unique_id,
            )?,
            created_on: date("created_on", &self.created_on)?,
            updated_on: date("updated_on", &self.updated_on)?,
            updated_by: self.updated_by.clone(),
            is_new: false,
            system_id: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::fields;

    fn record() -> StoredRecord {
        StoredRecord {
            id: 7,
            unique_id: "0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d90".into(),
            fields: fields("n"),
            created_on: "2026-01-01T00:00:00.000000000Z".into(),
            updated_on: "2026-01-02T00:00:00.000000000Z".into(),
            updated_by: "a@b.c".into(),
        }
    }

    #[test]
    fn a_record_reads_as_written_and_null_where_there_is_no_source() {
        let read = serde_json::to_value(record().to_read_model().unwrap()).unwrap();
        assert_eq!(read["Id"], 7);
        assert_eq!(read["UniqueId"], "0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d90");
        assert_eq!(read["Notes"], "n");
        assert_eq!(read["Price"], 1.5);
        assert_eq!(read["ExpireDate"], "2026-07-30T22:00:00Z");
        assert_eq!(read["CreatedOn"], "2026-01-01T00:00:00Z");
        assert_eq!(read["UpdatedOn"], "2026-01-02T00:00:00Z");
        assert_eq!(read["UpdatedBy"], "a@b.c");
        // Write-only: always 1 when read.
        assert_eq!(read["CreateMultiple"], 1);
        assert_eq!(read["IsNew"], false);
        for unknown in ["TimePassName", "CheckedIn", "Invoiced", "SystemId", "Used"] {
            assert_eq!(read[unknown], serde_json::Value::Null, "{unknown}");
        }
    }

    /// A column, how to spoil it, and the value it then holds.
    type Spoiled = (&'static str, fn(&mut StoredRecord), &'static str);

    /// Every column the read model parses names itself and its value when it holds something
    /// this server does not write.
    #[test]
    fn a_value_this_server_does_not_write_names_its_column() {
        let cases: [Spoiled; 9] = [
            ("id", |r| r.id = 0, "0"),
            ("unique_id", |r| r.unique_id = "u".into(), "u"),
            ("coworker_id", |r| r.fields.coworker_id = -1, "-1"),
            ("business_id", |r| r.fields.business_id = 0, "0"),
            ("time_pass_id", |r| r.fields.time_pass_id = 0, "0"),
            (
                "expire_date",
                |r| r.fields.expire_date = Some("soon".into()),
                "soon",
            ),
            (
                "tariff_time_pass_unique_id",
                |r| r.fields.tariff_time_pass_unique_id = Some("x".into()),
                "x",
            ),
            (
                "created_on",
                |r| r.created_on = "yesterday".into(),
                "yesterday",
            ),
            ("updated_on", |r| r.updated_on = String::new(), ""),
        ];
        for (column, corrupt, value) in cases {
            let mut stored = record();
            corrupt(&mut stored);
            let error = stored.to_read_model().unwrap_err();
            match &error {
                StoreError::Corrupt {
                    id,
                    column: named,
                    value: held,
                } => {
                    assert_eq!(
                        (*named, held.as_str()),
                        (column, value),
                        "{column}: {error}"
                    );
                    assert_eq!(*id, stored.id);
                }
                other => panic!("{column}: {other:?}"),
            }
        }
    }
}
