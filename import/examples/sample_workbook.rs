//! Writes `docs/examples/measurements.xlsx` from `docs/examples/measurements.csv`: the same
//! rows as an Excel workbook holds them, with years and figures as numbers and publication
//! dates as dates.
//!
//! `cargo run -p import --example sample_workbook [CSV] [XLSX]`

use std::error::Error;
use std::path::PathBuf;

use import::measurements::MeasurementFile;
use import::table::normalise_header;
use import::value;
use import::{Cell, Layout, Table};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};

fn main() -> Result<(), Box<dyn Error>> {
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/examples");
    let mut args = std::env::args_os().skip(1);
    let csv = args
        .next()
        .map_or_else(|| docs.join("measurements.csv"), PathBuf::from);
    let xlsx = args
        .next()
        .map_or_else(|| docs.join("measurements.xlsx"), PathBuf::from);

    let table = Table::read_csv(&std::fs::read(&csv)?)?;
    // Only a file the import takes is worth a sample.
    MeasurementFile::new(table.clone(), Default::default())
        .map_err(|problems| format!("{} is no measurements file: {problems:?}", csv.display()))?;

    let mut workbook = Workbook::new();
    let created = ExcelDateTime::from_ymd(2025, 1, 1)?;
    workbook.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let sheet = workbook.add_worksheet();
    sheet.set_name("Metingen")?;
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("dd-mm-yyyy");
    for (column, name) in table.header.iter().enumerate() {
        sheet.write_string_with_format(0, u16::try_from(column)?, name, &bold)?;
    }
    for (index, row) in table.rows.iter().enumerate() {
        let r = u32::try_from(index + 1)?;
        for (column, name) in table.header.iter().enumerate() {
            let c = u16::try_from(column)?;
            let cell = row.cell(column);
            let Cell::Text(text) = cell else {
                continue;
            };
            match normalise_header(name).as_str() {
                "periode" | "waarde" => match value::decimal(cell) {
                    Ok((number, _)) => {
                        sheet.write_number(r, c, number.to_string().parse::<f64>()?)?;
                    }
                    Err(_) => {
                        sheet.write_string(r, c, text)?;
                    }
                },
                "publicatiedatum" => {
                    let day = value::date(cell)?;
                    let day = ExcelDateTime::parse_from_str(&day.format("%Y-%m-%d").to_string())?;
                    sheet.write_datetime_with_format(r, c, day, &date)?;
                }
                _ => {
                    sheet.write_string(r, c, text)?;
                }
            }
        }
    }
    sheet.autofit();
    workbook.save(&xlsx)?;
    println!("wrote {}", xlsx.display());
    Ok(())
}
