//! An Excel workbook of any bytes read by calamine as a table (the first sheet, or a sheet
//! named `Blad1`) and imported as measurements, targets and budget lines against the fixed
//! ledger. The first byte varies the sheet, the options and the recorded state.

#![no_main]

use fuzz::{import_table, Variant};
use import::Table;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&variant, bytes)) = data.split_first() else {
        return;
    };
    let sheet = (variant & 0x40 != 0).then_some("Blad1");
    if let Ok(table) = Table::read_xlsx(bytes, sheet) {
        import_table(&table, Variant(variant));
    }
});
