//! What is wrong with a file: one [`Problem`] per bad cell, header or row.

use std::fmt;

/// One thing wrong with an imported file, where it is, and the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The line of a CSV file, or the row of a sheet as the spreadsheet numbers it (the header
    /// is usually 1).
    pub line: usize,
    /// The column as the file's header names it; `None` when the whole row is meant.
    pub column: Option<String>,
    /// A stable machine-readable name of the rule, e.g. `reference.known_indicator`.
    pub rule: &'static str,
    /// What is wrong, in words.
    pub message: String,
}

impl Problem {
    pub fn new(
        line: usize,
        column: Option<&str>,
        rule: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            line,
            column: column.map(str::to_owned),
            rule,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(column) = &self.column {
            write!(f, ", column {column:?}")?;
        }
        write!(f, ": {} [{}]", self.message, self.rule)
    }
}

/// Sorts problems by line, keeping the order of those on one line (a stable sort).
pub(crate) fn sort(problems: &mut [Problem]) {
    problems.sort_by_key(|p| p.line);
}
