//! The implementation of the generated server trait.

use std::sync::Arc;

use chrono::Utc;
use nexudus_server_api::{
    CreateCoworkerTimePassResponse, NexudusBillingApi, Operation, Rejection, bearer_token,
};
use nexudus_types::{CoworkerTimePassCreate, CreateSuccess, CreatedRecord, ErrorEnvelope};
use serde_json::Value;

use crate::{
    envelope::{self, AUTHORIZATION, SERVER},
    store::Store,
    users::{User, Users},
};

/// `Message` of a successful create, as documented.
pub const CREATED: &str = "CoworkerTimePass was successfully created.";

/// The reference implementation: users from configuration, records in SQLite.
#[derive(Debug)]
pub struct ReferenceApi {
    users: Users,
    store: Arc<Store>,
    body_limit: usize,
}

impl ReferenceApi {
    /// An API answering for `users`, storing in `store`, accepting bodies up to `body_limit`.
    pub fn new(users: Users, store: Arc<Store>, body_limit: usize) -> Self {
        Self {
            users,
            store,
            body_limit,
        }
    }

    fn unauthorized(message: impl Into<String>) -> ErrorEnvelope {
        // The token is never echoed back: AttemptedValue stays null.
        envelope::envelope(vec![envelope::error(AUTHORIZATION, Value::Null, message)])
    }
}

impl NexudusBillingApi for ReferenceApi {
    type Caller = User;

    async fn authenticate(
        &self,
        operation: &'static Operation,
        headers: &http::HeaderMap,
    ) -> Result<User, ErrorEnvelope> {
        let token = bearer_token(headers).map_err(|error| Self::unauthorized(error.to_string()))?;
        let user = self
            .users
            .find(token)
            .ok_or_else(|| Self::unauthorized("the bearer token is not valid"))?;
        let requirements: Vec<&[&str]> = operation
            .security
            .iter()
            .map(|requirement| requirement.scopes)
            .collect();
        if user.may(&requirements) {
            return Ok(user.clone());
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

    fn reject(&self, _operation: &'static Operation, rejection: Rejection) -> ErrorEnvelope {
        envelope::rejection(rejection)
    }

    fn body_limit(&self) -> usize {
        self.body_limit
    }

    async fn create_coworker_time_pass(
        &self,
        caller: User,
        body: CoworkerTimePassCreate,
    ) -> CreateCoworkerTimePassResponse {
        let now = Utc::now();
        let first = match self.store.create(body, &caller.email, now).await {
            Ok(ids) => ids.first().copied().and_then(|id| u64::try_from(id).ok()),
            Err(error) => {
                tracing::error!(error = %error, "storing time passes failed");
                None
            }
        };
        let Some(id) = first.and_then(|id| id.try_into().ok()) else {
            return CreateCoworkerTimePassResponse::InternalServerError(envelope::envelope(vec![
                envelope::error(SERVER, Value::Null, "the records could not be stored"),
            ]));
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
            updated_on: now,
            value: CreatedRecord { id },
            was_successful: true,
        })
    }
}
