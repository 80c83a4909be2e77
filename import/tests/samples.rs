//! The sample files in `docs/examples` hold the same figures in both formats.

use std::path::PathBuf;

use import::table::normalise_header;
use import::value;
use import::{Cell, Format, Table};

fn sample(name: &str) -> Table {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/examples")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let format = Format::from_file_name(name).expect("a known format");
    Table::read(format, &bytes, None).expect("a table")
}

/// A cell as the import reads it in its column.
fn read(column: &str, cell: &Cell) -> String {
    match normalise_header(column).as_str() {
        "periode" => value::period(cell).map(|p| p.to_string()),
        "waarde" => value::decimal(cell).map(|(d, _)| d.normalize().to_string()),
        "publicatiedatum" => value::date(cell).map(|d| d.to_string()),
        _ => Ok(cell.display()),
    }
    .unwrap_or_else(|e| panic!("{column}: {e}"))
}

#[test]
fn the_sample_workbook_holds_the_sample_csv_figures() {
    let csv = sample("measurements.csv");
    let xlsx = sample("measurements.xlsx");
    assert_eq!(csv.header, xlsx.header);
    assert_eq!(csv.rows.len(), xlsx.rows.len());
    assert!(csv.rows.len() >= 20, "a sample of some size");
    for (c, x) in csv.rows.iter().zip(&xlsx.rows) {
        assert_eq!(c.line, x.line, "one header line, then a row a line");
        for (i, column) in csv.header.iter().enumerate() {
            assert_eq!(
                read(column, c.cell(i)),
                read(column, x.cell(i)),
                "line {}, {column}",
                c.line
            );
        }
    }
    // The workbook keeps figures as numbers and dates as dates, as Excel users enter them.
    assert!(matches!(xlsx.rows[0].cell(4), Cell::Number(_)));
    assert!(matches!(xlsx.rows[0].cell(6), Cell::DateTime(_)));
}
