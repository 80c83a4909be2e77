//! The audit trail's checks on what a client or auditor hands in: inclusion and consistency
//! proofs of any length for any index and tree sizes, against roots that are right or wrong;
//! hashes in base64; public keys and signed checkpoints (C2SP signed notes) of any text, also
//! of any text signed with the right key, so that the checkpoint inside is read too; and the log
//! verifier over events at any positions with checkpoints of any size and root. Every check
//! answers with an error or a finding, never a panic; a proof the tree itself made verifies.

#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use audit::{verify_consistency, verify_inclusion, CheckpointSigner, CheckpointVerifier, Hash};
use audit::{LeafEvent, LogVerifier, MerkleTree, SignedCheckpoint};
use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use signed_note::{Note, StandardSigner};

#[derive(Debug, Arbitrary)]
enum Input {
    /// A tree of `leaves` leaves, and proofs of any shape checked against it.
    Proofs {
        leaves: u8,
        index: u64,
        from: u64,
        to: u64,
        proof: Vec<[u8; 32]>,
        root: [u8; 32],
        honest_roots: bool,
    },
    /// A hash in base64.
    Hash(String),
    /// A note checked against the fixed key, or against a public key of any text.
    Note {
        note: String,
        public_key: Option<String>,
    },
    /// Any text as the body of a note signed with the fixed key.
    Signed { text: String },
    /// Events at the positions given and checkpoints of any size and root, checked by the log
    /// verifier.
    Log {
        positions: Vec<i64>,
        checkpoints: Vec<(u64, [u8; 32], bool)>,
    },
}

const KEY_NAME: &str = "ledger.example";

struct Keys {
    signing_key: String,
    verifier: CheckpointVerifier,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let pair = audit::generate_key(KEY_NAME).expect("a key pair");
        let signer = CheckpointSigner::new(&pair.signing_key).expect("a signer");
        Keys {
            verifier: signer.verifier(),
            signing_key: pair.signing_key,
        }
    })
}

fn leaf(n: u64) -> Hash {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&n.to_be_bytes());
    Hash(bytes)
}

fn proofs(
    leaves: u8,
    index: u64,
    from: u64,
    to: u64,
    proof: Vec<[u8; 32]>,
    root: [u8; 32],
    honest: bool,
) {
    let mut tree = MerkleTree::new();
    for n in 0..u64::from(leaves) {
        tree.push(leaf(n));
    }
    let proof: Vec<Hash> = proof.into_iter().map(Hash).collect();
    let root_of = |size| match tree.root(size) {
        Ok(root) if honest => root,
        _ => Hash(root),
    };
    let leaf_hash = tree.leaf_hash(index).unwrap_or(Hash(root));
    let _ = verify_inclusion(&proof, index, to, leaf_hash, root_of(to));
    let _ = verify_consistency(&proof, from, root_of(from), to, root_of(to));
    if honest {
        if let Ok(made) = tree.inclusion_proof(index, to) {
            verify_inclusion(&made, index, to, leaf_hash, root_of(to))
                .expect("an inclusion proof the tree made verifies against its root");
        }
        if let Ok(made) = tree.consistency_proof(from, to) {
            verify_consistency(&made, from, root_of(from), to, root_of(to))
                .expect("a consistency proof the tree made verifies against its roots");
        }
    }
}

fn log(positions: Vec<i64>, checkpoints: Vec<(u64, [u8; 32], bool)>) {
    let payload = serde_json::json!({});
    let mut verifier = LogVerifier::new();
    for position in positions.into_iter().take(512) {
        let event = LeafEvent {
            position,
            recorded_at: DateTime::UNIX_EPOCH,
            aggregate_type: "Programme",
            aggregate_id: "dordt-west",
            sequence: 1,
            event_type: "ProgrammeEstablished",
            event_version: "1",
            payload: &payload,
            metadata: &payload,
        };
        verifier.push(&event, None);
    }
    let checkpoints: Vec<SignedCheckpoint> = checkpoints
        .into_iter()
        .map(|(size, root, honest)| SignedCheckpoint {
            origin: KEY_NAME.into(),
            size,
            root: match verifier.tree().root(size) {
                Ok(root) if honest => root,
                _ => Hash(root),
            },
            time: DateTime::UNIX_EPOCH,
            note: String::new(),
        })
        .collect();
    let report = verifier.finish(&checkpoints);
    let _ = (report.is_clean(), report.first(), report.uncovered());
}

fuzz_target!(|input: Input| match input {
    Input::Proofs {
        leaves,
        index,
        from,
        to,
        proof,
        root,
        honest_roots,
    } => proofs(leaves, index, from, to, proof, root, honest_roots),
    Input::Hash(text) => {
        if let Some(hash) = audit::hash_from_base64(&text) {
            assert_eq!(
                audit::hash_from_base64(&audit::hash_to_base64(&hash)),
                Some(hash)
            );
        }
    }
    Input::Note { note, public_key } => match public_key {
        Some(key) => {
            let _ = CheckpointVerifier::new(&key).and_then(|verifier| verifier.verify(&note));
        }
        None => {
            let _ = keys().verifier.verify(&note);
        }
    },
    Input::Signed { text } => {
        let keys = keys();
        let signer = StandardSigner::new(&keys.signing_key).expect("the fixed signing key");
        let Ok(mut note) = Note::new(text.as_bytes(), &[]) else {
            return;
        };
        if note.add_sigs(&[&signer]).is_err() {
            return;
        }
        let Ok(note) = String::from_utf8(note.to_bytes()) else {
            return;
        };
        if let Ok(checkpoint) = keys.verifier.verify(&note) {
            assert_eq!(checkpoint.origin, KEY_NAME);
        }
    }
    Input::Log {
        positions,
        checkpoints,
    } => log(positions, checkpoints),
});
