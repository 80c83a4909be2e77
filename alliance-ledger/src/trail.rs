//! The audit trail on the command line: making the signing key, exporting the log with its leaf
//! hashes and checkpoints, and verifying a log (in the database, or an export offline).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use audit::{
    CheckpointError, CheckpointVerifier, Finding, Hash, LogVerifier, Report, SignedCheckpoint,
};
use serde::{Deserialize, Serialize};
use store::{Database, LogFilter, LoggedEvent, Position};

/// One line of an export: the event with every column, and the leaf hash the ledger recorded
/// for it (absent for events not yet hashed).
#[derive(Debug, Serialize, Deserialize)]
pub struct ExportedEvent {
    #[serde(flatten)]
    pub event: LoggedEvent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf_hash: Option<String>,
}

/// One line of an export's checkpoints file.
#[derive(Debug, Serialize, Deserialize)]
pub struct ExportedCheckpoint {
    pub tree_size: i64,
    pub note: String,
}

/// The checkpoints file written beside an export at `path`.
pub fn checkpoints_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".checkpoints.jsonl");
    PathBuf::from(name)
}

/// Writes a new signing key to `output` (readable by its owner only) and returns the public
/// key to publish.
pub fn generate_key(name: &str, output: &Path) -> anyhow::Result<String> {
    if output.exists() {
        bail!(
            "{} exists already; a signing key is never overwritten (move it away first)",
            output.display()
        );
    }
    let keys = audit::generate_key(name)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(output)
        .with_context(|| format!("cannot create {}", output.display()))?;
    writeln!(file, "{}", keys.signing_key)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", output.display()))?;
    Ok(keys.public_key)
}

/// Reads a signing key file.
pub fn read_signing_key(path: &Path) -> anyhow::Result<audit::CheckpointSigner> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the signing key {}", path.display()))?;
    audit::CheckpointSigner::new(&text)
        .with_context(|| format!("the signing key in {}", path.display()))
}

/// The public keys a verification trusts: the ledger's key, and the keys it used before when
/// its signing key was replaced. A checkpoint must carry a valid signature by one of them.
#[derive(Debug)]
pub struct TrustedKeys(Vec<CheckpointVerifier>);

impl TrustedKeys {
    /// The keys given, each as its text (`<name>+<id>+<key>`) or as the path of a file holding
    /// one key a line.
    pub fn read(keys: &[String]) -> anyhow::Result<Self> {
        let mut verifiers = Vec::new();
        for key in keys {
            let path = Path::new(key);
            if !key.contains('+') && path.is_file() {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the public key {}", path.display()))?;
                let before = verifiers.len();
                for line in text.lines().filter(|l| !l.trim().is_empty()) {
                    verifiers.push(
                        CheckpointVerifier::new(line)
                            .with_context(|| format!("the public key in {}", path.display()))?,
                    );
                }
                if verifiers.len() == before {
                    bail!("{} holds no public key", path.display());
                }
            } else {
                verifiers.push(CheckpointVerifier::new(key)?);
            }
        }
        if verifiers.is_empty() {
            bail!("no public key given");
        }
        Ok(Self(verifiers))
    }

    /// Reads a signed checkpoint and checks its signature with whichever trusted key made it.
    pub fn verify(&self, note: &str) -> Result<SignedCheckpoint, CheckpointError> {
        let mut refused = Vec::new();
        for verifier in &self.0 {
            match verifier.verify(note) {
                Ok(checked) => return Ok(checked),
                Err(CheckpointError::BadSignature { key }) => refused.push(key),
                Err(other) => return Err(other),
            }
        }
        refused.dedup();
        Err(CheckpointError::BadSignature {
            key: refused.join(" or "),
        })
    }
}

/// Writes the log up to `until` with leaf hashes to `out`, one JSON object a line; returns
/// the number of events written.
pub async fn export_events(
    db: &Database,
    out: &mut impl Write,
    until: Option<Position>,
) -> anyhow::Result<u64> {
    const PAGE: u32 = 5_000;
    let mut after = 0;
    let mut written = 0;
    loop {
        let page = db.read_log(after, PAGE, &LogFilter::default()).await?;
        let leaves = leaves_for(db, after, &page).await?;
        let done = page.len() < PAGE as usize;
        for event in page {
            if until.is_some_and(|u| event.position > u) {
                return Ok(written);
            }
            let leaf_hash = leaves.get(&event.position).map(audit::hash_to_base64);
            after = event.position;
            serde_json::to_writer(&mut *out, &ExportedEvent { event, leaf_hash })?;
            out.write_all(b"\n")?;
            written += 1;
        }
        if done {
            out.flush()?;
            return Ok(written);
        }
    }
}

/// Writes the stored checkpoints covering at most `until` events to `path`.
pub async fn export_checkpoints(
    db: &Database,
    path: &Path,
    until: Option<Position>,
) -> anyhow::Result<usize> {
    let checkpoints = db.checkpoints(until).await?;
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::new(file);
    for c in &checkpoints {
        serde_json::to_writer(
            &mut out,
            &ExportedCheckpoint {
                tree_size: c.tree_size,
                note: c.note.clone(),
            },
        )?;
        out.write_all(b"\n")?;
    }
    out.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(checkpoints.len())
}

/// Reads checkpoints from a file: either one signed note as published, or an export's
/// checkpoints file (JSON lines; empty when no checkpoint covers the export). Every signature is
/// checked.
pub fn read_checkpoints(
    path: &Path,
    verifier: &TrustedKeys,
) -> anyhow::Result<Vec<SignedCheckpoint>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the checkpoints {}", path.display()))?;
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    if text.trim_start().starts_with('{') {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(i, line)| {
                let c: ExportedCheckpoint = serde_json::from_str(line).with_context(|| {
                    format!("{} line {}: not a checkpoint", path.display(), i + 1)
                })?;
                verifier.verify(&c.note).with_context(|| {
                    format!(
                        "{} line {}: the checkpoint of size {}",
                        path.display(),
                        i + 1,
                        c.tree_size
                    )
                })
            })
            .collect()
    } else {
        Ok(vec![verifier.verify(&text).with_context(|| {
            format!("the checkpoint in {}", path.display())
        })?])
    }
}

/// The recorded leaf hashes of the positions after `after` up to the last of `page`.
async fn leaves_for(
    db: &Database,
    after: Position,
    page: &[LoggedEvent],
) -> anyhow::Result<HashMap<Position, Hash>> {
    let Some(last) = page.iter().map(|e| e.position).max() else {
        return Ok(HashMap::new());
    };
    let span = u32::try_from(last.saturating_sub(after)).unwrap_or(u32::MAX);
    Ok(db
        .read_leaves(after, span)
        .await?
        .into_iter()
        .filter_map(|(p, h)| to_hash(&h).map(|h| (p, h)))
        .collect())
}

fn to_hash(bytes: &[u8]) -> Option<Hash> {
    <[u8; 32]>::try_from(bytes).ok().map(Hash)
}

/// Verifies the database's log against its stored checkpoints and any `held` outside it (e.g.
/// one published in the minutes).
pub async fn verify_database(
    db: &Database,
    verifier: &TrustedKeys,
    held: Vec<SignedCheckpoint>,
) -> anyhow::Result<Report> {
    const PAGE: u32 = 5_000;
    let mut log = LogVerifier::new();
    // Read by position order; `after` follows the highest position seen, so that rows out of
    // order are still read once and reported.
    let mut after = 0;
    loop {
        let page = db.read_log(after, PAGE, &LogFilter::default()).await?;
        let leaves = leaves_for(db, after, &page).await?;
        let done = page.len() < PAGE as usize;
        for event in &page {
            log.push(
                &projections::notary::leaf_event(event),
                leaves.get(&event.position).copied(),
            );
            after = after.max(event.position);
        }
        if done {
            break;
        }
    }
    let mut checkpoints = held;
    for stored in db.checkpoints(None).await? {
        let checked = verifier
            .verify(&stored.note)
            .with_context(|| format!("the stored checkpoint of size {}", stored.tree_size))?;
        checkpoints.push(checked);
    }
    Ok(log.finish(&checkpoints))
}

/// Verifies an export offline: its events, its leaf hashes and the checkpoints given.
pub fn verify_export(export: &Path, checkpoints: &[SignedCheckpoint]) -> anyhow::Result<Report> {
    let file = File::open(export)
        .with_context(|| format!("cannot read the export {}", export.display()))?;
    let mut log = LogVerifier::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", export.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let exported: ExportedEvent = serde_json::from_str(&line).with_context(|| {
            format!("{} line {}: not an exported event", export.display(), i + 1)
        })?;
        let recorded = match &exported.leaf_hash {
            None => None,
            Some(text) => Some(audit::hash_from_base64(text).with_context(|| {
                format!(
                    "{} line {}: leaf_hash is not a base64 hash",
                    export.display(),
                    i + 1
                )
            })?),
        };
        log.push(&projections::notary::leaf_event(&exported.event), recorded);
    }
    Ok(log.finish(checkpoints))
}

/// Prints a report; returns whether it was clean.
pub fn print_report(report: &Report) -> bool {
    match report.first() {
        None => {
            println!(
                "verified: {} events, {} checkpoints; the newest covers {} events",
                report.events,
                report.checkpoints,
                report.verified_size.unwrap_or(0)
            );
            if report.checkpoints == 0 {
                println!(
                    "no signed checkpoint to check against: nothing is proved beyond the \
                     recorded leaf hashes"
                );
            }
            let uncovered = report.uncovered();
            if uncovered > 0 {
                println!("{uncovered} events after the newest checkpoint are not yet covered by a signature");
            }
            true
        }
        Some(first) => {
            eprintln!("verification FAILED at {first}");
            let others: Vec<&Finding> = report.findings.iter().filter(|f| *f != first).collect();
            if !others.is_empty() {
                eprintln!("also found:");
                for finding in others.iter().take(20) {
                    eprintln!("  {finding}");
                }
                if others.len() > 20 {
                    eprintln!("  ... and {} more", others.len() - 20);
                }
            }
            false
        }
    }
}
