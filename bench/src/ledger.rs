//! The ledger's own binary, `alliance-ledger`, run as a process of its own the way an operator
//! runs it: W2 imports a file with it, W6 starts servers with it.
//!
//! Cargo cannot build another package's binary for this one (artifact dependencies are not
//! stable), so the benchmark takes the one beside its own executable (`target/release/` for
//! `cargo run --release -p bench`) and asks for `cargo build --release -p alliance-ledger` when
//! it is missing. `--ledger-binary PATH` names another. Every answer the workloads get from it
//! is checked, so a stale binary shows up as a failed check rather than as figures.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{ensure, Context as _};

/// The program's file name.
const NAME: &str = "alliance-ledger";

/// Where the ledger's binary is, and how to run it.
#[derive(Debug, Clone)]
pub struct LedgerBinary {
    pub path: PathBuf,
    /// What `alliance-ledger --version` printed.
    pub version: String,
}

impl LedgerBinary {
    /// `explicit`, else `alliance-ledger` in the folder of the benchmark's own executable.
    pub fn locate(explicit: Option<&Path>) -> anyhow::Result<Self> {
        let path = match explicit {
            Some(path) => {
                ensure!(
                    path.is_file(),
                    "--ledger-binary {}: no such file",
                    path.display()
                );
                path.to_owned()
            }
            None => {
                let exe = std::env::current_exe().context("the benchmark's own executable")?;
                let dir = exe
                    .parent()
                    .context("the folder of the benchmark's executable")?;
                let path = dir.join(format!("{NAME}{}", std::env::consts::EXE_SUFFIX));
                ensure!(
                    path.is_file(),
                    "{} is missing: W2 and W6 run the ledger's own binary, built beside the \
                     benchmark's. Build it with `cargo build --release -p alliance-ledger` (with \
                     the same CARGO_TARGET_DIR as the benchmark), or name one with \
                     --ledger-binary PATH",
                    path.display()
                );
                path
            }
        };
        let out = Command::new(&path)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running {} --version", path.display()))?;
        ensure!(
            out.status.success(),
            "{} --version failed: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        ensure!(
            version.starts_with(NAME),
            "{} is not the ledger's binary: --version printed {version:?}",
            path.display()
        );
        Ok(Self { path, version })
    }

    /// A command running the binary on the database at `url`, with none of the ledger's
    /// environment variables of the benchmark's own environment (they would change its
    /// settings): only the arguments the workload gives count.
    pub fn command(&self, url: &str) -> Command {
        let mut command = Command::new(&self.path);
        for (name, _) in std::env::vars_os() {
            let name_text = name.to_string_lossy();
            if name_text.starts_with("ALLIANCE_LEDGER_")
                || name_text == "DATABASE_URL"
                || name_text == "RUST_LOG"
            {
                command.env_remove(&name);
            }
        }
        command.arg("--database-url").arg(url).stdin(Stdio::null());
        command
    }
}

/// `VmRSS` and `VmHWM` of process `pid`, in MiB.
pub fn memory(pid: u32) -> anyhow::Result<(f64, f64)> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let field = |key: &str| -> anyhow::Result<f64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(key))
            .with_context(|| format!("{path} has no {key}"))?;
        let kib: f64 = line[key.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .with_context(|| format!("{path}: {line:?} is not a size in kB"))?;
        Ok(kib / 1024.0)
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}
