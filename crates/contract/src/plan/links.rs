//! What an operation's links say: the operation to call first to make the record it acts on
//! (from an operation that needs nothing made itself), the reads of its success's record, and
//! for a delete, the read that must then find nothing.

use api_description::{Link, Operation, ParameterLocation};
use serde_json::{Map, Value};

use super::{LinkPlan, Setup, location_of, spec_error};
use crate::{expression::Expression, extension, extension::OnOperation, options::ContractError};

/// The links into and out of one operation.
pub(super) struct Links {
    pub(super) setup: Option<Setup>,
    pub(super) reads: Vec<LinkPlan>,
    pub(super) read_after_delete: Option<&'static Operation>,
}

impl Links {
    pub(super) fn of(
        operation: &'static Operation,
        operations: &[&'static Operation],
        success_status: u16,
    ) -> Result<Self, ContractError> {
        // Links into this operation, from operations that need nothing set up themselves.
        let incoming: Vec<(&'static Operation, &'static Link)> = operations
            .iter()
            .flat_map(|source| {
                source
                    .responses
                    .iter()
                    .filter(|response| (200..300).contains(&response.status))
                    .flat_map(move |response| {
                        response.links.iter().map(move |link| (*source, link))
                    })
            })
            .filter(|(_, link)| link.operation_id == operation.operation_id)
            .collect();
        let is_root = |candidate: &Operation| {
            !operations.iter().any(|other| {
                other
                    .responses
                    .iter()
                    .flat_map(|response| response.links)
                    .any(|link| link.operation_id == candidate.operation_id)
            })
        };
        let setup = match incoming.iter().find(|(source, _)| is_root(source)) {
            Some((source, link)) => Some(Setup {
                source,
                link: link_plan(link, operations)?,
            }),
            None if incoming.is_empty() => None,
            None => {
                return Err(spec_error(
                    operation,
                    "every link into it comes from an operation that needs a link itself",
                ));
            }
        };
        let reads = operation
            .response(success_status)
            .into_iter()
            .flat_map(|response| response.links)
            .map(|link| link_plan(link, operations))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|link| link.target.method == "GET" && !has_page(link.target))
            .collect();
        let read_after_delete = (operation.method == "DELETE")
            .then(|| {
                operations
                    .iter()
                    .find(|other| other.method == "GET" && other.path == operation.path)
                    .copied()
            })
            .flatten();
        Ok(Self {
            setup,
            reads,
            read_after_delete,
        })
    }
}

fn has_page(operation: &Operation) -> bool {
    extension::parse::<OnOperation>(operation.contract)
        .is_ok_and(|contract| contract.page.is_some())
}

fn link_plan(
    link: &'static Link,
    operations: &[&'static Operation],
) -> Result<LinkPlan, ContractError> {
    let target = operations
        .iter()
        .find(|operation| operation.operation_id == link.operation_id)
        .copied()
        .ok_or_else(|| {
            ContractError::Spec(format!(
                "link {}: no operation {}",
                link.name, link.operation_id
            ))
        })?;
    let error = |message: String| spec_error(target, format!("link {}: {message}", link.name));
    let parameters: Map<String, Value> =
        serde_json::from_str(link.parameters).map_err(ContractError::spec)?;
    let parameters = parameters
        .iter()
        .map(|(name, value)| {
            let (location, bare) = if let Some(bare) = name.strip_prefix("path.") {
                (ParameterLocation::Path, bare)
            } else if let Some(bare) = name.strip_prefix("query.") {
                (ParameterLocation::Query, bare)
            } else {
                let parameter = target
                    .parameters
                    .iter()
                    .find(|parameter| parameter.name == name)
                    .ok_or_else(|| error(format!("no parameter `{name}`")))?;
                (parameter.location, name.as_str())
            };
            Ok((
                location_of(location),
                bare.to_owned(),
                Expression::parse(value).map_err(&error)?,
            ))
        })
        .collect::<Result<Vec<_>, ContractError>>()?;
    let body: Value = serde_json::from_str(link.request_body).map_err(ContractError::spec)?;
    let body = match &body {
        Value::Null => Vec::new(),
        Value::Object(members) => members
            .iter()
            .map(|(name, value)| {
                Ok((
                    format!("/{}", name.replace('~', "~0").replace('/', "~1")),
                    Expression::parse(value).map_err(&error)?,
                ))
            })
            .collect::<Result<Vec<_>, ContractError>>()?,
        other => vec![(String::new(), Expression::parse(other).map_err(&error)?)],
    };
    Ok(LinkPlan {
        name: link.name.to_owned(),
        target,
        parameters,
        body,
    })
}
