//! Verifying a log: events in position order (with the leaf hash the ledger recorded for each,
//! where it did) against signed checkpoints. The same check runs on the database's log and on an
//! export, with nothing but the events, the checkpoints and the public key.
//!
//! What it proves: every checkpoint's root is the root of the tree over the events as they are
//! now, so no event before a checkpoint's size was changed, removed, inserted or reordered since
//! the ledger signed it. Where the ledger also recorded each event's leaf hash, a changed event is
//! named exactly; otherwise the first failing checkpoint bounds where the change lies.

use tlog_tiles::Hash;

use crate::checkpoint::SignedCheckpoint;
use crate::leaf::LeafEvent;
use crate::tree::MerkleTree;

/// One thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Positions jump: the events from `position` up to (not including) `next` are missing.
    Missing { position: i64, next: i64 },
    /// An event's position is not after the one before it: inserted, duplicated or reordered.
    OutOfOrder { position: i64, previous: i64 },
    /// The event no longer matches the leaf hash the ledger recorded for it.
    Changed { position: i64 },
    /// The tree over the events does not have the checkpoint's root: something among the
    /// events from `from` to `to` (the checkpoint's size) differs from what the ledger signed.
    CheckpointMismatch { from: i64, to: i64 },
    /// A checkpoint covers more events than the log holds: events at the end were removed.
    CheckpointBeyondLog { size: u64, events: u64 },
}

impl Finding {
    /// The first position the finding concerns.
    pub fn position(&self) -> i64 {
        match self {
            Self::Missing { position, .. }
            | Self::OutOfOrder { position, .. }
            | Self::Changed { position } => *position,
            Self::CheckpointMismatch { from, .. } => *from,
            Self::CheckpointBeyondLog { events, .. } => *events as i64 + 1,
        }
    }

    /// Whether the finding names one event exactly (rather than a range).
    pub fn is_exact(&self) -> bool {
        !matches!(self, Self::CheckpointMismatch { .. })
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing { position, next } if *next == position + 1 => {
                write!(f, "position {position}: the event is missing (removed)")
            }
            Self::Missing { position, next } => write!(
                f,
                "position {position}: the events at positions {position} to {} are missing (removed)",
                next - 1
            ),
            Self::OutOfOrder { position, previous } => write!(
                f,
                "position {position}: comes after position {previous} (an event was inserted or \
                 events were reordered)"
            ),
            Self::Changed { position } => write!(
                f,
                "position {position}: the event was changed after it was recorded (it no longer \
                 matches its leaf hash)"
            ),
            Self::CheckpointMismatch { from, to } => write!(
                f,
                "position {from}: the events from position {from} to {to} do not match the \
                 checkpoint signed at size {to} (changed, removed, inserted or reordered)"
            ),
            Self::CheckpointBeyondLog { size, events } => write!(
                f,
                "position {}: a checkpoint covers {size} events but the log holds {events} \
                 (events at the end were removed)",
                events + 1
            ),
        }
    }
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Events read.
    pub events: u64,
    /// Checkpoints checked against the tree.
    pub checkpoints: usize,
    /// The largest checkpoint size that verified, if any.
    pub verified_size: Option<u64>,
    /// Everything found wrong, in position order (exact findings before ranges at a position).
    pub findings: Vec<Finding>,
}

impl Report {
    /// Whether everything held.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// The first failure: the earliest exact finding if there is one, else the earliest range.
    pub fn first(&self) -> Option<&Finding> {
        self.findings
            .iter()
            .filter(|f| f.is_exact())
            .min_by_key(|f| f.position())
            .or_else(|| self.findings.iter().min_by_key(|f| f.position()))
    }

    /// Events after the largest verified checkpoint: not yet covered by a signature.
    pub fn uncovered(&self) -> u64 {
        self.events - self.verified_size.unwrap_or(0).min(self.events)
    }
}

/// Reads events in order and builds the tree over them.
#[derive(Debug, Default)]
pub struct LogVerifier {
    tree: MerkleTree,
    previous: i64,
    findings: Vec<Finding>,
}

impl LogVerifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next event, with the leaf hash the ledger recorded for it (if any). Returns
    /// the event's leaf hash as computed now.
    pub fn push(&mut self, event: &LeafEvent<'_>, recorded_leaf: Option<Hash>) -> Hash {
        // No position follows the largest one: an event after it is out of order.
        match self.previous.checked_add(1) {
            Some(expected) if event.position == expected => {}
            Some(expected) if event.position > expected => self.findings.push(Finding::Missing {
                position: expected,
                next: event.position,
            }),
            _ => self.findings.push(Finding::OutOfOrder {
                position: event.position,
                previous: self.previous,
            }),
        }
        self.previous = self.previous.max(event.position);
        let leaf = event.leaf_hash();
        if recorded_leaf.is_some_and(|recorded| recorded != leaf) {
            self.findings.push(Finding::Changed {
                position: event.position,
            });
        }
        self.tree.push(leaf);
        leaf
    }

    /// The tree over the events read so far.
    pub fn tree(&self) -> &MerkleTree {
        &self.tree
    }

    /// Checks every checkpoint (already signature-checked) against the tree and reports.
    pub fn finish(mut self, checkpoints: &[SignedCheckpoint]) -> Report {
        let mut sorted: Vec<&SignedCheckpoint> = checkpoints.iter().collect();
        sorted.sort_by_key(|c| c.size);
        let mut verified_size = None;
        let mut last_good = 0u64;
        for checkpoint in &sorted {
            match self.tree.root(checkpoint.size) {
                Ok(root) if root == checkpoint.root => {
                    verified_size = Some(checkpoint.size);
                    last_good = checkpoint.size;
                }
                Ok(_) => self.findings.push(Finding::CheckpointMismatch {
                    from: last_good as i64 + 1,
                    to: checkpoint.size as i64,
                }),
                Err(_) => self.findings.push(Finding::CheckpointBeyondLog {
                    size: checkpoint.size,
                    events: self.tree.size(),
                }),
            }
        }
        // Report a range only once, at the first checkpoint that fails from that good one.
        let mut seen_ranges = std::collections::HashSet::new();
        self.findings.retain(|f| match f {
            Finding::CheckpointMismatch { from, .. } => seen_ranges.insert(*from),
            _ => true,
        });
        self.findings
            .sort_by_key(|f| (f.position(), if f.is_exact() { 0 } else { 1 }));
        Report {
            events: self.tree.size(),
            checkpoints: sorted.len(),
            verified_size,
            findings: self.findings,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use serde_json::{json, Value};

    use super::*;
    use crate::checkpoint::{generate_key, CheckpointSigner};

    struct Row {
        position: i64,
        payload: Value,
    }

    fn rows(n: i64) -> Vec<Row> {
        (1..=n)
            .map(|position| Row {
                position,
                payload: json!({ "n": position }),
            })
            .collect()
    }

    fn leaf<'a>(row: &'a Row, metadata: &'a Value) -> LeafEvent<'a> {
        LeafEvent {
            position: row.position,
            recorded_at: DateTime::<Utc>::from_timestamp(1_700_000_000 + row.position, 0)
                .expect("time"),
            aggregate_type: "Measurement",
            aggregate_id: "m",
            sequence: row.position,
            event_type: "MeasurementRecorded",
            event_version: "1.0",
            payload: &row.payload,
            metadata,
        }
    }

    /// The leaf hashes and checkpoints (at 4 and at 10) the ledger recorded for 10 events.
    fn recorded() -> (Vec<Hash>, Vec<SignedCheckpoint>) {
        let metadata = json!({});
        let keys = generate_key("test.alliance-ledger").expect("keys");
        let signer = CheckpointSigner::new(&keys.signing_key).expect("signer");
        let mut verifier = LogVerifier::new();
        let leaves: Vec<Hash> = rows(10)
            .iter()
            .map(|r| verifier.push(&leaf(r, &metadata), None))
            .collect();
        let now = Utc::now();
        let checkpoints = [4, 10]
            .map(|size| {
                signer
                    .sign(size, verifier.tree().root(size).expect("root"), now)
                    .expect("signed")
            })
            .to_vec();
        (leaves, checkpoints)
    }

    fn verify(rows: &[Row], leaves: Option<&[Hash]>, checkpoints: &[SignedCheckpoint]) -> Report {
        let metadata = json!({});
        let mut verifier = LogVerifier::new();
        for row in rows {
            let recorded = leaves.and_then(|l| l.get(row.position as usize - 1).copied());
            verifier.push(&leaf(row, &metadata), recorded);
        }
        verifier.finish(checkpoints)
    }

    #[test]
    fn an_untouched_log_verifies_clean() {
        let (leaves, checkpoints) = recorded();
        let report = verify(&rows(10), Some(&leaves), &checkpoints);
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(report.verified_size, Some(10));
        assert_eq!(report.checkpoints, 2);
        assert_eq!(report.uncovered(), 0);
        let longer = verify(&rows(12), Some(&leaves), &checkpoints);
        assert!(longer.is_clean());
        assert_eq!(longer.uncovered(), 2);
    }

    #[test]
    fn a_changed_event_is_named() {
        let (leaves, checkpoints) = recorded();
        let mut changed = rows(10);
        changed[6].payload = json!({ "n": 700 });
        let report = verify(&changed, Some(&leaves), &checkpoints);
        assert_eq!(report.first(), Some(&Finding::Changed { position: 7 }));
        // Without recorded leaf hashes the checkpoints still catch it, within a range.
        let report = verify(&changed, None, &checkpoints);
        assert_eq!(
            report.first(),
            Some(&Finding::CheckpointMismatch { from: 5, to: 10 })
        );
        assert_eq!(report.verified_size, Some(4));
    }

    #[test]
    fn a_removed_event_is_named() {
        let (leaves, checkpoints) = recorded();
        let mut removed = rows(10);
        removed.remove(2);
        let report = verify(&removed, Some(&leaves), &checkpoints);
        assert_eq!(
            report.first(),
            Some(&Finding::Missing {
                position: 3,
                next: 4
            })
        );
        assert!(report
            .first()
            .expect("a finding")
            .to_string()
            .starts_with("position 3:"));
        let cut = verify(&rows(8), Some(&leaves), &checkpoints);
        assert_eq!(
            cut.first(),
            Some(&Finding::CheckpointBeyondLog {
                size: 10,
                events: 8
            })
        );
    }

    #[test]
    fn swapped_and_inserted_events_are_named() {
        let (leaves, checkpoints) = recorded();
        // Two events exchange positions: each now carries the other's number.
        let mut swapped = rows(10);
        swapped[4].position = 6;
        swapped[5].position = 5;
        swapped.swap(4, 5);
        let report = verify(&swapped, Some(&leaves), &checkpoints);
        assert_eq!(report.first(), Some(&Finding::Changed { position: 5 }));
        // Two events out of position order.
        let mut reordered = rows(10);
        reordered.swap(4, 5);
        let report = verify(&reordered, Some(&leaves), &checkpoints);
        assert_eq!(
            report.first(),
            Some(&Finding::Missing {
                position: 5,
                next: 6
            })
        );
        assert!(report.findings.contains(&Finding::OutOfOrder {
            position: 5,
            previous: 6
        }));
        // A forged event inserted at position 3, the later ones renumbered.
        let mut inserted = rows(10);
        inserted.insert(
            2,
            Row {
                position: 3,
                payload: json!({ "n": "vervalst" }),
            },
        );
        for (i, row) in inserted.iter_mut().enumerate() {
            row.position = i as i64 + 1;
        }
        let report = verify(&inserted, Some(&leaves), &checkpoints);
        assert_eq!(report.first(), Some(&Finding::Changed { position: 3 }));
    }

    #[test]
    fn a_checkpoint_that_does_not_match_fails_even_when_leaf_hashes_were_forged_too() {
        let (_, checkpoints) = recorded();
        let mut changed = rows(10);
        changed[1].payload = json!({ "n": 200 });
        // The forger recomputed the recorded leaf hashes from the changed events.
        let metadata = json!({});
        let forged: Vec<Hash> = changed
            .iter()
            .map(|r| leaf(r, &metadata).leaf_hash())
            .collect();
        let report = verify(&changed, Some(&forged), &checkpoints);
        assert_eq!(
            report.first(),
            Some(&Finding::CheckpointMismatch { from: 1, to: 4 })
        );
        assert_eq!(report.verified_size, None);
    }

    /// Found by fuzzing (`fuzz/`, target `proof_verify`): an export whose positions jump to the
    /// largest one and go on made the verifier overflow computing the next position.
    #[test]
    fn an_event_after_the_largest_position_is_out_of_order_not_an_overflow() {
        let metadata = json!({});
        let rows = [1, i64::MAX, i64::MAX, 2].map(|position| Row {
            position,
            payload: json!({ "n": position }),
        });
        let mut verifier = LogVerifier::new();
        for row in &rows {
            let event = LeafEvent {
                recorded_at: DateTime::<Utc>::from_timestamp(1_700_000_000, 0).expect("time"),
                ..leaf(&rows[0], &metadata)
            };
            verifier.push(
                &LeafEvent {
                    position: row.position,
                    payload: &row.payload,
                    ..event
                },
                None,
            );
        }
        let report = verifier.finish(&[]);
        assert_eq!(
            report.findings,
            vec![
                Finding::Missing {
                    position: 2,
                    next: i64::MAX
                },
                Finding::OutOfOrder {
                    position: 2,
                    previous: i64::MAX
                },
                Finding::OutOfOrder {
                    position: i64::MAX,
                    previous: i64::MAX
                },
            ]
        );
    }
}
