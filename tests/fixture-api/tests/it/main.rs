//! The code generated from the fixture spec, compiled and exercised: its types, its router and
//! client over loopback HTTP, and the contract runner checking the fixture API as it checks the
//! Nexudus one.

mod contract;
mod gadgets;
mod router;
mod types;
mod widgets;
