//! The violation kinds: every one of them (so that a new kind breaks the tests that must
//! produce it), the names reports print, and the ways the catalogue's `Thing` can be broken.

use std::collections::BTreeSet;

use spec_strategies::ViolationKind;

/// The ways each property of the catalogue's `Thing` can be broken alone, by its schema.
const THING_KINDS: &[(&str, &[ViolationKind])] = {
    use ViolationKind::*;
    &[
        ("", &[NotAnObject, NullNotAllowed]),
        (
            "Count",
            &[
                MissingRequired,
                NullNotAllowed,
                WrongType,
                BelowMinimum,
                AboveMaximum,
            ],
        ),
        (
            "Offset",
            &[NullNotAllowed, WrongType, BelowMinimum, AboveMaximum],
        ),
        (
            "Weight",
            &[NullNotAllowed, WrongType, BelowMinimum, AboveMaximum],
        ),
        (
            "Ratio",
            &[NullNotAllowed, WrongType, BelowMinimum, AboveMaximum],
        ),
        ("Amount", &[NullNotAllowed, WrongType, BelowMinimum]),
        ("Debt", &[NullNotAllowed, WrongType, AboveMaximum]),
        (
            "Name",
            &[
                MissingRequired,
                NullNotAllowed,
                WrongType,
                TooLong,
                TooShort,
            ],
        ),
        ("Note", &[NullNotAllowed, WrongType]),
        ("Stamp", &[WrongType, BadFormat]),
        ("Key", &[NullNotAllowed, WrongType, BadFormat]),
        ("Colour", &[NullNotAllowed, WrongType, NotInEnum]),
        ("Level", &[WrongType, NotInEnum]),
        ("Mixed", &[NullNotAllowed, WrongType]),
        ("Flag", &[NullNotAllowed, WrongType]),
        ("Tags", &[MissingRequired, NullNotAllowed, WrongType]),
        ("Matrix", &[NullNotAllowed, WrongType]),
        ("Part", &[MissingRequired, NullNotAllowed, WrongType]),
        ("Parent", &[WrongType]),
    ]
};

pub(crate) fn thing_kinds() -> BTreeSet<(String, ViolationKind)> {
    THING_KINDS
        .iter()
        .flat_map(|(property, kinds)| kinds.iter().map(|kind| (property.to_string(), *kind)))
        .collect()
}

/// Every kind, in declaration order; the match fails to compile when a kind is added.
pub(crate) fn every_kind() -> [ViolationKind; 10] {
    use ViolationKind::*;
    let every = [
        MissingRequired,
        WrongType,
        NullNotAllowed,
        BelowMinimum,
        AboveMaximum,
        BadFormat,
        TooLong,
        TooShort,
        NotAnObject,
        NotInEnum,
    ];
    for kind in every {
        match kind {
            MissingRequired | WrongType | NullNotAllowed | BelowMinimum | AboveMaximum
            | BadFormat | TooLong | TooShort | NotAnObject | NotInEnum => {}
        }
    }
    every
}

#[test]
fn violation_kinds_have_the_names_reports_print() {
    let names: Vec<&str> = every_kind().iter().map(|kind| kind.name()).collect();
    assert_eq!(
        names,
        [
            "missing-required",
            "wrong-type",
            "null-not-allowed",
            "below-minimum",
            "above-maximum",
            "bad-format",
            "too-long",
            "too-short",
            "not-an-object",
            "not-in-enum"
        ]
    );
}
