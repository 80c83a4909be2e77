//! The `alliance-ledger` program, built inside the test crate so that tests can run it as a
//! process (`CARGO_BIN_EXE_ledger-under-test`).

fn main() -> std::process::ExitCode {
    alliance_ledger::run()
}
