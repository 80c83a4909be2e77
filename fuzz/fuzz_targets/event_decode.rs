//! Stored events as the log (and `alliance-ledger export`) holds them: JSON lines of
//! `LoggedEvent` with any aggregate type, event type, version, payload and metadata, each
//! decoded into the domain's event type and folded into the read models in order; then the
//! state as of its middle position, its checksum and its snapshot, which must decode to the same
//! state. Each event's audit leaf (canonical JSON of payload and metadata) is hashed too.
//!
//! Input that starts with the LZ4 frame magic number is read as a stored snapshot instead.

#![no_main]

use audit::LeafEvent;
use libfuzzer_sys::fuzz_target;
use projections::{snapshot, LedgerState};
use store::LoggedEvent;

const LZ4_MAGIC: [u8; 4] = [0x04, 0x22, 0x4d, 0x18];

fuzz_target!(|data: &[u8]| {
    if data.starts_with(&LZ4_MAGIC) {
        if let Ok(state) = snapshot::decode(data) {
            let _ = state.checksum();
        }
        return;
    }
    let mut state = LedgerState::default();
    for line in data.split(|&b| b == b'\n') {
        let Ok(mut logged) = serde_json::from_slice::<LoggedEvent>(line) else {
            continue;
        };
        let _ = LeafEvent {
            position: logged.position,
            recorded_at: logged.recorded_at,
            aggregate_type: &logged.aggregate_type,
            aggregate_id: &logged.aggregate_id,
            sequence: logged.sequence,
            event_type: &logged.event_type,
            event_version: &logged.event_version,
            payload: &logged.payload,
            metadata: &logged.metadata,
        }
        .leaf_hash();
        // The log's positions are dense; a line's own position only says where it was.
        logged.position = state.position() + 1;
        let before = state.position();
        if state.apply(&logged).is_err() {
            assert_eq!(state.position(), before, "a refused event changes nothing");
        }
    }
    let _ = state.until(state.position() / 2).checksum();
    let checksum = state.checksum();
    if let Ok((bytes, _)) = snapshot::encode(&state) {
        let decoded = snapshot::decode(&bytes).expect("a snapshot just written decodes");
        assert_eq!(
            decoded.checksum(),
            checksum,
            "a snapshot restores the state"
        );
    }
});
