//! Where a schema is used, and so whom a change to what it accepts breaks: read in a request, a
//! narrowing breaks old clients (the new server may reject what they send); read in a response,
//! a widening does (the new server may send what they cannot decode). The same place tells the
//! witness search what to draw and where the rejecting version must find fault.

use super::{
    difference::{Draw, Plan},
    rules::Change,
};
use crate::{
    document::Operation,
    findings::{Place, Side},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Direction {
    Request,
    Response,
}

/// The part of an exchange a schema describes.
#[derive(Debug, Clone)]
pub(super) enum Location {
    Parameter(String),
    RequestBody {
        content_type: String,
    },
    Response {
        status: String,
        content_type: String,
    },
    ResponseHeader {
        status: String,
        content_type: Option<String>,
        name: String,
    },
}

/// Where a schema is used.
#[derive(Debug, Clone)]
pub(super) struct Context {
    pub direction: Direction,
    method: String,
    old_path: String,
    new_path: String,
    location: Location,
}

impl Context {
    pub(super) fn new(
        direction: Direction,
        method: &str,
        old: &Operation<'_>,
        new: &Operation<'_>,
        location: Location,
    ) -> Self {
        Self {
            direction,
            method: method.to_owned(),
            old_path: old.path.to_owned(),
            new_path: new.path.to_owned(),
            location,
        }
    }

    /// Whom `change` breaks here.
    pub(super) fn side(&self, change: Change) -> Side {
        match self.direction {
            Direction::Request if change.narrows => Side::Requests,
            Direction::Response if change.widens => Side::Responses,
            _ => Side::Neither,
        }
    }

    /// Whom `change`, at `path` in the body, breaks here, and how to show it when it breaks.
    pub(super) fn classify(&self, change: Change, path: &[String]) -> (Side, Option<Plan>) {
        let side = self.side(change);
        (side, side.breaks().then(|| self.plan(path)))
    }

    /// A witness of a break at `path`: a request of the released version, or a response of the
    /// current one, at this place.
    fn plan(&self, path: &[String]) -> Plan {
        let place = match &self.location {
            Location::Parameter(name) => Place::Parameter(name.clone()),
            Location::ResponseHeader { name, .. } => Place::Header(name.clone()),
            _ => Place::Body(path.to_vec()),
        };
        let (path, draw) = match &self.location {
            Location::Parameter(_) => (&self.old_path, Draw::request()),
            Location::RequestBody { content_type } => (
                &self.old_path,
                Draw::Request {
                    credentials: None,
                    content_type: Some(content_type.clone()),
                    no_body: false,
                },
            ),
            Location::Response {
                status,
                content_type,
            } => (
                &self.new_path,
                Draw::Response {
                    status: status.clone(),
                    content_type: Some(content_type.clone()),
                },
            ),
            Location::ResponseHeader {
                status,
                content_type,
                ..
            } => (
                &self.new_path,
                Draw::Response {
                    status: status.clone(),
                    content_type: content_type.clone(),
                },
            ),
        };
        Plan {
            method: self.method.clone(),
            path: path.clone(),
            draw,
            place,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::rules::{BOTH, NARROWS, WIDENS};

    fn context(direction: Direction, location: Location) -> Context {
        Context {
            direction,
            method: "POST".into(),
            old_path: "/things/{id}".into(),
            new_path: "/things/{thing}".into(),
            location,
        }
    }

    fn body() -> Context {
        let content_type = "application/json".into();
        context(Direction::Request, Location::RequestBody { content_type })
    }

    fn response() -> Context {
        let location = Location::Response {
            status: "200".into(),
            content_type: "application/json".into(),
        };
        context(Direction::Response, location)
    }

    #[test]
    fn a_narrowing_breaks_requests_and_a_widening_breaks_responses() {
        assert_eq!(body().side(NARROWS), Side::Requests);
        assert_eq!(body().side(WIDENS), Side::Neither);
        assert_eq!(body().side(BOTH), Side::Requests);
        assert_eq!(response().side(WIDENS), Side::Responses);
        assert_eq!(response().side(NARROWS), Side::Neither);
        assert_eq!(response().side(BOTH), Side::Responses);
    }

    #[test]
    fn a_change_that_does_nothing_breaks_neither_side() {
        let nothing = Change {
            narrows: false,
            widens: false,
        };
        assert_eq!(body().side(nothing), Side::Neither);
        assert_eq!(response().side(nothing), Side::Neither);
    }

    #[test]
    fn only_a_break_has_a_plan() {
        assert!(body().classify(WIDENS, &[]).1.is_none());
        assert!(response().classify(NARROWS, &[]).1.is_none());
    }

    #[test]
    fn a_request_break_is_drawn_from_the_released_path_in_its_content_type() {
        let path = ["items".to_owned(), "*".to_owned()];
        let (side, plan) = body().classify(NARROWS, &path);
        assert_eq!(side, Side::Requests);
        let plan = plan.unwrap();
        assert_eq!(
            (plan.method.as_str(), plan.path.as_str()),
            ("POST", "/things/{id}")
        );
        assert_eq!(plan.place, Place::Body(path.to_vec()));
        let Draw::Request {
            credentials: None,
            content_type: Some(content_type),
            no_body: false,
        } = plan.draw
        else {
            panic!("{:?}", plan.draw);
        };
        assert_eq!(content_type, "application/json");
    }

    #[test]
    fn a_response_break_is_drawn_from_the_current_path_and_status() {
        let (_, plan) = response().classify(WIDENS, &["a".to_owned()]);
        let plan = plan.unwrap();
        assert_eq!(plan.path, "/things/{thing}");
        assert_eq!(plan.place, Place::Body(vec!["a".to_owned()]));
        let Draw::Response {
            status,
            content_type,
        } = plan.draw
        else {
            panic!("{:?}", plan.draw);
        };
        assert_eq!(
            (status.as_str(), content_type.as_deref()),
            ("200", Some("application/json"))
        );
    }

    #[test]
    fn a_parameter_or_header_is_faulted_by_name_not_body_path() {
        let parameter = context(Direction::Request, Location::Parameter("limit".into()));
        let (side, plan) = parameter.classify(NARROWS, &["ignored".to_owned()]);
        assert_eq!(side, Side::Requests);
        let plan = plan.unwrap();
        assert_eq!(plan.place, Place::Parameter("limit".into()));
        assert_eq!(plan.path, "/things/{id}");
        assert!(matches!(
            plan.draw,
            Draw::Request {
                credentials: None,
                content_type: None,
                no_body: false
            }
        ));
        let header = context(
            Direction::Response,
            Location::ResponseHeader {
                status: "429".into(),
                content_type: None,
                name: "retry-after".into(),
            },
        );
        let plan = header.classify(WIDENS, &[]).1.unwrap();
        assert_eq!(plan.place, Place::Header("retry-after".into()));
        assert_eq!(plan.path, "/things/{thing}");
        assert!(matches!(
            plan.draw,
            Draw::Response {
                content_type: None,
                ..
            }
        ));
    }
}
