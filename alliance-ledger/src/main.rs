// The read models keep a version of every record per event and the import holds whole files:
// many small allocations and frees, which mimalloc serves without glibc malloc's consolidation
// passes over a large, fragmented heap.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    alliance_ledger::run()
}
