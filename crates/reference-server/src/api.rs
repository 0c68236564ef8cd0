//! The implementation of the generated server trait: every operation of the spec, on the store.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use nexudus_server_api::{
    CreateCoworkerTimePassResponse, CreateTokenResponse, Credentials,
    DeleteCoworkerTimePassResponse, GetCoworkerTimePassResponse, ListCoworkerTimePassesResponse,
    NexudusBillingApi, Operation, Reject, Rejection, SchemeKind, UpdateCoworkerTimePassResponse,
    credentials,
};
use nexudus_types::{
    CoworkerTimePassCreate, CoworkerTimePassList, CoworkerTimePassOrderField,
    CoworkerTimePassUpdate, CreateSuccess, CreatedRecord, DeleteSuccess, ErrorEnvelope, TokenError,
    TokenRequest, UpdateSuccess, UpdatedRecord,
};
use serde_json::Value;

use crate::{
    envelope::{self, AUTHORIZATION, SERVER},
    sign_in::{self, SignIn},
    store::{
        Column, Fields, Filter, ListQuery, SortColumn, Store, StoreError, Written, stored_date_time,
    },
    tokens::Callers,
    users::User,
};

/// `Message` of a successful create, as documented.
pub const CREATED: &str = "CoworkerTimePass was successfully created.";
/// `Message` of a successful update, as documented.
pub const UPDATED: &str = "CoworkerTimePass was successfully updated.";
/// `Message` of a successful delete, as documented.
pub const DELETED: &str = "The record was deleted successfully.";

/// The reference implementation: users from configuration, records in SQLite.
#[derive(Debug)]
pub struct ReferenceApi {
    callers: Callers,
    sign_in: SignIn,
    store: Arc<Store>,
    body_limit: usize,
}

impl ReferenceApi {
    /// An API answering for `callers`, storing in `store`, accepting bodies up to `body_limit`.
    pub fn new(callers: Callers, store: Arc<Store>, body_limit: usize) -> Self {
        Self {
            sign_in: SignIn::new(callers.clone()),
            callers,
            store,
            body_limit,
        }
    }

    fn unauthorized(message: impl Into<String>) -> ErrorEnvelope {
        // The token is never echoed back: AttemptedValue stays null.
        envelope::envelope(vec![envelope::error(AUTHORIZATION, Value::Null, message)])
    }
}

/// The envelope of a storage failure, logged with what failed.
fn storage_failed(what: &str, error: &StoreError) -> ErrorEnvelope {
    tracing::error!(error = %error, "{what} failed");
    envelope::envelope(vec![envelope::error(
        SERVER,
        Value::Null,
        format!("{what} failed in the server's storage; nothing was changed"),
    )])
}

/// The 404 envelope: `property` carried `id`, and no record has it.
fn not_found(property: &str, id: i64) -> ErrorEnvelope {
    envelope::envelope(vec![envelope::error(
        property,
        Value::from(id),
        "no CoworkerTimePass has this Id",
    )])
}

impl Reject<ErrorEnvelope> for ReferenceApi {
    fn reject(&self, _operation: &'static Operation, rejection: Rejection) -> ErrorEnvelope {
        envelope::rejection(rejection)
    }
}

impl Reject<TokenError> for ReferenceApi {
    fn reject(&self, _operation: &'static Operation, rejection: Rejection) -> TokenError {
        sign_in::rejection(rejection)
    }
}

impl NexudusBillingApi for ReferenceApi {
    type Caller = User;

    async fn authenticate(
        &self,
        operation: &'static Operation,
        headers: &http::HeaderMap,
    ) -> Result<User, ErrorEnvelope> {
        let accepts = |kind: SchemeKind| {
            operation
                .security
                .iter()
                .any(|requirement| requirement.kind(nexudus_server_api::SECURITY_SCHEMES) == kind)
        };
        let user = match credentials(headers) {
            Err(error) => return Err(Self::unauthorized(error.to_string())),
            Ok(Credentials::Bearer(token)) if accepts(SchemeKind::Bearer) => self
                .callers
                .find(token, std::time::SystemTime::now())
                .map_err(Self::unauthorized)?
                .clone(),
            Ok(Credentials::Basic { username, password }) if accepts(SchemeKind::Basic) => {
                let email = self
                    .sign_in
                    .basic(&username, &password)
                    .await
                    .map_err(Self::unauthorized)?;
                self.callers
                    .users
                    .by_email(&email)
                    .ok_or_else(|| Self::unauthorized("the user is no longer known"))?
                    .clone()
            }
            Ok(_) => {
                return Err(Self::unauthorized(
                    "this operation takes no credentials of this scheme",
                ));
            }
        };
        // Basic credentials need the roles a bearer token's user would: the spec's Basic scheme
        // carries the same roles, which OpenAPI 3.0 cannot write on it.
        let requirements: Vec<&[&str]> = operation
            .security
            .iter()
            .filter(|requirement| {
                requirement.kind(nexudus_server_api::SECURITY_SCHEMES) == SchemeKind::Bearer
            })
            .map(|requirement| requirement.scopes)
            .collect();
        if user.may(&requirements) {
            return Ok(user);
        }
        let roles: Vec<String> = requirements
            .iter()
            .map(|roles| {
                roles
                    .iter()
                    .map(|role| format!("the {role} role"))
                    .collect::<Vec<_>>()
            })
            .map(|roles| roles.join(" and "))
            .collect();
        Err(Self::unauthorized(format!(
            "{} needs {} or to be a full unrestricted administrator",
            user.email,
            roles.join(" or ")
        )))
    }

    async fn create_token(
        &self,
        client_id: Option<String>,
        body: TokenRequest,
    ) -> CreateTokenResponse {
        self.sign_in.grant(client_id, body).await
    }

    fn body_limit(&self) -> usize {
        self.body_limit
    }

    async fn create_coworker_time_pass(
        &self,
        caller: User,
        body: CoworkerTimePassCreate,
    ) -> CreateCoworkerTimePassResponse {
        let (fields, count) = Fields::from_create(body);
        let created = self
            .store
            .create(fields, count, &caller.email)
            .await
            .and_then(|(ids, at)| {
                let first = ids.first().copied().unwrap_or_default();
                positive(first)
                    .map(|id| (id, at))
                    .ok_or(StoreError::BadId(first))
            });
        let (id, at) = match created {
            Ok(created) => created,
            Err(error) => {
                return CreateCoworkerTimePassResponse::InternalServerError(storage_failed(
                    "storing the records",
                    &error,
                ));
            }
        };
        CreateCoworkerTimePassResponse::Ok(CreateSuccess {
            errors: None,
            java_script: None,
            message: CREATED.to_owned(),
            open_in_dialog: false,
            open_in_window: false,
            redirect_url: None,
            status: 200,
            updated_by: caller.email,
            updated_on: at,
            value: CreatedRecord { id },
            was_successful: true,
        })
    }

    async fn get_coworker_time_pass(&self, _caller: User, id: i64) -> GetCoworkerTimePassResponse {
        let read = self
            .store
            .read(id)
            .and_then(|record| record.map(|record| record.to_read_model()).transpose());
        match read {
            Ok(Some(record)) => GetCoworkerTimePassResponse::Ok(record),
            Ok(None) => GetCoworkerTimePassResponse::NotFound(not_found("id", id)),
            Err(error) => GetCoworkerTimePassResponse::InternalServerError(storage_failed(
                "reading the record",
                &error,
            )),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn list_coworker_time_passes(
        &self,
        _caller: User,
        page: Option<i32>,
        size: Option<i32>,
        order_by: Option<CoworkerTimePassOrderField>,
        dir: Option<i32>,
        coworker_id: Option<i64>,
        business_id: Option<i64>,
        time_pass_id: Option<i64>,
        used: Option<bool>,
        free: Option<bool>,
        purchase_order: Option<String>,
        expire_from: Option<DateTime<Utc>>,
        expire_to: Option<DateTime<Utc>>,
    ) -> ListCoworkerTimePassesResponse {
        let parameters = ListParameters {
            page,
            size,
            order_by,
            dir,
            coworker_id,
            business_id,
            time_pass_id,
            used,
            free,
            purchase_order,
            expire_from,
            expire_to,
        };
        let query = parameters.query();
        let (page, size, order_by, dir) = (
            query.page,
            query.size,
            parameters.order_by(),
            parameters.dir(),
        );
        let listed = self.store.list(query).await.and_then(|listed| {
            let records = listed
                .records
                .iter()
                .map(|record| record.to_read_model())
                .collect::<Result<Vec<_>, _>>()?;
            Ok((records, listed.total))
        });
        let (records, total) = match listed {
            Ok(listed) => listed,
            Err(error) => {
                return ListCoworkerTimePassesResponse::InternalServerError(storage_failed(
                    "listing the records",
                    &error,
                ));
            }
        };
        let (page, size) = (i64::from(page), i64::from(size));
        let total = i64::try_from(total).unwrap_or(i64::MAX);
        let total_pages = (total + size - 1) / size;
        let first_item = if records.is_empty() {
            0
        } else {
            (page - 1) * size + 1
        };
        let last_item = if records.is_empty() {
            0
        } else {
            first_item + records.len() as i64 - 1
        };
        ListCoworkerTimePassesResponse::Ok(CoworkerTimePassList {
            records,
            current_page: std::num::NonZeroU32::new(page as u32)
                .unwrap_or(std::num::NonZeroU32::MIN),
            current_page_size: std::num::NonZeroU32::new(size as u32)
                .unwrap_or(std::num::NonZeroU32::MIN),
            current_order_field: order_by.to_string(),
            current_sort_direction: dir,
            first_item,
            last_item,
            total_items: total,
            total_pages,
            has_next_page: page < total_pages,
            has_previous_page: page > 1,
        })
    }

    async fn update_coworker_time_pass(
        &self,
        caller: User,
        body: CoworkerTimePassUpdate,
    ) -> UpdateCoworkerTimePassResponse {
        let record = body.id;
        let (id, fields) = Fields::from_update(body);
        match self.store.update(id, fields, &caller.email).await {
            Ok(Written::Committed { at, .. }) => {
                UpdateCoworkerTimePassResponse::Ok(UpdateSuccess {
                    errors: None,
                    java_script: None,
                    message: UPDATED.to_owned(),
                    open_in_dialog: false,
                    open_in_window: false,
                    redirect_url: None,
                    status: 200,
                    updated_by: caller.email,
                    updated_on: at,
                    value: UpdatedRecord { id: record },
                    was_successful: true,
                })
            }
            Ok(Written::NotFound) => UpdateCoworkerTimePassResponse::NotFound(not_found("Id", id)),
            Err(error) => UpdateCoworkerTimePassResponse::InternalServerError(storage_failed(
                "updating the record",
                &error,
            )),
        }
    }

    async fn delete_coworker_time_pass(
        &self,
        caller: User,
        id: i64,
    ) -> DeleteCoworkerTimePassResponse {
        match self.store.delete(id).await {
            Ok(Written::Committed { at, .. }) => {
                DeleteCoworkerTimePassResponse::Ok(DeleteSuccess {
                    errors: None,
                    java_script: None,
                    message: DELETED.to_owned(),
                    open_in_dialog: false,
                    open_in_window: false,
                    redirect_url: None,
                    status: 200,
                    updated_by: caller.email,
                    updated_on: at,
                    value: Value::Null,
                    was_successful: true,
                })
            }
            Ok(Written::NotFound) => DeleteCoworkerTimePassResponse::NotFound(not_found("id", id)),
            Err(error) => DeleteCoworkerTimePassResponse::InternalServerError(storage_failed(
                "deleting the record",
                &error,
            )),
        }
    }
}

/// The parameters of a list, as the router parsed and checked them against the spec (page at
/// least 1, size from 1 to 1000, dir 1 or -1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListParameters {
    /// `page`.
    pub page: Option<i32>,
    /// `size`.
    pub size: Option<i32>,
    /// `orderBy`.
    pub order_by: Option<CoworkerTimePassOrderField>,
    /// `dir`.
    pub dir: Option<i32>,
    /// `CoworkerTimePass_CoworkerId`.
    pub coworker_id: Option<i64>,
    /// `CoworkerTimePass_BusinessId`.
    pub business_id: Option<i64>,
    /// `CoworkerTimePass_TimePassId`.
    pub time_pass_id: Option<i64>,
    /// `CoworkerTimePass_Used`.
    pub used: Option<bool>,
    /// `CoworkerTimePass_Free`.
    pub free: Option<bool>,
    /// `CoworkerTimePass_PurchaseOrder`.
    pub purchase_order: Option<String>,
    /// `from_CoworkerTimePass_ExpireDate`.
    pub expire_from: Option<DateTime<Utc>>,
    /// `to_CoworkerTimePass_ExpireDate`.
    pub expire_to: Option<DateTime<Utc>>,
}

impl ListParameters {
    fn order_by(&self) -> CoworkerTimePassOrderField {
        self.order_by.unwrap_or_default()
    }

    fn dir(&self) -> i32 {
        self.dir.unwrap_or(1)
    }

    /// The store's query for these parameters, with the spec's defaults.
    pub fn query(&self) -> ListQuery {
        use rusqlite::types::Value as Sql;

        let mut filters = Vec::new();
        let mut equal = |column, value: Option<Sql>| {
            if let Some(value) = value {
                filters.push(Filter::Equal(column, value));
            }
        };
        equal(Column::coworker_id, self.coworker_id.map(Sql::Integer));
        equal(Column::business_id, self.business_id.map(Sql::Integer));
        equal(Column::time_pass_id, self.time_pass_id.map(Sql::Integer));
        equal(
            Column::used,
            self.used.map(|used| Sql::Integer(used.into())),
        );
        equal(
            Column::free,
            self.free.map(|free| Sql::Integer(free.into())),
        );
        equal(
            Column::purchase_order,
            self.purchase_order.clone().map(Sql::Text),
        );
        let date = |instant: DateTime<Utc>| Sql::Text(stored_date_time(instant));
        filters.extend(
            self.expire_from
                .map(|from| Filter::AtLeast(Column::expire_date, date(from))),
        );
        filters.extend(
            self.expire_to
                .map(|to| Filter::AtMost(Column::expire_date, date(to))),
        );
        ListQuery {
            filters,
            sort: sort_column(self.order_by()),
            descending: self.dir() == -1,
            page: self
                .page
                .and_then(|page| u32::try_from(page).ok())
                .unwrap_or(1),
            size: self
                .size
                .and_then(|size| u32::try_from(size).ok())
                .unwrap_or(25),
        }
    }
}

/// The store's column for each property the spec lets a list sort by.
pub fn sort_column(field: CoworkerTimePassOrderField) -> SortColumn {
    use CoworkerTimePassOrderField as Field;
    match field {
        Field::Id => SortColumn::Id,
        Field::CoworkerId => SortColumn::Field(Column::coworker_id),
        Field::BusinessId => SortColumn::Field(Column::business_id),
        Field::TimePassId => SortColumn::Field(Column::time_pass_id),
        Field::PurchaseOrder => SortColumn::Field(Column::purchase_order),
        Field::Used => SortColumn::Field(Column::used),
        Field::Free => SortColumn::Field(Column::free),
        Field::Price => SortColumn::Field(Column::price),
        Field::ExpireDate => SortColumn::Field(Column::expire_date),
        Field::CreatedOn => SortColumn::CreatedOn,
        Field::UpdatedOn => SortColumn::UpdatedOn,
    }
}

fn positive(id: i64) -> Option<std::num::NonZeroU64> {
    u64::try_from(id).ok().and_then(std::num::NonZeroU64::new)
}
