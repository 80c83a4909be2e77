//! Files as tables: a header and rows of cells, each row with the line it came from.

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use chrono::{NaiveDate, NaiveDateTime};

use crate::problem::Problem;

/// The kinds of file an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Delimited text: comma, semicolon or tab, UTF-8 with or without a byte order mark.
    Csv,
    /// An Excel workbook (Office Open XML).
    Xlsx,
}

impl Format {
    /// The format a file name's extension names (`.csv`, `.txt`, `.tsv`, `.xlsx`), ignoring
    /// case.
    pub fn from_file_name(name: &str) -> Result<Self, FileError> {
        let extension = name
            .rsplit_once('.')
            .map(|(_, ext)| ext.to_ascii_lowercase())
            .unwrap_or_default();
        match extension.as_str() {
            "csv" | "txt" | "tsv" => Ok(Self::Csv),
            "xlsx" => Ok(Self::Xlsx),
            _ => Err(FileError::UnknownFormat {
                name: name.to_owned(),
            }),
        }
    }
}

/// Why a file could not be read as a table at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("{name}: not a file type the import reads; give a .csv or .xlsx file")]
    UnknownFormat { name: String },
    #[error("line {line} is not UTF-8 text; save the file as \"CSV UTF-8\"")]
    NotUtf8 { line: usize },
    #[error("line {line}: {message}")]
    Csv { line: usize, message: String },
    #[error("the workbook cannot be read: {0}")]
    Workbook(String),
    #[error("the workbook has no sheet {sheet:?}; its sheets are {available}")]
    NoSheet { sheet: String, available: String },
    #[error("the file holds no header line")]
    Empty,
}

/// One cell as the file holds it. CSV cells are text; a workbook's cells keep their type.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    /// Text, trimmed.
    Text(String),
    /// A number cell of a workbook.
    Number(f64),
    /// A date (or date and time) cell of a workbook.
    DateTime(NaiveDateTime),
    /// A true/false cell of a workbook.
    Bool(bool),
    /// Anything else a workbook can hold (an error such as `#N/A`, a duration), described.
    Other(String),
}

impl Cell {
    fn text(value: &str) -> Self {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            Self::Empty
        } else {
            Self::Text(trimmed.to_owned())
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, Self::Empty)
    }

    /// The cell as a person would read it in the file, for messages and header names.
    pub fn display(&self) -> String {
        match self {
            Self::Empty => String::new(),
            Self::Text(text) => text.clone(),
            Self::Number(n) => n.to_string(),
            Self::DateTime(t) => {
                if t.time() == chrono::NaiveTime::MIN {
                    t.date().format("%Y-%m-%d").to_string()
                } else {
                    t.format("%Y-%m-%d %H:%M:%S").to_string()
                }
            }
            Self::Bool(b) => b.to_string(),
            Self::Other(what) => what.clone(),
        }
    }
}

/// One row of cells and the line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The line of a CSV file (1 is the first), or the sheet row as the spreadsheet numbers it.
    pub line: usize,
    pub cells: Vec<Cell>,
}

static EMPTY: Cell = Cell::Empty;

impl Row {
    /// The cell in column `index` (0 is the first); empty beyond the row's end.
    pub fn cell(&self, index: usize) -> &Cell {
        self.cells.get(index).unwrap_or(&EMPTY)
    }

    fn is_blank(&self) -> bool {
        self.cells.iter().all(Cell::is_empty)
    }
}

/// A file read as a header and rows. Blank rows are left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub format: Format,
    /// The header's cells, as text.
    pub header: Vec<String>,
    /// The line of the header.
    pub header_line: usize,
    pub rows: Vec<Row>,
}

impl Table {
    /// Reads a whole file of the given format. `sheet` picks a workbook's sheet by name (the
    /// first when `None`); CSV files ignore it.
    pub fn read(format: Format, bytes: &[u8], sheet: Option<&str>) -> Result<Self, FileError> {
        match format {
            Format::Csv => Self::read_csv(bytes),
            Format::Xlsx => Self::read_xlsx(bytes, sheet),
        }
    }

    /// Reads delimited text. The delimiter is the one of comma, semicolon and tab that the
    /// header line uses most (outside quotes); a UTF-8 byte order mark is skipped.
    pub fn read_csv(bytes: &[u8]) -> Result<Self, FileError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let text = std::str::from_utf8(bytes).map_err(|e| FileError::NotUtf8 {
            line: 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count(),
        })?;
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter(text))
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        // A record's position is where the reader began reading it, before the blank lines it
        // skipped; its line is that of its first character after them.
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let line_of = |position: Option<&csv::Position>| -> usize {
            let mut byte = position.map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX));
            while matches!(text.as_bytes().get(byte), Some(b'\r' | b'\n')) {
                byte += 1;
            }
            line_starts.partition_point(|start| *start <= byte)
        };
        let mut header: Option<Row> = None;
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| FileError::Csv {
                line: line_of(e.position()),
                message: csv_message(&e),
            })?;
            let line = line_of(record.position());
            let row = Row {
                line,
                cells: record.iter().map(Cell::text).collect(),
            };
            if row.is_blank() {
                continue;
            }
            if header.is_none() {
                header = Some(row);
            } else {
                rows.push(row);
            }
        }
        Self::from_rows(Format::Csv, header, rows)
    }

    /// Reads one sheet of an Excel workbook: `sheet`, or the first. Numbers, dates and
    /// booleans keep their type; the sheet's first non-blank row is the header.
    ///
    /// A workbook the reader cannot make sense of is [`FileError::Workbook`], also when the
    /// spreadsheet library gives up by panicking (a hostile cell reference overflows its
    /// arithmetic where overflow checks are on): the file is refused, nothing else happens.
    pub fn read_xlsx(bytes: &[u8], sheet: Option<&str>) -> Result<Self, FileError> {
        std::panic::catch_unwind(|| Self::read_xlsx_unguarded(bytes, sheet)).unwrap_or_else(|_| {
            Err(FileError::Workbook(
                "the file is damaged or not a workbook the import reads".into(),
            ))
        })
    }

    fn read_xlsx_unguarded(bytes: &[u8], sheet: Option<&str>) -> Result<Self, FileError> {
        let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes))
            .map_err(|e: calamine::XlsxError| FileError::Workbook(e.to_string()))?;
        let names = workbook.sheet_names();
        let name = match sheet {
            Some(wanted) => names
                .iter()
                .find(|n| n.as_str() == wanted)
                .cloned()
                .ok_or_else(|| FileError::NoSheet {
                    sheet: wanted.to_owned(),
                    available: names
                        .iter()
                        .map(|n| format!("{n:?}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                })?,
            None => names.first().cloned().ok_or(FileError::Empty)?,
        };
        let range = workbook
            .worksheet_range(&name)
            .map_err(|e| FileError::Workbook(e.to_string()))?;
        let first_row = range.start().map_or(0, |(row, _)| row as usize);
        let first_column = range.start().map_or(0, |(_, column)| column as usize);
        let mut header: Option<Row> = None;
        let mut rows = Vec::new();
        for (i, cells) in range.rows().enumerate() {
            // Columns left of the used range are empty: keep them, so that the header's
            // columns and the rows' cells line up with what the spreadsheet shows.
            let mut row_cells = vec![Cell::Empty; first_column];
            row_cells.extend(cells.iter().map(cell_of));
            let row = Row {
                line: first_row + i + 1,
                cells: row_cells,
            };
            if row.is_blank() {
                continue;
            }
            if header.is_none() {
                header = Some(row);
            } else {
                rows.push(row);
            }
        }
        Self::from_rows(Format::Xlsx, header, rows)
    }

    fn from_rows(format: Format, header: Option<Row>, rows: Vec<Row>) -> Result<Self, FileError> {
        let header = header.ok_or(FileError::Empty)?;
        Ok(Self {
            format,
            header: header.cells.iter().map(Cell::display).collect(),
            header_line: header.line,
            rows,
        })
    }
}

/// The delimiter the first line uses most, outside double quotes: `;`, `\t` or `,` (the
/// default, also for a file of one column).
fn delimiter(text: &str) -> u8 {
    let first_line = text.lines().next().unwrap_or_default();
    let (mut comma, mut semicolon, mut tab) = (0, 0, 0);
    let mut quoted = false;
    for c in first_line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => comma += 1,
            ';' if !quoted => semicolon += 1,
            '\t' if !quoted => tab += 1,
            _ => {}
        }
    }
    if semicolon > comma && semicolon >= tab {
        b';'
    } else if tab > comma && tab > semicolon {
        b'\t'
    } else {
        b','
    }
}

fn csv_message(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text; save the file as \"CSV UTF-8\"".into(),
        _ => error.to_string(),
    }
}

fn cell_of(data: &Data) -> Cell {
    match data {
        Data::Empty => Cell::Empty,
        Data::String(s) | Data::DateTimeIso(s) => Cell::text(s),
        Data::Float(f) => Cell::Number(*f),
        // Exact up to 2^53, far beyond any figure a monitor publishes.
        #[allow(clippy::cast_precision_loss)]
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(t) if t.is_datetime() => match t.as_datetime() {
            Some(t) => Cell::DateTime(t),
            None => Cell::Other(format!("the date serial {}", t.as_f64())),
        },
        Data::DateTime(t) => Cell::Other(format!("the duration {}", t.as_f64())),
        Data::DurationIso(d) => Cell::Other(format!("the duration {d}")),
        Data::Error(e) => Cell::Other(format!("the error {e}")),
    }
}

/// Which header cell holds each of a layout's columns.
#[derive(Debug, Clone)]
pub struct ColumnSpec {
    /// The name `docs/import.md` gives the column, e.g. `published_on`.
    pub name: &'static str,
    /// Other header names that mean the same (compared after [`normalise_header`]), e.g.
    /// Dutch ones.
    pub aliases: &'static [&'static str],
    /// Whether a file without this column is refused.
    pub required: bool,
}

/// A header bound to a layout: the position of each of its columns in the file.
#[derive(Debug, Clone)]
pub struct Columns {
    positions: Vec<Option<usize>>,
    header: Vec<String>,
    /// Header cells no column of the layout claims; their cells are not read.
    pub ignored: Vec<String>,
    width: usize,
}

/// A header name as compared: lowercase, with spaces, hyphens and dots read as underscores.
pub fn normalise_header(name: &str) -> String {
    name.trim()
        .to_lowercase()
        .chars()
        .map(|c| if matches!(c, ' ' | '-' | '.') { '_' } else { c })
        .collect()
}

impl Columns {
    /// Finds each spec's column in the table's header. Refuses a header that lacks a required
    /// column or names one column twice, with every such problem.
    pub fn bind(table: &Table, specs: &[ColumnSpec]) -> Result<Self, Vec<Problem>> {
        let mut positions = vec![None; specs.len()];
        let mut ignored = Vec::new();
        let mut problems = Vec::new();
        for (position, name) in table.header.iter().enumerate() {
            let normalised = normalise_header(name);
            if normalised.is_empty() {
                continue;
            }
            let spec = specs
                .iter()
                .position(|s| s.name == normalised || s.aliases.iter().any(|a| *a == normalised));
            match spec {
                None => ignored.push(name.clone()),
                Some(i) => match positions[i] {
                    None => positions[i] = Some(position),
                    Some(first) => problems.push(Problem::new(
                        table.header_line,
                        Some(name),
                        "import.column_twice",
                        format!(
                            "the header names the column {} twice (also as {:?})",
                            specs[i].name, table.header[first]
                        ),
                    )),
                },
            }
        }
        for (spec, position) in specs.iter().zip(&positions) {
            if spec.required && position.is_none() {
                problems.push(Problem::new(
                    table.header_line,
                    None,
                    "import.column_missing",
                    format!("the header has no column {}", spec.name),
                ));
            }
        }
        if problems.is_empty() {
            Ok(Self {
                positions,
                header: table.header.clone(),
                ignored,
                width: table.header.len(),
            })
        } else {
            Err(problems)
        }
    }

    /// The cell of spec `spec` (its index in the specs) in `row`, and the column's name as the
    /// file's header writes it; `None` when the file has no such column.
    pub fn get<'r>(&self, row: &'r Row, spec: usize) -> Option<(&'r Cell, &str)> {
        let position = self.positions.get(spec).copied().flatten()?;
        Some((row.cell(position), self.header[position].as_str()))
    }

    /// The column's name as the file's header writes it; `None` when the file has no such
    /// column.
    pub fn name(&self, spec: usize) -> Option<&str> {
        let position = self.positions.get(spec).copied().flatten()?;
        Some(self.header[position].as_str())
    }

    /// A problem when `row` holds values right of the header's last column.
    pub fn check_width(&self, row: &Row) -> Option<Problem> {
        let extra = row.cells.iter().skip(self.width).any(|c| !c.is_empty());
        extra.then(|| {
            Problem::new(
                row.line,
                None,
                "import.row_shape",
                format!(
                    "the row has values beyond the header's {} columns",
                    self.width
                ),
            )
        })
    }
}

/// A cell's date, when it is a workbook date without a time of day.
pub(crate) fn date_of(cell: &Cell) -> Option<NaiveDate> {
    match cell {
        Cell::DateTime(t) if t.time() == chrono::NaiveTime::MIN => Some(t.date()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workbook_with_a_cell_reference_beyond_any_column_is_refused_not_a_crash() {
        // A workbook whose cell reference overflows the spreadsheet library's column
        // arithmetic (found by the `import_xlsx` fuzz target).
        let bytes = include_bytes!("../tests/data/cell-reference-overflow.xlsx");
        match Table::read_xlsx(bytes, None) {
            Err(FileError::Workbook(_)) | Ok(_) => {}
            Err(other) => panic!("refused for another reason: {other}"),
        }
    }

    #[test]
    fn the_header_line_picks_the_delimiter() {
        assert_eq!(delimiter("a;b;c\n1,5;2;3"), b';');
        assert_eq!(delimiter("a,b,c\n1;2;3"), b',');
        assert_eq!(delimiter("a\tb\n"), b'\t');
        assert_eq!(delimiter("\"a;b\",c\n"), b',');
        assert_eq!(delimiter("value\n"), b',');
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_blank_rows_left_out() {
        let table =
            Table::read_csv(b"\xEF\xBB\xBFindicator;value\n\nbijstand;4,5\n;\r\nx;\"1;2\"\n")
                .expect("a table");
        assert_eq!(table.header, ["indicator", "value"]);
        assert_eq!(table.header_line, 1);
        let lines: Vec<usize> = table.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [3, 5]);
        assert_eq!(table.rows[0].cells[1], Cell::Text("4,5".into()));
        assert_eq!(table.rows[1].cells[1], Cell::Text("1;2".into()));
        assert_eq!(table.rows[1].cell(7), &Cell::Empty);
    }

    #[test]
    fn text_that_is_not_utf8_is_refused_with_its_line() {
        assert_eq!(
            Table::read_csv(b"a;b\n1;2\nCaf\xE9;3\n"),
            Err(FileError::NotUtf8 { line: 3 })
        );
        assert_eq!(Table::read_csv(b"\n\n"), Err(FileError::Empty));
    }

    #[test]
    fn a_workbook_keeps_its_cells_types_and_sheet_row_numbers(
    ) -> Result<(), Box<dyn std::error::Error>> {
        use rust_xlsxwriter::{ExcelDateTime, Format as CellFormat, Workbook};
        let mut workbook = Workbook::new();
        workbook.add_worksheet().set_name("Toelichting")?;
        let sheet = workbook.add_worksheet();
        sheet.set_name("Cijfers")?;
        // The table starts at B3; row 4 is blank.
        sheet.write_string(2, 1, " gebied ")?;
        sheet.write_string(2, 2, "waarde")?;
        sheet.write_string(2, 3, "publicatiedatum")?;
        sheet.write_string(2, 4, "illustratief")?;
        sheet.write_string(4, 1, "Crabbehof")?;
        sheet.write_number(4, 2, 23.4)?;
        let date = CellFormat::new().set_num_format("dd-mm-yyyy");
        sheet.write_datetime_with_format(4, 3, ExcelDateTime::from_ymd(2024, 3, 1)?, &date)?;
        sheet.write_boolean(4, 4, true)?;
        sheet.write_string(5, 1, "Wielwijk")?;
        sheet.write_string(5, 2, "8,25")?;
        let bytes = workbook.save_to_buffer()?;

        let table = Table::read_xlsx(&bytes, Some("Cijfers"))?;
        assert_eq!(table.format, Format::Xlsx);
        assert_eq!(table.header_line, 3);
        assert_eq!(
            table.header,
            ["", "gebied", "waarde", "publicatiedatum", "illustratief"]
        );
        let lines: Vec<usize> = table.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [5, 6]);
        let first = &table.rows[0];
        assert_eq!(first.cell(1), &Cell::Text("Crabbehof".into()));
        assert_eq!(first.cell(2), &Cell::Number(23.4));
        assert_eq!(date_of(first.cell(3)), NaiveDate::from_ymd_opt(2024, 3, 1));
        assert_eq!(first.cell(4), &Cell::Bool(true));
        assert_eq!(table.rows[1].cell(2), &Cell::Text("8,25".into()));

        let first_sheet = Table::read_xlsx(&bytes, None);
        assert_eq!(
            first_sheet,
            Err(FileError::Empty),
            "the first sheet is empty"
        );
        assert!(matches!(
            Table::read_xlsx(&bytes, Some("Blad1")),
            Err(FileError::NoSheet { .. })
        ));
        assert!(matches!(
            Table::read_xlsx(b"gebied;waarde\n", None),
            Err(FileError::Workbook(_))
        ));
        Ok(())
    }

    #[test]
    fn file_names_name_their_format() {
        assert_eq!(Format::from_file_name("a/b.CSV"), Ok(Format::Csv));
        assert_eq!(Format::from_file_name("cijfers.xlsx"), Ok(Format::Xlsx));
        assert!(Format::from_file_name("cijfers.xls").is_err());
        assert!(Format::from_file_name("cijfers").is_err());
    }

    #[test]
    fn columns_bind_by_name_or_alias_and_refuse_gaps_and_doubles() {
        let specs = [
            ColumnSpec {
                name: "value",
                aliases: &["waarde"],
                required: true,
            },
            ColumnSpec {
                name: "published_on",
                aliases: &["publicatiedatum"],
                required: true,
            },
        ];
        let table = Table::read_csv(b"Waarde,Published on,Opmerking\n1,2024-01-01,x\n").expect("t");
        let columns = Columns::bind(&table, &specs).expect("bound");
        assert_eq!(columns.ignored, ["Opmerking"]);
        let (cell, name) = columns.get(&table.rows[0], 1).expect("cell");
        assert_eq!(
            (cell, name),
            (&Cell::Text("2024-01-01".into()), "Published on")
        );

        let table = Table::read_csv(b"waarde,value\n1,2\n").expect("t");
        let problems = Columns::bind(&table, &specs).expect_err("refused");
        let rules: Vec<&str> = problems.iter().map(|p| p.rule).collect();
        assert_eq!(rules, ["import.column_twice", "import.column_missing"]);
    }
}
