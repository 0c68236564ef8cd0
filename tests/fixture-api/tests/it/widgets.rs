//! The fixture API's server for the tests: the generated router with an implementation that
//! keeps widgets in memory, behind the strict reading of a request's head that a server facing
//! the internet gives (`server_runtime::check_headers`: a header that names one thing sent twice
//! is refused, naming it).

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use axum::{extract::Request, middleware::Next, response::IntoResponse};
use fixture_api::{
    server::{
        self, DeleteGadgetResponse, DeleteWidgetResponse, GadgetsCreateResponse,
        GadgetsListResponse, GetGadgetResponse, GetWidgetResponse, PutGadgetResponse,
        PutWidgetResponse, WidgetsApi, WidgetsListResponse,
    },
    types::{GadgetDraft, ProblemReport, SortOrder, WidgetList, WidgetV2},
};
use loopback::Served;
use serde_json::Value;

use crate::gadgets::Gadgets;

/// `widgets` served on a loopback port.
pub(crate) async fn serve(widgets: Widgets) -> Served {
    let router = server::router(Arc::new(widgets))
        .unwrap()
        .layer(axum::middleware::from_fn(strict));
    Served::start(router).await
}

/// The request's head read strictly before routing.
async fn strict(request: Request, next: Next) -> axum::response::Response {
    match server_runtime::check_headers(request.version(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(rejection) => (
            rejection.status(),
            axum::Json(problem(vec![rejection.to_string()])),
        )
            .into_response(),
    }
}

/// The fixture API's server: widgets and gadgets in memory, a token `all` for every operation.
#[derive(Default)]
pub(crate) struct Widgets {
    pub(crate) stored: Mutex<BTreeMap<i64, WidgetV2>>,
    /// Widgets read, for [`Fault::CacheOutlivesDelete`].
    pub(crate) cached: Mutex<BTreeMap<i64, WidgetV2>>,
    pub(crate) gadgets: Gadgets,
    /// The one way it breaks the contract, if any.
    pub(crate) fault: Option<Fault>,
}

/// A way of breaking the fixture's contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// A delete answers 204 and keeps the widget.
    DeleteKeepsTheWidget,
    /// A put stores the widget without its weight.
    PutDropsTheWeight,
    /// Reads are answered from a cache that a put invalidates and a delete does not.
    CacheOutlivesDelete,
    /// A gadget's delete answers 204 to every one of several deletes at once.
    GadgetDeletesRace,
    /// The gadget list ignores its header parameter: its page's `Tag` is always the default.
    TagIgnored,
}

fn problem(problems: Vec<String>) -> ProblemReport {
    ProblemReport { problems }
}

impl server::Reject<ProblemReport> for Widgets {
    fn reject(
        &self,
        _: &'static server_runtime::Operation,
        rejection: server_runtime::Rejection,
    ) -> ProblemReport {
        match rejection {
            server_runtime::Rejection::Invalid(violations) => problem(
                violations
                    .iter()
                    .map(|v| {
                        format!(
                            "{}: {} ({})",
                            v.property_name().unwrap_or_default(),
                            v.message,
                            v.value.clone().unwrap_or(Value::Null)
                        )
                    })
                    .collect(),
            ),
            other => problem(vec![other.to_string()]),
        }
    }
}

impl WidgetsApi for Widgets {
    type Caller = ();

    async fn authenticate(
        &self,
        operation: &'static server_runtime::Operation,
        headers: &http::HeaderMap,
    ) -> Result<(), ProblemReport> {
        // Gadgets also take Basic credentials (the spec says which operations do).
        let basic = operation
            .security
            .iter()
            .any(|requirement| requirement.scheme == "basic");
        match server_runtime::credentials(headers) {
            Ok(server_runtime::Credentials::Bearer("all")) => Ok(()),
            Ok(server_runtime::Credentials::Basic { username, password })
                if basic && username == "tester" && password == "secret" =>
            {
                Ok(())
            }
            _ => Err(problem(vec![format!(
                "{} needs a token",
                operation.operation_id
            )])),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn widgets_list(
        &self,
        _: (),
        size: Option<i32>,
        name: Option<String>,
        active: Option<bool>,
        sort_order: Option<SortOrder>,
        since: Option<chrono::DateTime<chrono::Utc>>,
        batch: Option<uuid::Uuid>,
    ) -> WidgetsListResponse {
        // A batch or a date after 2100 matches nothing: enough to see that they arrive parsed.
        let far = "2100-01-01T00:00:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap();
        if batch.is_some_and(|batch| batch.get_version_num() != 4)
            || since.is_some_and(|since| since > far)
        {
            return WidgetsListResponse::Ok(WidgetList {
                records: Vec::new(),
            });
        }
        let stored = self.stored.lock().unwrap();
        let mut records: Vec<WidgetV2> = stored
            .values()
            .filter(|widget| {
                name.as_ref()
                    .is_none_or(|name| widget.name.as_str() == name)
            })
            .filter(|_| active != Some(false))
            .take(size.unwrap_or(25) as usize)
            .cloned()
            .collect();
        match sort_order {
            Some(SortOrder::ByName) => records.sort_by(|a, b| a.name.cmp(&b.name)),
            Some(SortOrder::ByWeight) => {
                records.sort_by(|a, b| a.weight.partial_cmp(&b.weight).unwrap())
            }
            None => {}
        }
        WidgetsListResponse::Ok(WidgetList { records })
    }

    async fn get_widget(&self, _: (), id: i64) -> GetWidgetResponse {
        let caching = self.fault == Some(Fault::CacheOutlivesDelete);
        let hit = caching
            .then(|| self.cached.lock().unwrap().get(&id).cloned())
            .flatten();
        if let Some(widget) = hit {
            return GetWidgetResponse::Ok(widget);
        }
        match self.stored.lock().unwrap().get(&id) {
            Some(widget) => {
                if caching {
                    self.cached.lock().unwrap().insert(id, widget.clone());
                }
                GetWidgetResponse::Ok(widget.clone())
            }
            None => GetWidgetResponse::NotFound(problem(vec![format!("no widget {id}")])),
        }
    }

    async fn put_widget(&self, _: (), id: i64, body: WidgetV2) -> PutWidgetResponse {
        let mut stored = body.clone();
        if self.fault == Some(Fault::PutDropsTheWeight) {
            stored.weight = None;
        }
        self.stored.lock().unwrap().insert(id, stored);
        self.cached.lock().unwrap().remove(&id);
        PutWidgetResponse::Ok(body)
    }

    async fn delete_widget(&self, _: (), id: i64) -> DeleteWidgetResponse {
        if self.fault == Some(Fault::DeleteKeepsTheWidget)
            && self.stored.lock().unwrap().contains_key(&id)
        {
            return DeleteWidgetResponse::NoContent;
        }
        match self.stored.lock().unwrap().remove(&id) {
            Some(_) => DeleteWidgetResponse::NoContent,
            None => DeleteWidgetResponse::NotFound(problem(vec![format!("no widget {id}")])),
        }
    }

    async fn gadgets_list(
        &self,
        _: (),
        page: Option<i32>,
        size: Option<i32>,
        label: Option<String>,
        tag: Option<String>,
    ) -> GadgetsListResponse {
        let tag = tag.filter(|_| self.fault != Some(Fault::TagIgnored));
        self.gadgets.list(page, size, label, tag)
    }

    async fn gadgets_create(&self, _: (), body: GadgetDraft) -> GadgetsCreateResponse {
        self.gadgets.create(body)
    }

    async fn get_gadget(&self, _: (), id: i64) -> GetGadgetResponse {
        self.gadgets.get(id)
    }

    async fn put_gadget(&self, _: (), id: i64, body: GadgetDraft) -> PutGadgetResponse {
        self.gadgets.put(id, body)
    }

    async fn delete_gadget(&self, _: (), id: i64) -> DeleteGadgetResponse {
        self.gadgets
            .delete(id, self.fault == Some(Fault::GadgetDeletesRace))
            .await
    }
}
