//! What the walk carries from place to place: the two versions, the differences recorded so far,
//! and the schema pairs already compared.

use std::collections::HashSet;

use super::{record::Record, usage::Direction};
use crate::document::Version;

pub(super) struct Walk<'a> {
    pub old: &'a Version,
    pub new: &'a Version,
    pub record: Record,
    /// Schema pairs already compared in a direction: a shared component is compared once, and a
    /// recursive one ends.
    pub seen: HashSet<(String, String, Direction)>,
}

impl<'a> Walk<'a> {
    pub(super) fn new(old: &'a Version, new: &'a Version) -> Self {
        Self {
            old,
            new,
            record: Record::default(),
            seen: HashSet::new(),
        }
    }
}
