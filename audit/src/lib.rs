//! The ledger's proof of integrity, after Certificate Transparency (RFC 9162):
//!
//! - [`leaf`]: each event's canonical bytes and leaf hash;
//! - [`tree`]: the Merkle tree over the log in position order, with inclusion and consistency
//!   proofs and their verification;
//! - [`checkpoint`]: tree heads signed with the ledger's Ed25519 key in the C2SP checkpoint and
//!   signed-note formats;
//! - [`verify`]: the check of a whole log against its checkpoints, naming the first position that
//!   fails.
//!
//! No IO: the store reads and writes, this crate computes and checks. An auditor's verifier needs
//! nothing else than this crate, the events and the public key.

pub mod checkpoint;
pub mod leaf;
pub mod tree;
pub mod verify;

pub use checkpoint::{
    generate_key, CheckpointError, CheckpointSigner, CheckpointVerifier, KeyPair, SignedCheckpoint,
};
pub use leaf::{canonical_json, LeafEvent, LEAF_FORMAT};
pub use tlog_tiles::Hash;
pub use tree::{verify_consistency, verify_inclusion, MerkleTree, ProofError};
pub use verify::{Finding, LogVerifier, Report};

/// A hash as the ledger shows it: standard base64, as in checkpoints.
pub fn hash_to_base64(hash: &Hash) -> String {
    hash.to_string()
}

/// A hash from standard base64.
pub fn hash_from_base64(text: &str) -> Option<Hash> {
    Hash::parse_hash(text.trim()).ok()
}
