//! The results table: printed to the terminal and written as markdown.

use std::fmt::Write as _;

/// A target on a ratio of two figures from the same run.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// The ratio must be at least this.
    AtLeast(f64),
    /// The ratio must be at most this.
    AtMost(f64),
}

impl Target {
    fn holds(self, ratio: f64) -> bool {
        match self {
            Self::AtLeast(bound) => ratio >= bound,
            Self::AtMost(bound) => ratio <= bound,
        }
    }

    fn text(self) -> String {
        match self {
            Self::AtLeast(bound) => format!("≥ {bound}×"),
            Self::AtMost(bound) => format!("≤ {bound}×"),
        }
    }
}

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    /// Which of the five figures ("1. durable create").
    pub figure: &'static str,
    /// What was measured.
    pub what: String,
    /// The measured value, with its unit.
    pub value: String,
    /// The ratio the target applies to, if any.
    pub ratio: Option<f64>,
    /// The target, if any, and whether it holds.
    pub target: Option<(String, bool)>,
}

impl Row {
    /// A figure that is reported, with no target.
    pub fn reported(figure: &'static str, what: impl Into<String>, value: String) -> Self {
        Self {
            figure,
            what: what.into(),
            value,
            ratio: None,
            target: None,
        }
    }

    /// A ratio and its target.
    pub fn ratio(
        figure: &'static str,
        what: impl Into<String>,
        value: String,
        ratio: f64,
        target: Target,
    ) -> Self {
        Self {
            figure,
            what: what.into(),
            value,
            ratio: Some(ratio),
            target: Some((target.text(), target.holds(ratio))),
        }
    }

    /// A ratio of two figures, reported with no target.
    pub fn compared(
        figure: &'static str,
        what: impl Into<String>,
        value: String,
        ratio: f64,
    ) -> Self {
        Self {
            figure,
            what: what.into(),
            value,
            ratio: Some(ratio),
            target: None,
        }
    }

    /// A figure with an absolute bound (`< 10 s`).
    pub fn bounded(
        figure: &'static str,
        what: impl Into<String>,
        value: String,
        bound: &str,
        holds: bool,
    ) -> Self {
        Self {
            figure,
            what: what.into(),
            value,
            ratio: None,
            target: Some((bound.to_owned(), holds)),
        }
    }

    /// `false` when the row has a target that does not hold.
    pub fn passed(&self) -> bool {
        self.target.as_ref().is_none_or(|(_, holds)| *holds)
    }

    fn cells(&self) -> [String; 6] {
        let (target, result) = match &self.target {
            Some((target, holds)) => (
                target.clone(),
                if *holds { "pass" } else { "FAIL" }.to_owned(),
            ),
            None => ("reported".to_owned(), String::new()),
        };
        [
            self.figure.to_owned(),
            self.what.clone(),
            self.value.clone(),
            self.ratio
                .map_or_else(String::new, |ratio| format!("{ratio:.2}×")),
            target,
            result,
        ]
    }
}

const HEADER: [&str; 6] = ["figure", "measured", "value", "ratio", "target", "result"];

/// The rows as an aligned plain-text table.
pub fn text(rows: &[Row]) -> String {
    let cells: Vec<[String; 6]> = rows.iter().map(Row::cells).collect();
    let mut widths = HEADER.map(|header| header.chars().count());
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut line = String::new();
        for (cell, width) in cells.iter().zip(widths) {
            let padding = width - cell.chars().count();
            let _ = write!(line, "{cell}{}  ", " ".repeat(padding));
        }
        line.trim_end().to_owned()
    };
    let mut out = line(&HEADER.map(str::to_owned));
    out.push('\n');
    for row in &cells {
        out.push_str(&line(row));
        out.push('\n');
    }
    out
}

/// The rows as a markdown table.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = format!("| {} |\n", HEADER.join(" | "));
    out.push_str(&format!("|{}\n", "---|".repeat(HEADER.len())));
    for row in rows {
        let cells = row.cells().map(|cell| cell.replace('|', "\\|"));
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// Formats a rate with thousands separators (`12 345/s`).
pub fn per_second(rate: f64) -> String {
    let whole = rate.round() as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push('\u{2009}');
        }
        out.push(digit);
    }
    format!("{out}/s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_decide_pass_and_fail() {
        let pass = Row::ratio("1", "a", "1/s".into(), 0.6, Target::AtLeast(0.5));
        let fail = Row::ratio("1", "b", "1/s".into(), 5.5, Target::AtMost(5.0));
        assert!(pass.passed());
        assert!(!fail.passed());
        assert!(Row::reported("5", "c", "3 s".into()).passed());
        let table = markdown(&[pass, fail]);
        assert!(
            table.contains("| 1 | a | 1/s | 0.60× | ≥ 0.5× | pass |"),
            "{table}"
        );
        assert!(table.contains("| 5.50× | ≤ 5× | FAIL |"), "{table}");
    }

    #[test]
    fn rates_are_grouped_by_thousands() {
        assert_eq!(per_second(1234567.4), "1\u{2009}234\u{2009}567/s");
        assert_eq!(per_second(999.0), "999/s");
    }
}
