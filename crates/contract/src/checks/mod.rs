//! What a response must look like. Each function returns one outcome per named check, so that
//! the report can count every check separately. Nothing here names an operation or a property:
//! the rules come from the spec's schemas and `x-contract` extension, or from the conventions
//! the spec states for its error envelope.
//!
//! An answer is checked in layers: its status first; when the status is not the one
//! expected, nothing else of the answer is judged (its other checks would only repeat the
//! fault). Then its content type, the headers its status documents and its body against the
//! status's schema; only a body of the documented shape gets the checks of what it means
//! (`x-contract` expectations, paging, the error envelope's rules).

mod answer;
mod errors;
mod listing;
#[cfg(test)]
mod testing;
mod written;

pub(crate) use answer::{Documented, answer, answer_headers, check, missing_headers, typed_decode};
pub use answer::{Outcome, response_schema, status};
pub(crate) use errors::{error_envelope, labelled_errors, names_property};
pub(crate) use listing::{compare, filters, instant, meets, order, page_figures, records};
pub(crate) use written::{SuccessContext, read_back, reads_as_written, success};
