//! Signed checkpoints: the tree's size and root hash at a moment, in the C2SP tlog-checkpoint
//! format, signed as a C2SP signed note with the ledger's Ed25519 key.
//!
//! ```text
//! dordt-west.alliance-ledger
//! 1204
//! 0n2F5pB2qpX8Uu4TyOFGfO3Zr1G9x8+3LbO2t5GGcvw=
//! time 2026-11-28T09:30:00Z
//!
//! — dordt-west.alliance-ledger <base64 of the key id and the Ed25519 signature>
//! ```
//!
//! The first line (the origin) is the key's name, the second the number of events in the tree,
//! the third the root hash in base64; the extension line `time` says when the ledger signed it.

use chrono::{DateTime, SecondsFormat, Utc};
use signed_note::{Note, StandardSigner, StandardVerifier, VerifierList};
use tlog_tiles::{Checkpoint, Hash};

/// Why a key or a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error(
        "key name {0:?} is not usable: use letters, digits and punctuation without spaces or '+', \
         e.g. dordt-west.alliance-ledger"
    )]
    BadKeyName(String),
    #[error("the signing key is malformed (expected PRIVATE+KEY+<name>+<id>+<key>)")]
    BadSigningKey,
    #[error("the public key is malformed (expected <name>+<id>+<key>)")]
    BadPublicKey,
    #[error("the checkpoint is malformed: {0}")]
    Malformed(String),
    #[error("the checkpoint carries no valid signature by key {key}")]
    BadSignature { key: String },
}

/// A checkpoint the ledger signed: what it says, and its full signed text.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedCheckpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// When the ledger signed it (whole seconds).
    pub time: DateTime<Utc>,
    /// The signed note, as published.
    pub note: String,
}

/// A new Ed25519 key pair: the private signing key and its public verifier key, both as text in
/// the signed-note formats.
#[derive(Debug, Clone)]
pub struct KeyPair {
    /// `PRIVATE+KEY+<name>+<id>+<key>`: keep secret.
    pub signing_key: String,
    /// `<name>+<id>+<key>`: publish (e.g. in the alliance's minutes).
    pub public_key: String,
}

/// Makes a new key pair named `name` (the checkpoints' origin).
pub fn generate_key(name: &str) -> Result<KeyPair, CheckpointError> {
    if !signed_note::is_key_name_valid(name) || name.contains(char::is_whitespace) {
        return Err(CheckpointError::BadKeyName(name.to_owned()));
    }
    let (signing_key, public_key) = signed_note::generate_key(&mut rand::rngs::OsRng, name);
    Ok(KeyPair {
        signing_key,
        public_key,
    })
}

/// Signs checkpoints with one key.
pub struct CheckpointSigner {
    signer: StandardSigner,
    name: String,
    public_key: String,
}

impl std::fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key itself.
        f.debug_struct("CheckpointSigner")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl CheckpointSigner {
    /// A signer from the text of a signing key (`PRIVATE+KEY+...`).
    pub fn new(signing_key: &str) -> Result<Self, CheckpointError> {
        let signing_key = signing_key.trim();
        let signer =
            StandardSigner::new(signing_key).map_err(|_| CheckpointError::BadSigningKey)?;
        let name = signed_note::Signer::name(&signer).to_owned();
        // The key is PRIVATE+KEY+<name>+<id>+<base64 of 0x01 and the 32-byte seed>, checked above.
        let seed = signing_key
            .splitn(5, '+')
            .nth(4)
            .and_then(|b64| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.decode(b64).ok()
            })
            .and_then(|bytes| <[u8; 32]>::try_from(bytes.get(1..)?).ok())
            .ok_or(CheckpointError::BadSigningKey)?;
        let verifying = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
        let public_key = signed_note::new_ed25519_verifier_key(&name, &verifying);
        Ok(Self {
            signer,
            name,
            public_key,
        })
    }

    /// The public key that verifies this signer's checkpoints (`<name>+<id>+<key>`).
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// A verifier of this signer's checkpoints.
    pub fn verifier(&self) -> CheckpointVerifier {
        CheckpointVerifier::new(&self.public_key).expect("a signer's own public key is well formed")
    }

    /// The key's name: every checkpoint's origin.
    pub fn origin(&self) -> &str {
        &self.name
    }

    /// Signs the tree head of `size` events with root `root` at `time`.
    pub fn sign(
        &self,
        size: u64,
        root: Hash,
        time: DateTime<Utc>,
    ) -> Result<SignedCheckpoint, CheckpointError> {
        let time = DateTime::from_timestamp(time.timestamp(), 0).unwrap_or(time);
        let extension = format!("time {}\n", time.to_rfc3339_opts(SecondsFormat::Secs, true));
        let checkpoint = Checkpoint::new(&self.name, size, root, &extension)
            .map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        let mut note = Note::new(&checkpoint.to_bytes(), &[])
            .map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        note.add_sigs(&[&self.signer])
            .map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        let note = String::from_utf8(note.to_bytes())
            .map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        Ok(SignedCheckpoint {
            origin: self.name.clone(),
            size,
            root,
            time,
            note,
        })
    }
}

/// Checks checkpoints against one public key.
#[derive(Debug)]
pub struct CheckpointVerifier {
    public_key: String,
    name: String,
}

impl CheckpointVerifier {
    /// A verifier from the text of a public key (`<name>+<id>+<key>`).
    pub fn new(public_key: &str) -> Result<Self, CheckpointError> {
        let public_key = public_key.trim().to_owned();
        let verifier =
            StandardVerifier::new(&public_key).map_err(|_| CheckpointError::BadPublicKey)?;
        let name = signed_note::Verifier::name(&verifier).to_owned();
        Ok(Self { public_key, name })
    }

    /// The key's name, which every checkpoint it signed has as its origin.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reads a signed checkpoint and checks its signature and origin.
    pub fn verify(&self, note: &str) -> Result<SignedCheckpoint, CheckpointError> {
        let parsed = Note::from_bytes(note.as_bytes())
            .map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        let verifier =
            StandardVerifier::new(&self.public_key).map_err(|_| CheckpointError::BadPublicKey)?;
        let known = VerifierList::new(vec![Box::new(verifier)]);
        parsed
            .verify(&known)
            .map_err(|_| CheckpointError::BadSignature {
                key: self.name.clone(),
            })?;
        let checkpoint = Checkpoint::from_bytes(parsed.text())
            .map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        if checkpoint.origin() != self.name {
            return Err(CheckpointError::Malformed(format!(
                "its origin is {:?}, not the key's name {:?}",
                checkpoint.origin(),
                self.name
            )));
        }
        let time = checkpoint
            .extension()
            .lines()
            .find_map(|line| line.strip_prefix("time "))
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| CheckpointError::Malformed("it has no time line".into()))?;
        Ok(SignedCheckpoint {
            origin: checkpoint.origin().to_owned(),
            size: checkpoint.size(),
            root: *checkpoint.hash(),
            time,
            note: note.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-28T09:30:00.750Z")
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn a_signed_checkpoint_verifies_with_the_public_key() {
        let keys = generate_key("dordt-west.alliance-ledger").expect("keys");
        assert!(keys
            .signing_key
            .starts_with("PRIVATE+KEY+dordt-west.alliance-ledger+"));
        assert!(keys.public_key.starts_with("dordt-west.alliance-ledger+"));
        let signer = CheckpointSigner::new(&keys.signing_key).expect("signer");
        let root = tlog_tiles::record_hash(b"root");
        let signed = signer.sign(1204, root, time()).expect("signed");
        let lines: Vec<&str> = signed.note.lines().collect();
        assert_eq!(lines[0], "dordt-west.alliance-ledger");
        assert_eq!(lines[1], "1204");
        assert_eq!(lines[2], root.to_string());
        assert_eq!(lines[3], "time 2026-11-28T09:30:00Z");
        assert_eq!(lines[4], "");
        assert!(lines[5].starts_with("— dordt-west.alliance-ledger "));

        let verifier = CheckpointVerifier::new(&keys.public_key).expect("verifier");
        assert_eq!(signer.public_key(), keys.public_key);
        let read = verifier.verify(&signed.note).expect("verifies");
        assert_eq!(read, signed);
        assert_eq!(read.time.to_rfc3339(), "2026-11-28T09:30:00+00:00");
    }

    #[test]
    fn a_changed_checkpoint_or_another_key_fails() {
        let keys = generate_key("dordt-west.alliance-ledger").expect("keys");
        let signer = CheckpointSigner::new(&keys.signing_key).expect("signer");
        let signed = signer
            .sign(10, tlog_tiles::record_hash(b"root"), time())
            .expect("signed");
        let verifier = CheckpointVerifier::new(&keys.public_key).expect("verifier");

        let bigger = signed.note.replacen("\n10\n", "\n11\n", 1);
        assert!(matches!(
            verifier.verify(&bigger),
            Err(CheckpointError::BadSignature { .. })
        ));
        let other = generate_key("dordt-west.alliance-ledger").expect("keys");
        let other = CheckpointVerifier::new(&other.public_key).expect("verifier");
        assert!(other.verify(&signed.note).is_err());
        assert!(verifier.verify("not a note").is_err());
    }

    #[test]
    fn keys_are_checked() {
        assert!(matches!(
            generate_key("two words"),
            Err(CheckpointError::BadKeyName(_))
        ));
        assert!(matches!(
            generate_key("a+b"),
            Err(CheckpointError::BadKeyName(_))
        ));
        assert_eq!(
            CheckpointSigner::new("PRIVATE+KEY+x+00000000+AAAA").err(),
            Some(CheckpointError::BadSigningKey)
        );
        assert_eq!(
            CheckpointVerifier::new("nonsense").err(),
            Some(CheckpointError::BadPublicKey)
        );
        let keys = generate_key("ledger").expect("keys");
        let signer = CheckpointSigner::new(&keys.signing_key).expect("signer");
        assert!(!format!("{signer:?}").contains(&keys.signing_key));
    }
}
