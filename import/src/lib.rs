//! Reading monitoring figures, targets and budget lines from files into checked ledger
//! commands, all or nothing.
//!
//! An import runs in three pure steps, so that every check happens before anything is written:
//!
//! 1. [`table`]: a CSV file (comma, semicolon or tab; UTF-8 with or without a byte order mark)
//!    or an Excel workbook (`.xlsx`) becomes a [`Table`]: a header and rows of [`Cell`]s, each
//!    row with the line (or sheet row) it came from.
//! 2. A layout ([`measurements`], [`targets`], [`budget`]) binds the header to its columns and
//!    reads every row into typed values, checking each against the ledger's reference data
//!    ([`Reference`]: known programme, indicator, area and pillar, a period inside the
//!    programme, an adopted decision, a fund and its allocation, a number or an amount of
//!    euros, no row twice). It reports every bad cell of every row as a [`Problem`] with its
//!    line, column and rule, not only the first.
//! 3. Against what the ledger holds already, each good row becomes a command (record a figure
//!    or set a target; correct or change one whose value differs; commit budget or record an
//!    expenditure, within what its allocation has left) or nothing (the same value or line is
//!    recorded), with an idempotency key derived from the row's identity and content, so that
//!    importing a file twice records nothing the second time.
//!
//! Every kind of row implements [`Layout`] ([`layout`]): its columns, the check of one row and
//! what one row does given its recorded state; checking all rows, planning them and their
//! idempotency keys are the same for every kind. Reading the ledger and writing the commands is
//! the caller's part (`api::imports`, behind the command line and the GraphQL API).
//! `docs/import.md` documents the column layouts.

pub mod budget;
mod check;
pub mod layout;
pub mod measurements;
pub mod problem;
pub mod table;
pub mod targets;
#[cfg(test)]
mod testing;
pub mod value;

pub use check::Reference;
pub use layout::{Change, Layout, Plan, PlanOf, PlannedRow, Step};
pub use problem::Problem;
pub use table::{Cell, FileError, Format, Row, Table};
