//! The resources a spec describes, as the stateful checks use them: an operation that creates
//! records (a root of links with a body), the read its links lead to, the update and delete they
//! lead to, and the list whose records have the read's schema. Everything is found from links,
//! methods and the `x-contract` extension; a resource the checks cannot scope to their own
//! records gets no stateful checks, and the report says why.

use api_description::ParameterLocation;
use serde_json::Value;
use spec_strategies::Request;

use crate::{
    expression::Expression,
    follow,
    options::ContractError,
    plan::{Filter, Match, Plan, Spec},
};

/// The longest marker a run writes (see [`Resource::marker`]).
pub(crate) const MARKER_LENGTH: u64 = 64;

/// One resource and what the stateful checks need to know of it.
pub(crate) struct Resource<'s> {
    pub(crate) create: &'s Plan,
    pub(crate) read: &'s Plan,
    pub(crate) update: Option<&'s Plan>,
    pub(crate) delete: Option<&'s Plan>,
    pub(crate) list: &'s Plan,
    /// Where the create's answer carries the (first) record's identifier, which its links use.
    pub(crate) answer_id: String,
    /// The record property holding the identifier.
    pub(crate) record_id: String,
    /// An `equal` filter of the list on a plain string property both bodies write: every record a
    /// run makes carries the run's marker there, so that every list it checks is scoped to its
    /// own records and every record it made can be found again.
    pub(crate) marker: Filter,
    /// The list's page number and page size parameters, and the largest size.
    pub(crate) page_parameter: String,
    pub(crate) size_parameter: String,
    pub(crate) max_size: u64,
    /// Top-level record properties of `x-contract.last-write`.
    pub(crate) written_by: Option<String>,
    pub(crate) written_at: Option<String>,
}

impl<'s> Resource<'s> {
    /// Every resource of `spec` the stateful checks can scope to their own records, and why each
    /// other one cannot be.
    pub(crate) fn all(spec: &'s Spec) -> (Vec<Self>, Vec<String>) {
        let (resources, unscoped): (Vec<_>, Vec<_>) = spec
            .plans
            .iter()
            .filter(|plan| plan.setup.is_none() && plan.operation.request_schema.is_some())
            .filter_map(|create| {
                let made_from = |method: &str| {
                    spec.plans.iter().find(|plan| {
                        plan.operation.method == method
                            && plan.page.is_none()
                            && plan.setup.as_ref().is_some_and(|setup| {
                                setup.source.operation_id == create.operation.operation_id
                            })
                    })
                };
                let read = made_from("GET")?;
                Some(Self::new(
                    spec,
                    create,
                    read,
                    made_from("PUT"),
                    made_from("DELETE"),
                ))
            })
            .partition(Result::is_ok);
        (
            resources.into_iter().filter_map(Result::ok).collect(),
            unscoped
                .into_iter()
                .filter_map(Result::err)
                .map(|error| match error {
                    ContractError::Spec(message) => message,
                    other => other.to_string(),
                })
                .collect(),
        )
    }

    fn new(
        spec: &'s Spec,
        create: &'s Plan,
        read: &'s Plan,
        update: Option<&'s Plan>,
        delete: Option<&'s Plan>,
    ) -> Result<Self, ContractError> {
        let error = |message: String| {
            ContractError::Spec(format!("{}: {message}", create.operation.operation_id))
        };
        let link = &read.setup.as_ref().expect("found by its set-up").link;
        let (parameter, answer_id) = match (link.parameters.as_slice(), link.body.is_empty()) {
            ([(_, name, Expression::ResponseBody(pointer))], true) => (name, pointer.clone()),
            _ => {
                return Err(error(format!(
                    "link {} must set one parameter of {} from the answer",
                    link.name, read.operation.operation_id
                )));
            }
        };
        let record_id = read
            .success
            .iter()
            .find(|(_, expression)| *expression == Expression::RequestPath(parameter.clone()))
            .and_then(|(pointer, _)| top_level(pointer))
            .ok_or_else(|| {
                error(format!(
                    "{}'s x-contract.success must say which record property is ${}",
                    read.operation.operation_id,
                    format_args!("request.path.{parameter}")
                ))
            })?;
        let list = spec
            .plans
            .iter()
            .find(|plan| {
                plan.page.is_some() && plan.record.is_some() && plan.record == read.success_schema
            })
            .ok_or_else(|| error("no list has records of the read's schema".into()))?;
        let writes_plain = |plan: &Plan, property: &str| {
            plan.plain_strings
                .get(property)
                .is_some_and(|max| max.is_none_or(|max| max >= MARKER_LENGTH))
        };
        let marker = list
            .filters
            .iter()
            .find(|filter| {
                filter.matching == Match::Equal
                    && writes_plain(create, &filter.property)
                    && update.is_none_or(|update| writes_plain(update, &filter.property))
            })
            .cloned()
            .ok_or_else(|| {
                error(format!(
                    "no `equal` filter of {} is on a plain string property (of at least \
                     {MARKER_LENGTH} characters) that the bodies write, to mark the run's records",
                    list.operation.operation_id
                ))
            })?;
        let page = list.page.as_ref().expect("a list has a page");
        let parameter_of = |pointer: &str| {
            list.success
                .iter()
                .find_map(|(at, expression)| match expression {
                    Expression::RequestQuery(name) if at == pointer => Some(name.clone()),
                    _ => None,
                })
        };
        let (Some(page_parameter), Some(size_parameter)) =
            (parameter_of(&page.number), parameter_of(&page.size))
        else {
            return Err(error(format!(
                "{}'s x-contract.success must say which query parameters give {} and {}",
                list.operation.operation_id, page.number, page.size
            )));
        };
        let max_size = list
            .operation
            .parameter(ParameterLocation::Query, &size_parameter)
            .and_then(|parameter| serde_json::from_str::<Value>(parameter.schema).ok())
            .and_then(|schema| schema.get("maximum").and_then(Value::as_u64))
            .unwrap_or(100);
        let last = |pointer: &Option<String>| match pointer {
            None => Ok(None),
            Some(pointer) => top_level(pointer).map(Some).ok_or_else(|| {
                error(format!(
                    "x-contract.last-write {pointer} is not a top-level property"
                ))
            }),
        };
        Ok(Self {
            create,
            read,
            update,
            delete,
            list,
            answer_id,
            record_id,
            marker,
            page_parameter,
            size_parameter,
            max_size,
            written_by: last(&read.last_write.by)?,
            written_at: last(&read.last_write.at)?,
        })
    }

    /// `request` for `plan` (the read, update or delete) acting on the record `id`: what the link
    /// from the create sets, from an answer that named `id`.
    pub(crate) fn aimed(
        &self,
        plan: &Plan,
        request: Request,
        id: &Value,
    ) -> Result<Request, String> {
        let setup = plan.setup.as_ref().ok_or("no link leads to it")?;
        let mut answer = Value::Null;
        set_pointer(&mut answer, &self.answer_id, id.clone());
        follow::apply(
            &setup.link,
            request,
            &Request::default(),
            Some(&answer),
            &|name| plan.default(name),
        )
    }

    /// The id `request` of `plan` (an operation a link from the create leads to) names: the
    /// value in the place the link sets.
    pub(crate) fn id_in(&self, plan: &Plan, request: &Request) -> Option<Value> {
        let setup = plan.setup.as_ref()?;
        if let Some((location, name, _)) = setup.link.parameters.first() {
            return request.at(*location).get(name).cloned();
        }
        let (pointer, _) = setup.link.body.first()?;
        request.body.as_ref()?.pointer(pointer).cloned()
    }

    /// The body properties the link into `plan` sets (the identifier an update carries).
    pub(crate) fn linked_properties(plan: &Plan) -> Vec<String> {
        plan.setup
            .iter()
            .flat_map(|setup| &setup.link.body)
            .filter_map(|(pointer, _)| top_level(pointer))
            .collect()
    }

    /// The list request for page `page` of `size` records carrying `marker`, in the list's
    /// default order.
    pub(crate) fn marked_page(&self, marker: &str, page: u64, size: u64) -> Request {
        let mut request = Request::default();
        request
            .query
            .insert(self.marker.parameter.clone(), Value::from(marker));
        request
            .query
            .insert(self.page_parameter.clone(), Value::from(page));
        request
            .query
            .insert(self.size_parameter.clone(), Value::from(size));
        request
    }

    /// Writes `marker` into a body (an object) at the marker property.
    pub(crate) fn mark(&self, request: &mut Request, marker: &str) {
        if let Some(Value::Object(body)) = &mut request.body {
            body.insert(self.marker.property.clone(), Value::from(marker));
        }
    }
}

/// The property a one-segment JSON pointer names.
fn top_level(pointer: &str) -> Option<String> {
    let name = pointer.strip_prefix('/')?;
    (!name.contains('/')).then(|| name.replace("~1", "/").replace("~0", "~"))
}

/// Sets `value` at `pointer` in `target`, making objects on the way.
fn set_pointer(target: &mut Value, pointer: &str, value: Value) {
    let mut current = target;
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !current.is_object() {
            *current = Value::Object(serde_json::Map::new());
        }
        current = current
            .as_object_mut()
            .expect("made an object")
            .entry(segment)
            .or_insert(Value::Null);
    }
    *current = value;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real spec has one resource, with every part found from its links and extension.
    #[test]
    fn the_spec_describes_one_resource() {
        let spec = Spec::load(&nexudus_client::API).unwrap();
        let (resources, unscoped) = Resource::all(&spec);
        assert_eq!(unscoped, Vec::<String>::new());
        assert_eq!(resources.len(), 1);
        let resource = &resources[0];
        assert_eq!(
            resource.create.operation.operation_id,
            "create_coworker_time_pass"
        );
        assert_eq!(
            resource.read.operation.operation_id,
            "get_coworker_time_pass"
        );
        assert_eq!(
            resource.list.operation.operation_id,
            "list_coworker_time_passes"
        );
        assert_eq!(
            resource.update.unwrap().operation.operation_id,
            "update_coworker_time_pass"
        );
        assert_eq!(
            resource.delete.unwrap().operation.operation_id,
            "delete_coworker_time_pass"
        );
        assert_eq!(resource.answer_id, "/Value/Id");
        assert_eq!(resource.record_id, "Id");
        assert_eq!(resource.marker.property, "PurchaseOrder");
        assert_eq!(
            (
                resource.page_parameter.as_str(),
                resource.size_parameter.as_str()
            ),
            ("page", "size")
        );
        assert_eq!(resource.max_size, 1000);
        assert_eq!(resource.written_by.as_deref(), Some("UpdatedBy"));
        assert_eq!(resource.written_at.as_deref(), Some("UpdatedOn"));
        let update = resource.update.unwrap();
        let aimed = resource
            .aimed(update, Request::default(), &Value::from(7))
            .unwrap();
        assert_eq!(aimed.body, Some(serde_json::json!({"Id": 7})));
        assert_eq!(Resource::linked_properties(update), ["Id"]);
        let read = resource
            .aimed(resource.read, Request::default(), &Value::from(7))
            .unwrap();
        assert_eq!(read.path["id"], 7);
        assert_eq!(resource.id_in(resource.read, &read), Some(Value::from(7)));
        assert_eq!(resource.id_in(update, &aimed), Some(Value::from(7)));
    }
}
