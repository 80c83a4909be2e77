//! One event as the Merkle tree sees it: a canonical byte encoding, and its leaf hash.
//!
//! # The encoding, format 1
//!
//! Every field of the event, in this order, nothing else:
//!
//! | bytes | field |
//! |---|---|
//! | 1 | the format, `0x01` |
//! | 8 | position, signed 64-bit big-endian |
//! | 8 | recorded at, microseconds since 1970-01-01T00:00:00Z, signed 64-bit big-endian |
//! | 4 + n | aggregate type: its length n as unsigned 32-bit big-endian, then n bytes of UTF-8 |
//! | 4 + n | aggregate id, likewise |
//! | 8 | sequence within the aggregate, signed 64-bit big-endian |
//! | 4 + n | event type, likewise |
//! | 4 + n | event version, likewise |
//! | 4 + n | payload as canonical JSON, likewise |
//! | 4 + n | metadata as canonical JSON, likewise |
//!
//! Canonical JSON is the value without white space, object members sorted by the UTF-8 bytes of
//! their names, strings escaped as JSON requires (`"`, `\` and control characters; everything
//! else as UTF-8), numbers in their shortest round-trip form.
//!
//! The leaf hash is RFC 9162's: SHA-256 over the byte `0x00` followed by the encoding.

use chrono::{DateTime, Utc};
use serde_json::Value;
use tlog_tiles::Hash;

/// The version of the leaf encoding: its first byte.
pub const LEAF_FORMAT: u8 = 1;

/// The fields of one event that its leaf commits to.
#[derive(Debug, Clone, Copy)]
pub struct LeafEvent<'a> {
    pub position: i64,
    pub recorded_at: DateTime<Utc>,
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    pub sequence: i64,
    pub event_type: &'a str,
    pub event_version: &'a str,
    pub payload: &'a Value,
    pub metadata: &'a Value,
}

impl LeafEvent<'_> {
    /// The canonical bytes of the event (format 1, described in this module's documentation).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.push(LEAF_FORMAT);
        out.extend_from_slice(&self.position.to_be_bytes());
        out.extend_from_slice(&self.recorded_at.timestamp_micros().to_be_bytes());
        field(&mut out, self.aggregate_type.as_bytes());
        field(&mut out, self.aggregate_id.as_bytes());
        out.extend_from_slice(&self.sequence.to_be_bytes());
        field(&mut out, self.event_type.as_bytes());
        field(&mut out, self.event_version.as_bytes());
        field(&mut out, &canonical_json(self.payload));
        field(&mut out, &canonical_json(self.metadata));
        out
    }

    /// The event's leaf hash: SHA-256(0x00 ‖ encoding).
    pub fn leaf_hash(&self) -> Hash {
        tlog_tiles::record_hash(&self.encode())
    }
}

fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    // A field longer than 4 GiB cannot be stored as one event; saturating keeps the encoding
    // total without a panic path.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The value as canonical JSON: no white space, object members sorted by name.
pub fn canonical_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {
            // serde_json writes scalars without white space and escapes strings minimally.
            out.extend_from_slice(value.to_string().as_bytes());
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Value::Object(members) => {
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (name, item)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(Value::String(name.clone()).to_string().as_bytes());
                out.push(b':');
                write_canonical(item, out);
            }
            out.push(b'}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn event<'a>(payload: &'a Value, metadata: &'a Value) -> LeafEvent<'a> {
        LeafEvent {
            position: 7,
            recorded_at: Utc
                .timestamp_opt(1_700_000_000, 123_456_789)
                .single()
                .expect("a time"),
            aggregate_type: "Decision",
            aggregate_id: "3f1c",
            sequence: 2,
            event_type: "DecisionAdopted",
            event_version: "1.0",
            payload,
            metadata,
        }
    }

    #[test]
    fn canonical_json_sorts_members_and_drops_white_space() {
        let value: Value =
            serde_json::from_str(r#"{ "b": [1, {"z": null, "a": true}], "a": "é\"\n", "A": 1.5 }"#)
                .expect("json");
        assert_eq!(
            String::from_utf8(canonical_json(&value)).expect("utf-8"),
            r#"{"A":1.5,"a":"é\"\n","b":[1,{"a":true,"z":null}]}"#
        );
    }

    /// The encoding is pinned byte for byte: a change here changes every leaf hash of every
    /// ledger, and needs a new format number.
    #[test]
    fn the_encoding_is_pinned() {
        let payload = json!({ "title": "Vaststelling", "votes": 3 });
        let metadata = json!({ "role": "secretary", "actor": "Sanne" });
        let bytes = event(&payload, &metadata).encode();
        let mut expected = vec![1u8];
        expected.extend_from_slice(&7i64.to_be_bytes());
        expected.extend_from_slice(&1_700_000_000_123_456i64.to_be_bytes());
        for (i, text) in [
            "Decision",
            "3f1c",
            "",
            "DecisionAdopted",
            "1.0",
            r#"{"title":"Vaststelling","votes":3}"#,
            r#"{"actor":"Sanne","role":"secretary"}"#,
        ]
        .into_iter()
        .enumerate()
        {
            if i == 2 {
                expected.extend_from_slice(&2i64.to_be_bytes());
                continue;
            }
            expected.extend_from_slice(&(text.len() as u32).to_be_bytes());
            expected.extend_from_slice(text.as_bytes());
        }
        assert_eq!(bytes, expected);
        assert_eq!(
            event(&payload, &metadata).leaf_hash(),
            tlog_tiles::record_hash(&expected)
        );
    }

    #[test]
    fn every_field_changes_the_leaf() {
        let payload = json!({ "title": "Vaststelling" });
        let metadata = json!({ "actor": "Sanne" });
        let base = event(&payload, &metadata);
        let other_payload = json!({ "title": "Vaststelling!" });
        let other_metadata = json!({ "actor": "Sanna" });
        let variants = [
            LeafEvent {
                position: 8,
                ..base
            },
            LeafEvent {
                recorded_at: base.recorded_at + chrono::Duration::microseconds(1),
                ..base
            },
            LeafEvent {
                aggregate_type: "Target",
                ..base
            },
            LeafEvent {
                aggregate_id: "3f1d",
                ..base
            },
            LeafEvent {
                sequence: 3,
                ..base
            },
            LeafEvent {
                event_type: "DecisionRejected",
                ..base
            },
            LeafEvent {
                event_version: "1.1",
                ..base
            },
            LeafEvent {
                payload: &other_payload,
                ..base
            },
            LeafEvent {
                metadata: &other_metadata,
                ..base
            },
            // Bytes moved between adjacent fields: the lengths keep them apart.
            LeafEvent {
                aggregate_type: "Decision3",
                aggregate_id: "f1c",
                ..base
            },
        ];
        let mut hashes = vec![base.leaf_hash()];
        for variant in variants {
            let hash = variant.leaf_hash();
            assert!(!hashes.contains(&hash), "{variant:?}");
            hashes.push(hash);
        }
    }

    #[test]
    fn member_order_does_not_change_the_leaf() {
        let a: Value = serde_json::from_str(r#"{"x":1,"y":{"b":2,"a":1}}"#).expect("json");
        let b: Value = serde_json::from_str(r#"{"y":{"a":1,"b":2},"x":1}"#).expect("json");
        let metadata = json!({});
        assert_eq!(
            event(&a, &metadata).leaf_hash(),
            event(&b, &metadata).leaf_hash()
        );
    }
}
