//! The read models' checksum: as a running server reports it (`ledger { position stateChecksum }`)
//! and as `alliance-ledger replay` computes it from the log alone. The two agree when the
//! server's read models hold exactly what the log holds.

use serde_json::json;

use crate::{cli, GraphqlClient, TestDb};

/// What the server behind `client` reports: (its position, its state checksum). The client needs
/// a token that may read the ledger (or a server that publishes it).
pub async fn ledger_checksum(client: &GraphqlClient) -> (i64, String) {
    let data = client
        .query("{ ledger { position stateChecksum } }", json!({}))
        .await
        .expect_ok();
    (
        data["ledger"]["position"].as_i64().expect("position"),
        data["ledger"]["stateChecksum"]
            .as_str()
            .expect("checksum")
            .to_owned(),
    )
}

/// `alliance-ledger replay` on the command line, up to `until` (a position or an instant) when
/// given: (the events it folded, the checksum it printed).
pub fn replay_checksum(t: &TestDb, until: Option<&str>) -> (i64, String) {
    let mut args = vec!["replay"];
    if let Some(until) = until {
        args.extend(["--until", until]);
    }
    let out = cli(Some(t), &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("replay prints {name}: {text}"))
            .to_owned()
    };
    (field("events").parse().expect("a count"), field("checksum"))
}
