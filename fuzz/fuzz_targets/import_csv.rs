//! A CSV file of any bytes (any delimiter, encoding, quoting, byte order mark) read as a table
//! and imported as measurements, targets and budget lines against the fixed ledger. The first
//! byte varies the options and the recorded state.

#![no_main]

use fuzz::{import_table, Variant};
use import::Table;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&variant, bytes)) = data.split_first() else {
        return;
    };
    if let Ok(table) = Table::read_csv(bytes) {
        import_table(&table, Variant(variant));
    }
});
