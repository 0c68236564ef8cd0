//! What an operation's `x-contract` promises, checked against the operation: every expression
//! names a parameter it has (or a body it takes), every key of `success` is a JSON pointer,
//! order and filters name its query parameters and come with a page.

use api_description::{Operation, ParameterLocation};

use super::{Filter, Order};
use crate::{
    expression::Expression,
    extension::{self, LastWrite, Nulls, OnOperation, Page},
};

/// An operation's `x-contract`, checked.
pub(super) struct Promises {
    pub(super) success: Vec<(String, Expression)>,
    pub(super) page: Option<Page>,
    pub(super) order: Option<Order>,
    pub(super) filters: Vec<Filter>,
    pub(super) creates: Option<Expression>,
    pub(super) last_write: LastWrite,
}

impl Promises {
    /// Reads and checks `operation`'s `x-contract`; `Err` says what is wrong, with the key.
    pub(super) fn of(operation: &Operation) -> Result<Self, String> {
        let written: OnOperation = extension::parse(operation.contract)?;
        if written.client_header.is_some() {
            return Err(
                "x-contract.client-header: only a token endpoint's grants are for a client".into(),
            );
        }
        let expression = |value| {
            let expression = Expression::parse(value)?;
            check_expression(operation, &expression)?;
            Ok::<_, String>(expression)
        };
        let success = written
            .success
            .iter()
            .map(|(pointer, value)| {
                if !pointer.starts_with('/') {
                    return Err(format!(
                        "x-contract.success key `{pointer}` is not a JSON pointer"
                    ));
                }
                Ok((pointer.clone(), expression(value)?))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let creates = written.creates.as_ref().map(expression).transpose()?;
        let last_write = written.last_write.unwrap_or_default();
        for (name, pointer) in [("by", &last_write.by), ("at", &last_write.at)] {
            if let Some(pointer) = pointer
                && !pointer.starts_with('/')
            {
                return Err(format!(
                    "x-contract.last-write.{name} is {}, not a JSON pointer",
                    serde_json::Value::from(pointer.as_str())
                ));
            }
        }
        let query_parameter = |name: &str| {
            operation
                .parameter(ParameterLocation::Query, name)
                .map(|_| name.to_owned())
                .ok_or_else(|| format!("x-contract names `{name}`, which is not a query parameter"))
        };
        let paged = |what: &str| {
            if written.page.is_none() {
                return Err(format!("x-contract.{what} needs x-contract.page"));
            }
            Ok(())
        };
        let order = match written.order {
            Some(order) => {
                paged("order")?;
                Some(Order {
                    field: query_parameter(&order.field)?,
                    direction: query_parameter(&order.direction)?,
                    ascending: order.ascending,
                    descending: order.descending,
                    nulls_first: order.nulls == Nulls::First,
                    then: order.then,
                })
            }
            None => None,
        };
        let filters = written
            .filters
            .into_iter()
            .map(|(parameter, filter)| {
                paged("filters")?;
                Ok(Filter {
                    parameter: query_parameter(&parameter)?,
                    property: filter.property,
                    matching: filter.matching,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self {
            success,
            page: written.page,
            order,
            filters,
            creates,
            last_write,
        })
    }
}

/// `$request.path.X`, `$request.query.X` and `$request.header.X` must name parameters of the
/// operation, and
/// `$request.body` needs a body.
fn check_expression(operation: &Operation, expression: &Expression) -> Result<(), String> {
    let (location, name) = match expression {
        Expression::RequestPath(name) => (ParameterLocation::Path, name),
        Expression::RequestQuery(name) => (ParameterLocation::Query, name),
        Expression::RequestHeader(name) => (ParameterLocation::Header, name),
        Expression::RequestBody(_) if operation.request_schema.is_none() => {
            return Err(format!("{expression}: the operation takes no body"));
        }
        Expression::ResponseBody(_) => {
            return Err(format!(
                "{expression}: an expectation cannot name the response it checks"
            ));
        }
        _ => return Ok(()),
    };
    match operation.parameter(location, name) {
        Some(_) => Ok(()),
        None => Err(format!("{expression}: no such parameter")),
    }
}
