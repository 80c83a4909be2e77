//! Bitemporal measurements and the monitor over real HTTP, on the Dordt West demo ledger:
//! `measurements` filters on the period (valid time) and answers as the ledger knew it at
//! `knownAt` (record time), with every value learned by then; `monitor` gives per pillar a status
//! and per indicator in an area its trend, comparators, gap and target (`docs/monitor.md`).

use std::time::Duration;

use domain::access::Role;
use serde_json::{json, Value};
use tests::{on_both_backends, GraphqlClient, GraphqlReply, TestDb, TestServer};

const PROGRAMME: &str = "dordt-west";
const OVERGEWICHT: &str = "ernstig-overgewicht";
const SPORTERS: &str = "wekelijkse-sporters";

const MEASUREMENTS: &str = "query($p: String!, $i: String, $a: String, $from: Period, $to: Period,
        $knownAt: DateTime, $first: Int, $after: String) {
    measurements(programmeId: $p, indicator: $i, area: $a, from: $from, to: $to,
            knownAt: $knownAt, first: $first, after: $after) {
        pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
        edges { cursor node {
            key indicator area period value source publishedOn illustrative corrections
            recordedAt position
            history { value source publishedOn reason recordedAt position }
        } }
    }
}";

const MONITOR: &str = "query($p: String!, $a: String!, $asOf: DateTime) {
    monitor(programmeId: $p, area: $a, asOf: $asOf) {
        programmeId area position
        pillars {
            id number name status
            indicators {
                indicator direction area trend onTrack gap gapFavourable meetsTarget
                latest { period value }
                trendPeriods { period value }
                gemeente { area value }
                land { area value }
                target { key horizonYear resolved value { kind value comparator margin } }
            }
        }
    }
}";

/// The demo ledger served over HTTP, with a secretary who records, the Rijk's representative
/// who reads, and an auditor who reads the log.
struct Ledger {
    t: TestDb,
    server: TestServer,
    secretary: GraphqlClient,
    reader: GraphqlClient,
    auditor: GraphqlClient,
}

impl Ledger {
    async fn demo(t: TestDb) -> Self {
        alliance_ledger::demo::record_demo(&t.db)
            .await
            .expect("record the demo");
        let server = TestServer::start(&t).await;
        let secretary = server.client().with_token(
            &t.token(
                "Sanne de Vries",
                Role::Secretary,
                Some("Programmabureau Dordt West"),
            )
            .await,
        );
        let reader = server
            .client()
            .with_token(&t.token("Rijksvertegenwoordiger", Role::Rijk, None).await);
        let auditor = server
            .client()
            .with_token(&t.token("Aad", Role::Auditor, None).await);
        Self {
            t,
            server,
            secretary,
            reader,
            auditor,
        }
    }

    /// Waits until the server's read models have folded in every event of the log.
    async fn settled(&self) {
        let head = self.t.db.head().await.expect("head");
        for _ in 0..500 {
            let data = self
                .reader
                .query("{ ledger { position } }", json!({}))
                .await
                .expect_ok();
            if data["ledger"]["position"].as_i64() >= Some(head) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the read models did not reach position {head}");
    }

    /// An instant strictly between everything recorded so far and anything recorded later.
    async fn now_between(&self) -> String {
        self.settled().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        tokio::time::sleep(Duration::from_millis(20)).await;
        now
    }

    async fn mutate(&self, mutation: &str, input: Value) -> Value {
        let input_type = format!("{}{}Input", mutation[..1].to_uppercase(), &mutation[1..]);
        let document = format!(
            "mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ __typename }} }}"
        );
        self.secretary
            .query(&document, json!({ "input": input }))
            .await
            .expect_ok()
    }

    async fn measure(&self, indicator: &str, area: &str, period: &str, value: &str) {
        self.mutate(
            "recordMeasurement",
            json!({
                "programmeId": PROGRAMME,
                "indicator": indicator,
                "area": area,
                "period": period,
                "value": value,
                "source": "RIVM Gezondheidsmonitor",
                "publishedOn": "2025-03-01",
                "illustrative": true,
            }),
        )
        .await;
    }

    async fn correct(&self, indicator: &str, area: &str, period: &str, value: &str, reason: &str) {
        self.mutate(
            "correctMeasurement",
            json!({
                "programmeId": PROGRAMME,
                "indicator": indicator,
                "area": area,
                "period": period,
                "value": value,
                "reason": reason,
                "source": "RIVM (herzien)",
                "publishedOn": "2025-09-01",
            }),
        )
        .await;
    }

    /// The decision the demo's execution programme rests on (adopted).
    async fn adopted_decision(&self) -> String {
        let data = self
            .reader
            .query(
                "query($id: String!) { programme(id: $id) { executionProgrammes { decisionId } } }",
                json!({ "id": PROGRAMME }),
            )
            .await
            .expect_ok();
        data["programme"]["executionProgrammes"][0]["decisionId"]
            .as_str()
            .expect("a decision id")
            .to_owned()
    }

    /// Sets a target for 2030 in Crabbehof: `value` absolute, or relative to `comparator`.
    async fn set_target(&self, indicator: &str, value: Option<&str>, comparator: Option<&str>) {
        let decision = self.adopted_decision().await;
        self.mutate(
            "setTarget",
            json!({
                "programmeId": PROGRAMME,
                "indicator": indicator,
                "area": "crabbehof",
                "horizonYear": 2030,
                "value": value,
                "comparator": comparator,
                "decisionId": decision,
                "reason": "Streefwaarde uit het uitvoeringsprogramma.",
            }),
        )
        .await;
    }

    async fn measurements(&self, variables: Value) -> GraphqlReply {
        self.settled().await;
        let mut variables = variables;
        variables["p"] = json!(PROGRAMME);
        self.reader.query(MEASUREMENTS, variables).await
    }

    /// The `measurements` connection for `variables`, which must succeed.
    async fn connection(&self, variables: Value) -> Value {
        self.measurements(variables).await.expect_ok()["measurements"].clone()
    }

    async fn monitor(&self, area: &str, as_of: Option<&str>) -> Value {
        self.settled().await;
        self.reader
            .query(MONITOR, json!({ "p": PROGRAMME, "a": area, "asOf": as_of }))
            .await
            .expect_ok()["monitor"]
            .clone()
    }

    async fn stop(self) {
        self.server.stop().await;
    }
}

fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

fn keys(connection: &Value) -> Vec<String> {
    nodes(connection)
        .iter()
        .map(|n| n["key"].as_str().expect("a key").to_owned())
        .collect()
}

fn key(indicator: &str, area: &str, period: &str) -> String {
    format!("{PROGRAMME}/{indicator}/{area}/{period}")
}

fn assert_bad_input(reply: &GraphqlReply, field: &str) {
    assert_eq!(
        reply.error_codes(),
        vec!["BAD_USER_INPUT"],
        "{}",
        reply.body
    );
    assert_eq!(
        reply.errors()[0]["extensions"]["field"],
        field,
        "{}",
        reply.body
    );
}

async fn a_correction_shows_both_values_and_known_at_before_it_the_old_one_only(t: TestDb) {
    let ledger = Ledger::demo(t).await;
    let nothing_yet = ledger.now_between().await;
    ledger
        .measure(OVERGEWICHT, "crabbehof", "2023", "21.4")
        .await;
    let before_correction = ledger.now_between().await;
    let reason = "RIVM herzag de weging";
    ledger
        .correct(OVERGEWICHT, "crabbehof", "2023", "22.90", reason)
        .await;

    let filter = json!({ "i": OVERGEWICHT, "a": "crabbehof" });
    let now = nodes(&ledger.connection(filter.clone()).await);
    assert_eq!(now.len(), 1);
    let m = &now[0];
    assert_eq!(m["key"], key(OVERGEWICHT, "crabbehof", "2023"));
    assert_eq!(m["period"], "2023");
    assert_eq!(m["value"], "22.9", "the corrected value");
    assert_eq!(m["source"], "RIVM (herzien)");
    assert_eq!(m["publishedOn"], "2025-09-01");
    assert_eq!(m["illustrative"], true);
    assert_eq!(m["corrections"], 1);
    let history = m["history"].as_array().expect("history");
    assert_eq!(history.len(), 2, "both values: {m}");
    assert_eq!(history[0]["value"], "21.4");
    assert_eq!(history[0]["reason"], Value::Null);
    assert_eq!(history[0]["source"], "RIVM Gezondheidsmonitor");
    assert_eq!(history[0]["publishedOn"], "2025-03-01");
    assert_eq!(history[1]["value"], "22.9");
    assert_eq!(history[1]["reason"], reason);
    assert_eq!(m["recordedAt"], history[1]["recordedAt"]);
    assert_eq!(m["position"], history[1]["position"]);

    // When the ledger learned each value: the record time and position of its event.
    let events = ledger
        .auditor
        .query(
            "{ events(first: 1000, aggregateType: \"Measurement\") { position recordedAt eventType } }",
            json!({}),
        )
        .await
        .expect_ok()["events"]
        .clone();
    let learned: Vec<(Value, Value)> = history
        .iter()
        .map(|h| (h["position"].clone(), h["recordedAt"].clone()))
        .collect();
    let logged: Vec<(Value, Value)> = events
        .as_array()
        .expect("events")
        .iter()
        .map(|e| (e["position"].clone(), e["recordedAt"].clone()))
        .collect();
    assert_eq!(learned, logged);
    let instant = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a time")).expect("RFC 3339")
    };
    let between = instant(&json!(before_correction));
    assert!(instant(&history[0]["recordedAt"]) <= between);
    assert!(instant(&history[1]["recordedAt"]) > between);

    // What the ledger knew before the correction: the old value only.
    let mut then_filter = filter.clone();
    then_filter["knownAt"] = json!(before_correction);
    let then = nodes(&ledger.connection(then_filter).await);
    assert_eq!(then.len(), 1);
    assert_eq!(then[0]["value"], "21.4");
    assert_eq!(then[0]["source"], "RIVM Gezondheidsmonitor");
    assert_eq!(then[0]["corrections"], 0);
    assert_eq!(then[0]["recordedAt"], history[0]["recordedAt"]);
    assert_eq!(then[0]["history"], json!([history[0].clone()]));

    let mut before_filter = filter;
    before_filter["knownAt"] = json!(nothing_yet);
    let before = ledger.connection(before_filter).await;
    assert_eq!(nodes(&before).len(), 0, "not recorded yet: {before}");
    ledger.stop().await;
}

async fn the_period_range_filters_on_the_start_of_each_period(t: TestDb) {
    let ledger = Ledger::demo(t).await;
    // Recorded out of order: the list is ordered by indicator, area and period.
    ledger.measure(SPORTERS, "crabbehof", "2024", "41").await;
    ledger
        .measure(OVERGEWICHT, "wielwijk", "2024", "19.8")
        .await;
    ledger
        .measure(OVERGEWICHT, "crabbehof", "2025", "22.1")
        .await;
    ledger
        .measure(OVERGEWICHT, "crabbehof", "2024-Q2", "23.0")
        .await;
    ledger
        .measure(OVERGEWICHT, "crabbehof", "2024", "23.4")
        .await;
    ledger
        .measure(OVERGEWICHT, "crabbehof", "2023", "24.0")
        .await;

    let all = ledger.connection(json!({})).await;
    assert_eq!(
        keys(&all),
        [
            key(OVERGEWICHT, "crabbehof", "2023"),
            key(OVERGEWICHT, "crabbehof", "2024"),
            key(OVERGEWICHT, "crabbehof", "2024-Q2"),
            key(OVERGEWICHT, "crabbehof", "2025"),
            key(OVERGEWICHT, "wielwijk", "2024"),
            key(SPORTERS, "crabbehof", "2024"),
        ]
    );
    let crabbehof = |from: Option<&str>, to: Option<&str>| json!({ "i": OVERGEWICHT, "a": "crabbehof", "from": from, "to": to });
    let periods = |connection: &Value| -> Vec<String> {
        nodes(connection)
            .iter()
            .map(|n| n["period"].as_str().expect("a period").to_owned())
            .collect()
    };
    let year = ledger
        .connection(crabbehof(Some("2024"), Some("2024")))
        .await;
    assert_eq!(
        periods(&year),
        ["2024"],
        "2024-Q2 starts after the start of 2024"
    );
    let by_quarter = ledger
        .connection(crabbehof(Some("2024"), Some("2024-Q4")))
        .await;
    assert_eq!(periods(&by_quarter), ["2024", "2024-Q2"]);
    let from = ledger.connection(crabbehof(Some("2024-Q2"), None)).await;
    assert_eq!(periods(&from), ["2024-Q2", "2025"]);
    let to = ledger.connection(crabbehof(None, Some("2023-12"))).await;
    assert_eq!(periods(&to), ["2023"]);
    let in_2024 = ledger
        .connection(json!({ "from": "2024", "to": "2024" }))
        .await;
    assert_eq!(
        keys(&in_2024),
        [
            key(OVERGEWICHT, "crabbehof", "2024"),
            key(OVERGEWICHT, "wielwijk", "2024"),
            key(SPORTERS, "crabbehof", "2024"),
        ],
        "every indicator and area when not narrowed"
    );

    let reversed = ledger
        .measurements(crabbehof(Some("2025"), Some("2024")))
        .await;
    assert_bad_input(&reversed, "to");
    let malformed = ledger.measurements(json!({ "a": "Crabbehof" })).await;
    assert_bad_input(&malformed, "area");
    ledger.stop().await;
}

async fn measurements_come_in_pages_of_first_after_a_cursor_up_to_the_cap(t: TestDb) {
    let ledger = Ledger::demo(t).await;
    // 101 monthly figures: one more than the default page.
    let months: Vec<String> = (0..101)
        .map(|i| format!("{}-{:02}", 2023 + i / 12, i % 12 + 1))
        .collect();
    for (i, month) in months.iter().enumerate() {
        ledger
            .measure(
                OVERGEWICHT,
                "crabbehof",
                month,
                &format!("{}.5", 20 + i % 7),
            )
            .await;
    }
    let expected: Vec<String> = months
        .iter()
        .map(|m| key(OVERGEWICHT, "crabbehof", m))
        .collect();

    let default = ledger.connection(json!({})).await;
    assert_eq!(
        keys(&default),
        expected[..100],
        "100 when `first` is left out"
    );
    assert_eq!(default["pageInfo"]["hasNextPage"], true);
    assert_eq!(default["pageInfo"]["hasPreviousPage"], false);

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = ledger
            .connection(json!({ "first": 30, "after": after }))
            .await;
        pages += 1;
        let edges = page["edges"].as_array().expect("edges").clone();
        for edge in &edges {
            assert_eq!(edge["cursor"], edge["node"]["key"], "the cursor is the key");
        }
        seen.extend(keys(&page));
        assert_eq!(page["pageInfo"]["hasPreviousPage"], after.is_some());
        assert_eq!(
            page["pageInfo"]["endCursor"],
            edges.last().expect("an edge")["cursor"]
        );
        if page["pageInfo"]["hasNextPage"] == false {
            assert_eq!(edges.len(), 11);
            break;
        }
        assert_eq!(edges.len(), 30);
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(pages, 4);
    assert_eq!(seen, expected, "every figure once, in order");

    let empty = ledger.connection(json!({ "first": 0 })).await;
    assert_eq!(keys(&empty).len(), 0);
    assert_eq!(empty["pageInfo"]["hasNextPage"], true);
    let last = ledger
        .connection(json!({ "first": 5, "after": expected[100] }))
        .await;
    assert_eq!(keys(&last).len(), 0);
    assert_eq!(last["pageInfo"]["hasNextPage"], false);

    let whole = ledger.connection(json!({ "first": 1000 })).await;
    assert_eq!(keys(&whole), expected, "the server's page limit is allowed");
    assert_bad_input(
        &ledger.measurements(json!({ "first": 1001 })).await,
        "first",
    );
    assert_bad_input(&ledger.measurements(json!({ "first": -1 })).await, "first");
    assert_bad_input(
        &ledger
            .measurements(json!({ "after": "not-a-cursor" }))
            .await,
        "after",
    );
    assert_bad_input(
        &ledger
            .measurements(json!({ "after": "elders/ernstig-overgewicht/crabbehof/2023" }))
            .await,
        "after",
    );
    ledger.stop().await;
}

fn pillar(monitor: &Value, number: i64) -> Value {
    monitor["pillars"]
        .as_array()
        .expect("pillars")
        .iter()
        .find(|p| p["number"] == number)
        .cloned()
        .unwrap_or_else(|| panic!("pillar {number}: {monitor}"))
}

fn indicator(pillar: &Value, key: &str) -> Value {
    pillar["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .find(|i| i["indicator"] == key)
        .cloned()
        .unwrap_or_else(|| panic!("indicator {key}: {pillar}"))
}

fn statuses(monitor: &Value) -> Vec<(i64, String)> {
    monitor["pillars"]
        .as_array()
        .expect("pillars")
        .iter()
        .map(|p| {
            (
                p["number"].as_i64().expect("a number"),
                p["status"].as_str().expect("a status").to_owned(),
            )
        })
        .collect()
}

async fn the_monitor_shows_trend_comparators_gap_target_and_pillar_status(t: TestDb) {
    let ledger = Ledger::demo(t).await;
    let untouched = ledger.monitor("crabbehof", None).await;
    assert_eq!(
        statuses(&untouched),
        [1, 2, 3, 4, 5].map(|n| (n, "GREY".to_owned())),
        "no data yet"
    );

    // Pillar 1: overgewicht (lower is better) improves over its last three years (2024-2026;
    // 2023 is four periods back and left out), still above Dordrecht and its target (the
    // Dordrecht average); sporters (higher is better) worsens.
    for (period, value) in [
        ("2023", "21.0"),
        ("2024", "24.0"),
        ("2025", "23.0"),
        ("2026", "22.0"),
    ] {
        ledger
            .measure(OVERGEWICHT, "crabbehof", period, value)
            .await;
    }
    ledger
        .measure(OVERGEWICHT, "dordrecht", "2025", "17.0")
        .await;
    ledger
        .measure(OVERGEWICHT, "dordrecht", "2026", "16.5")
        .await;
    ledger
        .measure(OVERGEWICHT, "nederland", "2026", "15.0")
        .await;
    ledger
        .set_target(OVERGEWICHT, None, Some("dordrecht"))
        .await;
    ledger.measure(SPORTERS, "crabbehof", "2025", "40").await;
    ledger.measure(SPORTERS, "crabbehof", "2026", "38").await;
    // Pillar 2: leefbaarometer-wonen improves, energielabels-e-g is stable (within 1%).
    ledger
        .measure("leefbaarometer-wonen", "crabbehof", "2025", "3.5")
        .await;
    ledger
        .measure("leefbaarometer-wonen", "crabbehof", "2026", "3.6")
        .await;
    ledger
        .measure("energielabels-e-g", "crabbehof", "2025", "30")
        .await;
    ledger
        .measure("energielabels-e-g", "crabbehof", "2026", "30.1")
        .await;
    // Pillar 5: misdrijven worsens, with no target.
    ledger
        .measure("totaal-misdrijven", "crabbehof", "2025", "80")
        .await;
    ledger
        .measure("totaal-misdrijven", "crabbehof", "2026", "85")
        .await;

    let before_target = ledger.now_between().await;
    // Sporters gets a target it meets: on track although it worsens.
    ledger.set_target(SPORTERS, Some("35"), None).await;

    let monitor = ledger.monitor("crabbehof", None).await;
    assert_eq!(monitor["programmeId"], PROGRAMME);
    assert_eq!(monitor["area"], "crabbehof");
    let p1 = pillar(&monitor, 1);
    assert_eq!(p1["id"], "gezond-en-samen-leven");
    assert_eq!(p1["name"], "Gezond en samen leven");
    let overgewicht = indicator(&p1, OVERGEWICHT);
    assert_eq!(
        overgewicht,
        json!({
            "indicator": OVERGEWICHT,
            "direction": "LOWER_IS_BETTER",
            "area": "crabbehof",
            "trend": "IMPROVING",
            "onTrack": true,
            "gap": "5.5",
            "gapFavourable": false,
            "meetsTarget": false,
            "latest": { "period": "2026", "value": "22" },
            "trendPeriods": [
                { "period": "2024", "value": "24" },
                { "period": "2025", "value": "23" },
                { "period": "2026", "value": "22" },
            ],
            "gemeente": { "area": "dordrecht", "value": "16.5" },
            "land": { "area": "nederland", "value": "15" },
            "target": {
                "key": "dordt-west/ernstig-overgewicht/crabbehof/2030",
                "horizonYear": 2030,
                "resolved": "16.5",
                "value": { "kind": "RELATIVE_TO_COMPARATOR", "value": null, "comparator": "dordrecht", "margin": "0" },
            },
        })
    );
    let sporters = indicator(&p1, SPORTERS);
    assert_eq!(sporters["trend"], "WORSENING");
    assert_eq!(sporters["meetsTarget"], true);
    assert_eq!(sporters["onTrack"], true);
    assert_eq!(sporters["target"]["resolved"], "35");
    assert_eq!(
        sporters["gemeente"],
        json!({ "area": "dordrecht", "value": null })
    );
    assert_eq!(sporters["gap"], Value::Null, "no Dordrecht figure for 2026");
    let eenzaam = indicator(&p1, "zeer-ernstig-eenzaam");
    assert_eq!(eenzaam["latest"], Value::Null);
    assert_eq!(eenzaam["trend"], "UNKNOWN");
    assert_eq!(eenzaam["onTrack"], false);

    let p2 = pillar(&monitor, 2);
    assert_eq!(indicator(&p2, "leefbaarometer-wonen")["trend"], "IMPROVING");
    assert_eq!(indicator(&p2, "energielabels-e-g")["trend"], "STABLE");
    assert_eq!(
        indicator(&pillar(&monitor, 5), "totaal-misdrijven")["trend"],
        "WORSENING"
    );
    assert_eq!(
        statuses(&monitor),
        [
            (1, "GREEN".to_owned()),
            (2, "ORANGE".to_owned()),
            (3, "GREY".to_owned()),
            (4, "GREY".to_owned()),
            (5, "RED".to_owned()),
        ]
    );

    // As of before the sporters target: sporters was not on track, so pillar 1 was orange.
    let then = ledger.monitor("crabbehof", Some(&before_target)).await;
    let then_sporters = indicator(&pillar(&then, 1), SPORTERS);
    assert_eq!(then_sporters["target"], Value::Null);
    assert_eq!(then_sporters["onTrack"], false);
    assert_eq!(pillar(&then, 1)["status"], "ORANGE");
    assert!(then["position"].as_i64() < monitor["position"].as_i64());

    // The monitor of Dordrecht itself: its own figures, no gemeente to compare with.
    let dordrecht = ledger.monitor("dordrecht", None).await;
    let own = indicator(&pillar(&dordrecht, 1), OVERGEWICHT);
    assert_eq!(own["trend"], "IMPROVING", "17.0 to 16.5");
    assert_eq!(own["gemeente"], Value::Null);
    assert_eq!(own["land"], json!({ "area": "nederland", "value": "15" }));

    // Reading needs a token; an unknown area is not found; an unknown programme has none.
    let anonymous = ledger
        .server
        .client()
        .query(MONITOR, json!({ "p": PROGRAMME, "a": "crabbehof" }))
        .await;
    assert_eq!(anonymous.error_codes(), vec!["UNAUTHENTICATED"]);
    let unknown_area = ledger
        .reader
        .query(MONITOR, json!({ "p": PROGRAMME, "a": "atlantis" }))
        .await;
    assert_eq!(
        unknown_area.error_codes(),
        vec!["NOT_FOUND"],
        "{}",
        unknown_area.body
    );
    let unknown_programme = ledger
        .reader
        .query(MONITOR, json!({ "p": "rotterdam-zuid", "a": "crabbehof" }))
        .await
        .expect_ok();
    assert_eq!(unknown_programme["monitor"], Value::Null);
    ledger.stop().await;
}

on_both_backends!(
    a_correction_shows_both_values_and_known_at_before_it_the_old_one_only,
    the_period_range_filters_on_the_start_of_each_period,
    measurements_come_in_pages_of_first_after_a_cursor_up_to_the_cap,
    the_monitor_shows_trend_comparators_gap_target_and_pillar_status,
);
