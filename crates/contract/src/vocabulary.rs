//! The words of a report, as types: which kind of case a check was made in ([`Case`]), which check
//! it was ([`Check`]), and what a failed check found ([`Mismatch`]). Tallies, failure groups, the
//! summary, JUnit and the tests key on these values; `Display` gives the text a report prints.

use std::fmt;

use serde_json::Value;

/// The kind of case a check was made in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Case {
    /// A valid request, sent through the generated client.
    Valid,
    /// A request with labelled violations.
    Invalid,
    /// A request naming a record that does not exist.
    NotFound,
    /// A valid request with a fault in its credentials.
    Auth(Auth),
    /// A request with one fault a strict server refuses.
    Transport(Transport),
    /// A case of the token endpoint.
    SignIn(SignIn),
    /// A sequence of the stateful checks.
    Sequence,
    /// Writes sent at once.
    AtOnce,
    /// After every case: each documented status a client can cause was produced.
    Coverage,
    /// The JSON Schema the shared types derive, against the spec.
    Types,
    /// The end of a run: the records it made, each shown to be its own, then deleted.
    CleanUp,
}

/// A fault in a request's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Auth {
    /// No `Authorization` header.
    NoToken,
    /// A token no server issued.
    BadToken,
    /// The token of a user who lacks the operation's role.
    WithoutRole,
    /// Basic credentials of a user no server has (where the operation accepts Basic).
    WrongBasic,
    /// The target's Basic credentials, on a read that needs no record.
    Basic,
    /// The Basic credentials of a user who lacks the operation's role.
    BasicWithoutRole,
}

/// A transport fault: one thing about a request, besides its values, that a strict server refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Transport {
    /// A body that is not JSON.
    MalformedJson,
    /// A body sent as `text/plain`.
    WrongContentType,
    /// A body one byte over the server's limit.
    OversizeBody,
    /// A `+json` media type.
    PlusJson,
    /// A charset other than UTF-8.
    Charset,
    /// A `Content-Encoding`.
    ContentEncoding,
    /// `Content-Type` sent twice.
    RepeatedContentType,
    /// A key repeated in the body.
    RepeatedKey,
    /// A date-time whose UTC form leaves years 0000-9999.
    DateBeyondUtc,
    /// `Authorization` sent twice.
    RepeatedAuthorization,
    /// A query parameter sent twice.
    RepeatedQuery,
    /// A header parameter sent twice.
    RepeatedHeader,
    /// A method the path does not have.
    WrongMethod,
    /// A path no operation has.
    UnknownPath,
}

/// A case of an OAuth 2.0 token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SignIn {
    /// The password grant.
    PasswordGrant,
    /// The refresh-token grant, then the same refresh token again.
    RefreshGrant,
    /// A wrong password.
    WrongPassword,
    /// A refresh token the endpoint never issued.
    UnknownRefreshToken,
    /// A grant type the endpoint does not know.
    UnknownGrantType,
    /// A JSON body instead of a form.
    JsonBody,
    /// A password grant without the password.
    MissingPassword,
    /// A body over the server's limit.
    OverLimit,
    /// The right password without one of the other parameters the user's grant needs (a
    /// second factor's code).
    LeftOut,
    /// The right password of a user the endpoint refuses (one who must choose a new password).
    RefusedUser,
    /// A refresh grant without the header naming the client (where the spec names one).
    ClientLeftOut,
    /// A refresh grant naming another client than the one its refresh token was issued to.
    OtherClient,
    /// A second password grant for the same client: the first refresh token is retired, the
    /// first access token lives on, the second refresh token works.
    ClientRetired,
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Case::Valid => f.write_str("valid"),
            Case::Invalid => f.write_str("invalid"),
            Case::NotFound => f.write_str("not found"),
            Case::Auth(auth) => write!(f, "auth: {auth}"),
            Case::Transport(transport) => write!(f, "transport: {transport}"),
            Case::SignIn(sign_in) => write!(f, "sign-in: {sign_in}"),
            Case::Sequence => f.write_str("sequence"),
            Case::AtOnce => f.write_str("at once"),
            Case::Coverage => f.write_str("coverage"),
            Case::Types => f.write_str("types"),
            Case::CleanUp => f.write_str("clean-up"),
        }
    }
}

impl fmt::Display for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Auth::NoToken => "no token",
            Auth::BadToken => "bad token",
            Auth::WithoutRole => "token without the role",
            Auth::WrongBasic => "Basic credentials of no user",
            Auth::Basic => "Basic credentials",
            Auth::BasicWithoutRole => "Basic credentials without the role",
        })
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::MalformedJson => "malformed JSON",
            Transport::WrongContentType => "wrong content type",
            Transport::OversizeBody => "oversize body",
            Transport::PlusJson => "+json media type",
            Transport::Charset => "charset other than utf-8",
            Transport::ContentEncoding => "Content-Encoding",
            Transport::RepeatedContentType => "repeated Content-Type",
            Transport::RepeatedKey => "repeated key",
            Transport::DateBeyondUtc => "date-time beyond UTC's years",
            Transport::RepeatedAuthorization => "repeated Authorization",
            Transport::RepeatedQuery => "repeated query parameter",
            Transport::RepeatedHeader => "repeated header parameter",
            Transport::WrongMethod => "wrong method",
            Transport::UnknownPath => "unknown path",
        })
    }
}

impl fmt::Display for SignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignIn::PasswordGrant => "password grant",
            SignIn::RefreshGrant => "refresh grant, then the same refresh token again",
            SignIn::WrongPassword => "wrong password",
            SignIn::UnknownRefreshToken => "unknown refresh token",
            SignIn::UnknownGrantType => "unknown grant type",
            SignIn::JsonBody => "JSON body",
            SignIn::MissingPassword => "missing password",
            SignIn::OverLimit => "body over the limit",
            SignIn::LeftOut => "right password, a parameter the user needs left out",
            SignIn::RefusedUser => "right password of a user refused",
            SignIn::ClientLeftOut => "refresh grant without the client",
            SignIn::OtherClient => "refresh grant for another client",
            SignIn::ClientRetired => "a new pair for the client retires its refresh token",
        })
    }
}

/// One check.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    /// The request was sent and answered.
    Request,
    /// The record the case acts on was made first (by the operation a link comes from).
    SetUp,
    /// The status is the one expected.
    Status,
    /// The `Content-Type` is a media type the status documents (none for a status without a body).
    ContentType,
    /// The headers the status documents as required are there.
    DocumentedHeaders,
    /// The body validates against the status's schema.
    ResponseSchema,
    /// The generated client decodes the answer as the spec says.
    TypedDecode,
    /// An `x-contract.success` expectation: the value at `pointer` is what `expression` says.
    Expectation {
        /// A JSON pointer into the body.
        pointer: String,
        /// The expectation, as the spec writes it.
        expression: String,
    },
    /// A page's figures agree with each other and with its records.
    PageFigures,
    /// A list's records are in the order asked for.
    Order,
    /// A list's records meet every filter sent.
    Filters,
    /// A record read after a write holds what was sent.
    ReadsBackAsSent,
    /// After a delete, this request on the same record answers 404.
    GoneAfterDelete(Gone),
    /// An error answer is the error envelope: not successful, `Value` null.
    ErrorEnvelope,
    /// An error envelope lists its errors.
    ErrorsListed,
    /// `Message` is the entries of `Errors` joined.
    MessageJoin,
    /// `Errors` has one entry per violation sent, under its property's name.
    ErrorsMatchViolations,
    /// Each entry's `AttemptedValue` is the value sent.
    AttemptedValue,
    /// Each entry's message is there (the documented one for a missing field).
    Messages,
    /// An entry of `Errors` names the fault a transport case sent.
    NamesTheFault,
    /// A header the root's `x-contract` says an answer carries.
    Header(String),
    /// An OAuth 2.0 token's `token_type` is `bearer`.
    TokenType,
    /// A token the endpoint issued is accepted by a secured operation.
    IssuedTokenWorks,
    /// The password grant gave a refresh token.
    RefreshToken,
    /// A refused token request names the OAuth 2.0 error code that RFC 6749 gives its fault.
    OAuthErrorCode,
    /// Some case produced this documented status.
    Produced(u16),
    /// The shared types' JSON Schema agrees with the spec's.
    TypesAgree,
    /// A record the run is about to write or delete is its own: a read of it carries the run's
    /// marker, or exactly what the run last wrote to it.
    OwnRecord,
    /// A list the run reads every page of ends, each page adding records no earlier page had.
    ListEnds,
    /// A check of one step of a sequence.
    Step(Step, Box<Check>),
    /// What was read is what the model of the sequence's records says.
    MatchesTheModel,
    /// A create answers the id of the record it made.
    AnswersTheId,
    /// A create adds as many records as it says.
    AddsAsManyAsItSays,
    /// No id is given twice, not even after a delete.
    IdsNeverReused,
    /// The list holds exactly the sequence's live records.
    HoldsExactlyTheLive,
    /// Writes sent at once leave the records as some order of them, one after the other, would.
    AtOnce(AtOnce),
}

/// Writes sent at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AtOnce {
    /// N creates make N records, with N ids, all listed.
    Creates,
    /// N updates of one record leave it one update's body whole (by id and by list), and a
    /// read racing them shows a whole record.
    Updates,
    /// N deletes of one record: one success, the others 404, and the record gone.
    Deletes,
}

/// The request that must find a deleted record gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Gone {
    /// The read of the same path.
    ReadAfterDelete,
    /// An update of the same record.
    UpdateAfterDelete,
    /// The delete, sent again.
    DeleteAgain,
}

/// A step of a sequence, by what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// A create.
    Create,
    /// A read of a live record.
    Read,
    /// A list page.
    List,
    /// An update of a live record.
    Update,
    /// A delete of a live record.
    Delete,
    /// A read, update or delete of an id that has no record.
    Absent(Action, Absence),
    /// An invalid create.
    InvalidCreate,
    /// An invalid update.
    InvalidUpdate,
    /// Finding, through the list, the records a create of several made.
    FindCreated,
    /// After the last step: every page of the sequence's records.
    Audit,
}

/// What a step does to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Reads it.
    Read,
    /// Updates it.
    Update,
    /// Deletes it.
    Delete,
}

/// Why an id has no record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Absence {
    /// The sequence deleted it.
    Deleted,
    /// No record ever had it.
    NeverMade,
}

impl Check {
    /// This check, made at `step` of a sequence.
    pub fn at(self, step: Step) -> Check {
        Check::Step(step, Box::new(self))
    }

    /// An `x-contract.success` expectation.
    pub fn expectation(pointer: &str, expression: impl fmt::Display) -> Check {
        Check::Expectation {
            pointer: pointer.to_owned(),
            expression: expression.to_string(),
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Check::Request => f.write_str("request"),
            Check::SetUp => f.write_str("set-up"),
            Check::Status => f.write_str("status"),
            Check::ContentType => f.write_str("content type"),
            Check::DocumentedHeaders => f.write_str("documented headers"),
            Check::ResponseSchema => f.write_str("response schema"),
            Check::TypedDecode => f.write_str("typed decode"),
            Check::Expectation {
                pointer,
                expression,
            } => write!(f, "{pointer} is {expression}"),
            Check::PageFigures => f.write_str("page figures"),
            Check::Order => f.write_str("order"),
            Check::Filters => f.write_str("filters"),
            Check::ReadsBackAsSent => f.write_str("reads back as sent"),
            Check::GoneAfterDelete(Gone::ReadAfterDelete) => f.write_str("read after delete: 404"),
            Check::GoneAfterDelete(Gone::UpdateAfterDelete) => {
                f.write_str("update after delete: 404")
            }
            Check::GoneAfterDelete(Gone::DeleteAgain) => f.write_str("delete again: 404"),
            Check::ErrorEnvelope => f.write_str("error envelope"),
            Check::ErrorsListed => f.write_str("Errors listed"),
            Check::MessageJoin => f.write_str("Message join"),
            Check::ErrorsMatchViolations => f.write_str("errors match violations"),
            Check::AttemptedValue => f.write_str("AttemptedValue is the sent value"),
            Check::Messages => f.write_str("messages"),
            Check::NamesTheFault => f.write_str("names the fault"),
            Check::Header(name) => write!(f, "{name} header"),
            Check::TokenType => f.write_str("token type"),
            Check::IssuedTokenWorks => f.write_str("issued token works"),
            Check::RefreshToken => f.write_str("refresh token"),
            Check::OAuthErrorCode => f.write_str("OAuth error code"),
            Check::Produced(status) => write!(f, "{status} produced"),
            Check::TypesAgree => f.write_str("types agree with the spec"),
            Check::OwnRecord => f.write_str("the record is the run's own"),
            Check::ListEnds => f.write_str("the list ends"),
            Check::Step(step, check) => write!(f, "{step}: {check}"),
            Check::MatchesTheModel => f.write_str("matches the model"),
            Check::AnswersTheId => f.write_str("answers the record's id"),
            Check::AddsAsManyAsItSays => f.write_str("adds as many records as it says"),
            Check::IdsNeverReused => f.write_str("ids are never reused"),
            Check::HoldsExactlyTheLive => f.write_str("the list holds exactly the live records"),
            Check::AtOnce(AtOnce::Creates) => {
                f.write_str("creates at once: as many records, ids and listings")
            }
            Check::AtOnce(AtOnce::Updates) => {
                f.write_str("updates at once: one writer's record, whole")
            }
            Check::AtOnce(AtOnce::Deletes) => {
                f.write_str("deletes at once: one success, then gone")
            }
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Create => f.write_str("create"),
            Step::Read => f.write_str("read"),
            Step::List => f.write_str("list"),
            Step::Update => f.write_str("update"),
            Step::Delete => f.write_str("delete"),
            Step::Absent(action, absence) => write!(f, "{action} of a {absence} id"),
            Step::InvalidCreate => f.write_str("invalid create"),
            Step::InvalidUpdate => f.write_str("invalid update"),
            Step::FindCreated => f.write_str("find the records created"),
            Step::Audit => f.write_str("audit"),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Read => "read",
            Action::Update => "update",
            Action::Delete => "delete",
        })
    }
}

impl fmt::Display for Absence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Absence::Deleted => "deleted",
            Absence::NeverMade => "never made",
        })
    }
}

/// What a failed check found: what was expected and what came back.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// What went wrong, with nothing in it that differs from case to case (no id, no value sent):
    /// failures of one check on one operation that share it are one fault, reported once.
    pub kind: String,
    /// What the spec calls for, where one JSON value says it.
    pub expected: Option<Value>,
    /// What came back, where one JSON value says it.
    pub got: Option<Value>,
    /// Plain text for a person: what was expected and what came back, at most
    /// [`MESSAGE_LIMIT`] characters.
    pub message: String,
}

/// The most characters a [`Mismatch::message`] holds.
pub const MESSAGE_LIMIT: usize = 1200;

impl Mismatch {
    /// A mismatch of kind `kind`, said by `message`.
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            expected: None,
            got: None,
            message: bounded(&message.into(), MESSAGE_LIMIT),
        }
    }

    /// With the value expected and the value that came back.
    pub fn values(mut self, expected: Value, got: Value) -> Self {
        self.expected = Some(expected);
        self.got = Some(got);
        self
    }

    /// The message with `context` (where in a sequence, say) before it.
    pub(crate) fn within(mut self, context: &str) -> Self {
        self.message = bounded(&format!("{context}: {}", self.message), MESSAGE_LIMIT);
        self
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// `text` cut to at most `limit` characters, saying how much was left out.
pub(crate) fn bounded(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        None => text.to_owned(),
        Some((cut, _)) => {
            let rest = text[cut..].chars().count();
            format!("{}… ({rest} more characters)", &text[..cut])
        }
    }
}

/// The problems one check found in one answer: each distinct text said once with how often it
/// came up, at most [`Problems::SHOWN`] of them, and a kind made of their categories.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    /// (category, text, how many times).
    found: Vec<(String, String, u64)>,
}

impl Problems {
    /// How many distinct problems a message shows.
    const SHOWN: usize = 6;

    /// One problem: `category` names it without values (it groups failures), `text` says it.
    pub(crate) fn add(&mut self, category: impl Into<String>, text: impl Into<String>) {
        let text = text.into();
        match self.found.iter_mut().find(|(_, found, _)| *found == text) {
            Some((_, _, count)) => *count += 1,
            None => self.found.push((category.into(), text, 1)),
        }
    }

    /// Adds every problem `other` found.
    pub(crate) fn extend(&mut self, other: Problems) {
        for (category, text, count) in other.found {
            match self.found.iter_mut().find(|(_, found, _)| *found == text) {
                Some((_, _, seen)) => *seen += count,
                None => self.found.push((category, text, count)),
            }
        }
    }

    /// Whether none was found.
    pub(crate) fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// `Ok` when there were none; otherwise one mismatch listing them.
    pub(crate) fn result(self) -> Result<(), Mismatch> {
        if self.found.is_empty() {
            return Ok(());
        }
        let mut categories: Vec<&str> = self
            .found
            .iter()
            .map(|(category, _, _)| category.as_str())
            .collect();
        categories.sort_unstable();
        categories.dedup();
        let mut shown: Vec<String> = self
            .found
            .iter()
            .take(Self::SHOWN)
            .map(|(_, text, count)| match count {
                1 => bounded(text, 200),
                _ => format!("{} ({count} times)", bounded(text, 200)),
            })
            .collect();
        if self.found.len() > Self::SHOWN {
            shown.push(format!("and {} more", self.found.len() - Self::SHOWN));
        }
        Err(Mismatch::new(categories.join("; "), shown.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_keeps_the_reports_words() {
        assert_eq!(
            Case::Auth(Auth::WithoutRole).to_string(),
            "auth: token without the role"
        );
        assert_eq!(
            Case::Transport(Transport::DateBeyondUtc).to_string(),
            "transport: date-time beyond UTC's years"
        );
        assert_eq!(
            Check::Status
                .at(Step::Absent(Action::Update, Absence::NeverMade))
                .to_string(),
            "update of a never made id: status"
        );
        assert_eq!(
            Check::expectation("/Value/Id", "$unique").to_string(),
            "/Value/Id is $unique"
        );
        assert_eq!(Check::Produced(404).to_string(), "404 produced");
    }

    #[test]
    fn problems_are_counted_and_bounded() {
        let mut problems = Problems::default();
        for _ in 0..999 {
            problems.add("listed twice", "record 1 is listed twice");
        }
        for id in 2..20 {
            problems.add(
                "not made by this sequence",
                format!("record {id} was not made by this sequence"),
            );
        }
        let mismatch = problems.result().unwrap_err();
        assert_eq!(mismatch.kind, "listed twice; not made by this sequence");
        assert!(
            mismatch
                .message
                .starts_with("record 1 is listed twice (999 times); record 2 was not made"),
            "{}",
            mismatch.message
        );
        assert!(
            mismatch.message.ends_with("and 13 more"),
            "{}",
            mismatch.message
        );
        assert!(Problems::default().result().is_ok());
        let long = Mismatch::new("x", "y".repeat(5000));
        assert!(long.message.chars().count() < MESSAGE_LIMIT + 40);
        assert!(
            long.message.ends_with("(3800 more characters)"),
            "{}",
            long.message
        );
    }
}
