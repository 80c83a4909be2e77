fn main() -> std::process::ExitCode {
    alliance_ledger::run()
}
