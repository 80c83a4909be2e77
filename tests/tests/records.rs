//! The records of a programme over real HTTP, on the Dordt West demo ledger: targets cite adopted
//! decisions and keep their history, money is spent within its allocation and crosses as exact
//! decimal strings, measurements keep the values they correct, commitments and interventions
//! run their course, and resident input is linked to the decisions that took it into account.

use domain::access::Role;
use serde_json::{json, Value};
use tests::{on_both_backends, GraphqlClient, GraphqlReply, TestDb, TestServer};
use uuid::Uuid;

const PROGRAMME: &str = "dordt-west";

const PROPOSE: &str = "mutation($input: ProposeDecisionInput!) {
    proposeDecision(input: $input) { id status }
}";
const HOLD_MEETING: &str = "mutation($input: HoldMeetingInput!) {
    holdMeeting(input: $input) { programmeId }
}";
const ADOPT: &str = "mutation($input: DecideInput!) {
    adoptDecision(input: $input) { id status }
}";

const TARGET_FIELDS: &str = "key programmeId indicator area horizonYear withdrawn decisionId
    value { kind value comparator margin }
    baseline { value year }
    history { kind value { kind value comparator margin } decisionId reason }";
const FUND_FIELDS: &str = "id programmeId funder funderName name amount allocated committed spent left
    period { first last } decisionId
    allocations { id targetKind pillarId interventionId areaId year amount committed spent uncommitted left decisionId }";
const MEASUREMENT_FIELDS: &str = "key programmeId indicator area period value source publishedOn
    illustrative corrections history { value source publishedOn reason }";
const COMMITMENT_FIELDS: &str =
    "id programmeId partner partnerOrganisation partnerSector description
    amount due decisionId status isFinal reports { status note reportedOn }";
const INTERVENTION_FIELDS: &str =
    "id programmeId executionProgramme pillar themes areas leadPartner
    leadOrganisation title description stage isFinal progress
    lastReport { progress status note reportedOn }
    milestones { id title due reachedOn }
    closure { evaluation stopReason closedOn }";
const RESIDENT_INPUT_FIELDS: &str =
    "id programmeId channel area theme summary residents collectedOn consideredIn";

/// The demo ledger served over HTTP, with a secretary who records, an auditor who reads the
/// log, and the Rijk's representative who reads what the alliance publishes.
struct Ledger {
    t: TestDb,
    server: TestServer,
    secretary: GraphqlClient,
    auditor: GraphqlClient,
    rijk: GraphqlClient,
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
        let auditor = server
            .client()
            .with_token(&t.token("Aad", Role::Auditor, None).await);
        let rijk = server
            .client()
            .with_token(&t.token("Rijksvertegenwoordiger", Role::Rijk, None).await);
        Self {
            t,
            server,
            secretary,
            auditor,
            rijk,
        }
    }

    /// The position of the last event in the log.
    async fn head(&self) -> i64 {
        self.t.db.head().await.expect("head")
    }

    /// Records through the secretary and returns the mutation's one result.
    async fn record(&self, mutation: &str, fields: &str, input: Value) -> Value {
        let reply = self.send(mutation, fields, input).await;
        reply.expect_ok()[mutation].clone()
    }

    /// Sends a mutation through the secretary, whatever its outcome.
    async fn send(&self, mutation: &str, fields: &str, input: Value) -> GraphqlReply {
        send_as(&self.secretary, mutation, fields, input).await
    }

    /// Asserts that the secretary's `mutation` is refused under `rule` and adds nothing to the
    /// log; returns the refusal's message.
    async fn refused(&self, mutation: &str, input: Value, code: &str, rule: &str) -> String {
        let before = self.head().await;
        let reply = self.send(mutation, "__typename", input).await;
        assert_eq!(reply.error_codes(), vec![code], "{}", reply.body);
        let error = &reply.errors()[0];
        assert_eq!(error["extensions"]["rule"], rule, "{error}");
        assert!(reply.data().is_null(), "{}", reply.body);
        assert_eq!(self.head().await, before, "a refusal records nothing");
        error["message"].as_str().unwrap_or_default().to_owned()
    }

    /// Reads as the Rijk's representative.
    async fn read(&self, query: &str, variables: Value) -> Value {
        self.rijk.query(query, variables).await.expect_ok()
    }

    /// The decision the demo's execution programme rests on: adopted in the third quarter of
    /// 2023.
    async fn adopted_decision(&self) -> String {
        let data = self
            .read(
                "query($id: String!) { programme(id: $id) { executionProgrammes { id decisionId } } }",
                json!({ "id": PROGRAMME }),
            )
            .await;
        let ep = data["programme"]["executionProgrammes"]
            .as_array()
            .expect("execution programmes")
            .iter()
            .find(|e| e["id"] == "uitvoeringsprogramma-2024-2027")
            .expect("the demo's execution programme")
            .clone();
        let id = ep["decisionId"].as_str().expect("a decision id").to_owned();
        let decision = self
            .read(
                "query($id: ID!) { decision(id: $id) { status } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(decision["decision"]["status"], "ADOPTED");
        id
    }

    /// Puts a proposal before the alliance and leaves it open.
    async fn proposed_decision(&self, title: &str) -> String {
        let data = self
            .secretary
            .query(
                PROPOSE,
                json!({ "input": { "programmeId": PROGRAMME, "title": title } }),
            )
            .await
            .expect_ok();
        assert_eq!(data["proposeDecision"]["status"], "PROPOSED");
        data["proposeDecision"]["id"]
            .as_str()
            .expect("an id")
            .to_owned()
    }

    /// Holds a meeting of the whole alliance on `date` and adopts a proposal there by consent.
    async fn newly_adopted_decision(&self, title: &str, date: &str) -> String {
        let members: Vec<String> = self
            .read(
                "query($id: String!) { alliance(programmeId: $id) { members { id } } }",
                json!({ "id": PROGRAMME }),
            )
            .await["alliance"]["members"]
            .as_array()
            .expect("members")
            .iter()
            .map(|m| m["id"].as_str().expect("a member id").to_owned())
            .collect();
        let meeting = Uuid::new_v4().to_string();
        self.secretary
            .query(
                HOLD_MEETING,
                json!({ "input": {
                    "programmeId": PROGRAMME,
                    "meetingId": meeting,
                    "date": date,
                    "title": format!("Alliantieoverleg {date}"),
                    "present": members,
                }}),
            )
            .await
            .expect_ok();
        let id = self.proposed_decision(title).await;
        let votes: Vec<Value> = members
            .iter()
            .map(|m| json!({ "member": m, "choice": "CONSENT" }))
            .collect();
        let data = self
            .secretary
            .query(
                ADOPT,
                json!({ "input": { "decisionId": id, "meetingId": meeting, "votes": votes } }),
            )
            .await
            .expect_ok();
        assert_eq!(data["adoptDecision"]["status"], "ADOPTED");
        id
    }

    /// The log's events of one aggregate type, as the auditor reads them.
    async fn events_of(&self, aggregate_type: &str) -> Vec<Value> {
        self.auditor
            .query(
                "query($type: String) { events(first: 1000, aggregateType: $type) { eventType aggregateId payload metadata } }",
                json!({ "type": aggregate_type }),
            )
            .await
            .expect_ok()["events"]
            .as_array()
            .cloned()
            .expect("a list")
    }

    async fn stop(self) {
        self.server.stop().await;
    }
}

/// Sends `mutation(input: $input) { fields }` as `client`.
async fn send_as(
    client: &GraphqlClient,
    mutation: &str,
    fields: &str,
    input: Value,
) -> GraphqlReply {
    let input_type = format!("{}{}Input", mutation[..1].to_uppercase(), &mutation[1..]);
    let document =
        format!("mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ {fields} }} }}");
    client.query(&document, json!({ "input": input })).await
}

fn target_input(decision: &str) -> Value {
    json!({
        "programmeId": PROGRAMME,
        "indicator": "ernstig-overgewicht",
        "area": "crabbehof",
        "horizonYear": 2030,
        "value": "18.5",
        "baseline": { "value": "23.4", "year": 2022 },
        "decisionId": decision,
        "reason": "Streefwaarde uit het eerste uitvoeringsprogramma: minder volwassenen met ernstig overgewicht in Crabbehof.",
    })
}

async fn a_target_cites_an_adopted_decision_and_keeps_its_history(t: TestDb) {
    let ledger = Ledger::demo(t).await;
    let open = ledger
        .proposed_decision("Streefwaarde ernstig overgewicht Crabbehof (nog niet besloten)")
        .await;

    let message = ledger
        .refused(
            "setTarget",
            target_input(&open),
            "RULE_VIOLATED",
            "citation.adopted_decision",
        )
        .await;
    assert!(
        message.contains("not adopted") && message.contains(&open),
        "the refusal says the decision is not adopted: {message}"
    );
    let query = format!(
        "query($p: String!, $i: String!, $a: String!, $y: Int!) {{
            target(programmeId: $p, indicator: $i, area: $a, horizonYear: $y) {{ {TARGET_FIELDS} }}
        }}"
    );
    let key = json!({ "p": PROGRAMME, "i": "ernstig-overgewicht", "a": "crabbehof", "y": 2030 });
    assert!(
        ledger.read(&query, key.clone()).await["target"].is_null(),
        "nothing was set"
    );

    let adopted = ledger.adopted_decision().await;
    let set = ledger
        .record("setTarget", TARGET_FIELDS, target_input(&adopted))
        .await;
    assert_eq!(set["key"], "dordt-west/ernstig-overgewicht/crabbehof/2030");
    assert_eq!(
        set["value"],
        json!({ "kind": "ABSOLUTE", "value": "18.5", "comparator": null, "margin": null })
    );
    assert_eq!(set["baseline"], json!({ "value": "23.4", "year": 2022 }));
    assert_eq!(set["decisionId"], json!(adopted));
    assert_eq!(set["history"].as_array().map(Vec::len), Some(1));

    let again = ledger
        .refused(
            "setTarget",
            target_input(&adopted),
            "RULE_VIOLATED",
            "target.unique",
        )
        .await;
    assert!(again.contains("change it instead"), "{again}");

    let revision = ledger
        .newly_adopted_decision(
            "Streefwaarde ernstig overgewicht Crabbehof naar het Dordts gemiddelde",
            "2024-02-15",
        )
        .await;
    let reason = "De alliantie kiest voor het Dordts gemiddelde als streefwaarde, in lijn met de ambitie van het programma.";
    let changed = ledger
        .record(
            "changeTarget",
            TARGET_FIELDS,
            json!({
                "programmeId": PROGRAMME,
                "indicator": "ernstig-overgewicht",
                "area": "crabbehof",
                "horizonYear": 2030,
                "comparator": "dordrecht",
                "margin": "0",
                "decisionId": revision,
                "reason": reason,
            }),
        )
        .await;
    assert_eq!(changed["decisionId"], json!(revision));

    let target = ledger.read(&query, key).await["target"].clone();
    assert_eq!(
        target["value"],
        json!({ "kind": "RELATIVE_TO_COMPARATOR", "value": null, "comparator": "dordrecht", "margin": "0" })
    );
    assert_eq!(target["withdrawn"], false);
    assert_eq!(
        target["history"],
        json!([
            {
                "kind": "SET",
                "value": { "kind": "ABSOLUTE", "value": "18.5", "comparator": null, "margin": null },
                "decisionId": adopted,
                "reason": "Streefwaarde uit het eerste uitvoeringsprogramma: minder volwassenen met ernstig overgewicht in Crabbehof.",
            },
            {
                "kind": "CHANGED",
                "value": { "kind": "RELATIVE_TO_COMPARATOR", "value": null, "comparator": "dordrecht", "margin": "0" },
                "decisionId": revision,
                "reason": reason,
            },
        ])
    );
    let events: Vec<Value> = ledger
        .events_of("Target")
        .await
        .into_iter()
        .map(|e| e["eventType"].clone())
        .collect();
    assert_eq!(events, vec![json!("TargetSet"), json!("TargetChanged")]);

    let withdrawn = ledger
        .record(
            "withdrawTarget",
            "withdrawn history { kind }",
            json!({
                "programmeId": PROGRAMME,
                "indicator": "ernstig-overgewicht",
                "area": "crabbehof",
                "horizonYear": 2030,
                "decisionId": revision,
                "reason": "Opgenomen in de bredere gezondheidsdoelen.",
            }),
        )
        .await;
    assert_eq!(withdrawn["withdrawn"], true);
    assert_eq!(
        withdrawn["history"],
        json!([{ "kind": "SET" }, { "kind": "CHANGED" }, { "kind": "WITHDRAWN" }])
    );
    ledger
        .refused(
            "changeTarget",
            json!({
                "programmeId": PROGRAMME,
                "indicator": "ernstig-overgewicht",
                "area": "crabbehof",
                "horizonYear": 2030,
                "value": "17",
                "decisionId": revision,
                "reason": "Na intrekking",
            }),
            "RULE_VIOLATED",
            "target.final",
        )
        .await;
    ledger.stop().await;
}

async fn an_expenditure_stays_within_its_allocation(t: TestDb) {
    let ledger = Ledger::demo(t).await;
    let decision = ledger.adopted_decision().await;
    let fund = ledger
        .record(
            "registerFund",
            FUND_FIELDS,
            json!({
                "programmeId": PROGRAMME,
                "funder": "RIJK",
                "funderName": "Ministerie van BZK",
                "name": "Volkshuisvestingsfonds",
                "amount": "5000000.00",
                "firstYear": 2024,
                "lastYear": 2027,
                "decisionId": decision,
            }),
        )
        .await;
    let fund_id = fund["id"].as_str().expect("a fund id").to_owned();
    assert_eq!(fund["funder"], "RIJK");
    assert_eq!(fund["amount"], "5000000.00");
    assert_eq!(fund["left"], "5000000.00");
    assert_eq!(fund["period"], json!({ "first": 2024, "last": 2027 }));

    let allocation_id = Uuid::new_v4().to_string();
    let allocated = ledger
        .record(
            "allocateBudget",
            FUND_FIELDS,
            json!({
                "fundId": fund_id,
                "allocationId": allocation_id,
                "target": { "area": "crabbehof" },
                "year": 2024,
                "amount": "1000000.00",
                "decisionId": decision,
            }),
        )
        .await;
    assert_eq!(allocated["allocated"], "1000000.00");
    assert_eq!(allocated["left"], "4000000.00");
    let allocation = &allocated["allocations"][0];
    assert_eq!(allocation["id"], json!(allocation_id));
    assert_eq!(allocation["targetKind"], "AREA");
    assert_eq!(allocation["areaId"], "crabbehof");
    assert!(allocation["pillarId"].is_null());

    let line = |amount: &str, description: &str, date: &str| {
        json!({
            "fundId": fund_id,
            "allocationId": allocation_id,
            "amount": amount,
            "description": description,
            "date": date,
        })
    };
    ledger
        .record(
            "commitBudget",
            "committed",
            line(
                "250000.00",
                "Opdracht renovatie speelplein Crabbehof",
                "2024-03-01",
            ),
        )
        .await;
    let spent = ledger
        .record(
            "recordExpenditure",
            "spent allocations { spent left }",
            line(
                "600000.00",
                "Eerste termijn herinrichting openbare ruimte",
                "2024-04-15",
            ),
        )
        .await;
    assert_eq!(spent["spent"], "600000.00");
    assert_eq!(
        spent["allocations"][0],
        json!({ "spent": "600000.00", "left": "400000.00" })
    );

    let message = ledger
        .refused(
            "recordExpenditure",
            line("400000.01", "Tweede termijn, te hoog", "2024-06-01"),
            "RULE_VIOLATED",
            "budget.within_allocation",
        )
        .await;
    assert!(
        message.contains("400000.00") && message.contains("400000.01"),
        "the refusal says what is left: {message}"
    );

    ledger
        .record(
            "recordExpenditure",
            "spent",
            line(
                "400000.00",
                "Tweede termijn herinrichting openbare ruimte",
                "2024-06-01",
            ),
        )
        .await;
    ledger
        .refused(
            "recordExpenditure",
            line("0.01", "Niets meer over", "2024-06-02"),
            "RULE_VIOLATED",
            "budget.within_allocation",
        )
        .await;

    let read = ledger
        .read(
            &format!("query($id: ID!) {{ fund(id: $id) {{ {FUND_FIELDS} }} }}"),
            json!({ "id": fund_id }),
        )
        .await;
    let fund = &read["fund"];
    assert_eq!(fund["amount"], "5000000.00");
    assert_eq!(fund["allocated"], "1000000.00");
    assert_eq!(fund["committed"], "250000.00");
    assert_eq!(fund["spent"], "1000000.00");
    assert_eq!(fund["left"], "4000000.00");
    assert_eq!(fund["decisionId"], json!(decision));
    assert_eq!(
        fund["allocations"],
        json!([{
            "id": allocation_id,
            "targetKind": "AREA",
            "pillarId": null,
            "interventionId": null,
            "areaId": "crabbehof",
            "year": 2024,
            "amount": "1000000.00",
            "committed": "250000.00",
            "spent": "1000000.00",
            "uncommitted": "750000.00",
            "left": "0.00",
            "decisionId": decision,
        }])
    );

    let revise = |amount: &str| {
        json!({
            "fundId": fund_id,
            "allocationId": allocation_id,
            "amount": amount,
            "reason": "Herijking na de eerste termijnen",
            "decisionId": decision,
        })
    };
    let message = ledger
        .refused(
            "reviseAllocation",
            revise("900000.00"),
            "RULE_VIOLATED",
            "budget.allocation_covers_use",
        )
        .await;
    assert!(message.contains("1000000.00"), "{message}");
    let revised = ledger
        .record(
            "reviseAllocation",
            "allocated left allocations { amount left }",
            revise("1500000.00"),
        )
        .await;
    assert_eq!(
        revised,
        json!({
            "allocated": "1500000.00",
            "left": "3500000.00",
            "allocations": [{ "amount": "1500000.00", "left": "500000.00" }],
        })
    );
    let grown = ledger
        .record(
            "reviseFund",
            "amount left",
            json!({
                "fundId": fund_id,
                "amount": "6000000.50",
                "reason": "Aanvullende rijksbijdrage",
                "decisionId": decision,
            }),
        )
        .await;
    assert_eq!(
        grown,
        json!({ "amount": "6000000.50", "left": "4500000.50" })
    );
    ledger.stop().await;
}

async fn a_corrected_measurement_keeps_both_values(t: TestDb) {
    let ledger = Ledger::demo(t).await;
    let record = json!({
        "programmeId": PROGRAMME,
        "indicator": "ernstig-overgewicht",
        "area": "crabbehof",
        "period": "2023",
        "value": "23.40",
        "source": "RIVM Gezondheidsmonitor",
        "publishedOn": "2024-03-01",
        "illustrative": true,
    });
    let recorded = ledger
        .record("recordMeasurement", MEASUREMENT_FIELDS, record.clone())
        .await;
    assert_eq!(recorded["value"], "23.4");
    assert_eq!(recorded["corrections"], 0);
    assert_eq!(recorded["illustrative"], true);

    let mut again = record.clone();
    again["value"] = json!("22.90");
    let message = ledger
        .refused(
            "recordMeasurement",
            again,
            "RULE_VIOLATED",
            "measurement.recorded_once",
        )
        .await;
    assert!(message.contains("correction"), "{message}");

    let reason = "RIVM herzag de weging van de Gezondheidsmonitor";
    ledger
        .record(
            "correctMeasurement",
            "value",
            json!({
                "programmeId": PROGRAMME,
                "indicator": "ernstig-overgewicht",
                "area": "crabbehof",
                "period": "2023",
                "value": "22.90",
                "reason": reason,
                "publishedOn": "2024-09-01",
            }),
        )
        .await;

    let read = ledger
        .read(
            &format!(
                "query($p: String!, $i: String!, $a: String!, $period: Period!) {{
                    measurement(programmeId: $p, indicator: $i, area: $a, period: $period) {{ {MEASUREMENT_FIELDS} }}
                }}"
            ),
            json!({ "p": PROGRAMME, "i": "ernstig-overgewicht", "a": "crabbehof", "period": "2023" }),
        )
        .await;
    let m = &read["measurement"];
    assert_eq!(m["key"], "dordt-west/ernstig-overgewicht/crabbehof/2023");
    assert_eq!(m["period"], "2023");
    assert_eq!(m["value"], "22.9", "the current value is the corrected one");
    assert_eq!(m["publishedOn"], "2024-09-01");
    assert_eq!(m["source"], "RIVM Gezondheidsmonitor");
    assert_eq!(m["corrections"], 1);
    assert_eq!(m["illustrative"], true, "a correction keeps the mark");
    assert_eq!(
        m["history"],
        json!([
            { "value": "23.4", "source": "RIVM Gezondheidsmonitor", "publishedOn": "2024-03-01", "reason": null },
            { "value": "22.9", "source": "RIVM Gezondheidsmonitor", "publishedOn": "2024-09-01", "reason": reason },
        ])
    );

    let events = ledger.events_of("Measurement").await;
    assert_eq!(events.len(), 2);
    let corrected = &events[1]["payload"]["MeasurementCorrected"];
    assert_eq!(corrected["previous_value"], "23.40");
    assert_eq!(corrected["value"], "22.90");
    ledger.stop().await;
}

async fn a_commitment_by_the_rijk_is_final_once_delivered(t: TestDb) {
    let ledger = Ledger::demo(t).await;
    let decision = ledger.adopted_decision().await;
    let made = ledger
        .record(
            "makeCommitment",
            COMMITMENT_FIELDS,
            json!({
                "programmeId": PROGRAMME,
                "partner": "rijk",
                "description": "Het Rijk stelt middelen uit het Volkshuisvestingsfonds beschikbaar voor de verbetering van woningen in Dordt West.",
                "amount": "12000000.00",
                "due": "2025-12-31",
                "decisionId": decision,
            }),
        )
        .await;
    let id = made["id"].as_str().expect("an id").to_owned();
    assert_eq!(made["partner"], "rijk");
    assert_eq!(made["partnerSector"], "RIJK");
    assert_eq!(made["partnerOrganisation"], "Het Rijk");
    assert_eq!(made["amount"], "12000000.00");
    assert_eq!(made["status"], "ON_TRACK");
    assert_eq!(made["isFinal"], false);

    let report = |status: &str, note: &str, on: &str| json!({ "commitmentId": id, "status": status, "note": note, "reportedOn": on });
    let at_risk = ledger
        .record(
            "reportCommitmentProgress",
            "status isFinal",
            report(
                "AT_RISK",
                "De beschikking laat op zich wachten.",
                "2024-09-30",
            ),
        )
        .await;
    assert_eq!(at_risk, json!({ "status": "AT_RISK", "isFinal": false }));
    let delivered = ledger
        .record(
            "reportCommitmentProgress",
            "status isFinal",
            report(
                "DELIVERED",
                "Beschikking ontvangen; de middelen zijn beschikbaar.",
                "2025-11-20",
            ),
        )
        .await;
    assert_eq!(delivered, json!({ "status": "DELIVERED", "isFinal": true }));

    let message = ledger
        .refused(
            "reportCommitmentProgress",
            report("AT_RISK", "Toch weer onzeker?", "2025-12-01"),
            "RULE_VIOLATED",
            "commitment.final",
        )
        .await;
    assert!(message.contains("final"), "{message}");

    let read = ledger
        .read(
            &format!("query($id: ID!) {{ commitment(id: $id) {{ {COMMITMENT_FIELDS} }} }}"),
            json!({ "id": id }),
        )
        .await;
    let c = &read["commitment"];
    assert_eq!(c["status"], "DELIVERED");
    assert_eq!(c["due"], "2025-12-31");
    assert_eq!(c["decisionId"], json!(decision));
    assert_eq!(
        c["reports"],
        json!([
            { "status": "AT_RISK", "note": "De beschikking laat op zich wachten.", "reportedOn": "2024-09-30" },
            { "status": "DELIVERED", "note": "Beschikking ontvangen; de middelen zijn beschikbaar.", "reportedOn": "2025-11-20" },
        ])
    );
    ledger.stop().await;
}

/// A partner reports progress on what its own organisation promised or leads, and on nothing
/// else; the programme office reports on everything; other roles report on nothing.
async fn a_partner_reports_progress_only_on_its_own_organisations_work(t: TestDb) {
    let ledger = Ledger::demo(t).await;
    let decision = ledger.adopted_decision().await;
    let commitment = ledger
        .record(
            "makeCommitment",
            "id",
            json!({
                "programmeId": PROGRAMME,
                "partner": "rijk",
                "description": "Het Rijk draagt bij aan de aanpak van slecht verhuurderschap.",
                "due": "2026-12-31",
                "decisionId": decision,
            }),
        )
        .await["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let intervention = ledger
        .record(
            "planIntervention",
            "id",
            json!({
                "programmeId": PROGRAMME,
                "executionProgramme": "uitvoeringsprogramma-2024-2027",
                "pillar": "gezond-en-samen-leven",
                "areas": ["wielwijk"],
                "leadPartner": "sociaal-wijkteam",
                "title": "Jongerenwerk op het plein",
            }),
        )
        .await["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let partner = |actor: &'static str, organisation: &'static str| {
        let ledger = &ledger;
        async move {
            ledger.server.client().with_token(
                &ledger
                    .t
                    .token(actor, Role::Partner, Some(organisation))
                    .await,
            )
        }
    };
    let rijk_partner = partner("Ambtenaar BZK", "Het Rijk").await;
    let woningcorporatie =
        partner("Medewerker woningcorporatie", "Woningcorporatie Dordrecht").await;
    let wijkteam = partner(
        "Jongerenwerker",
        "sociaal wijkteam, buurtwerk en jongerenwerk",
    )
    .await;
    let commitment_report = json!({
        "commitmentId": commitment,
        "status": "AT_RISK",
        "note": "De regeling is nog niet gepubliceerd.",
        "reportedOn": "2025-03-31",
    });
    let intervention_report = json!({
        "interventionId": intervention,
        "progress": 30,
        "status": "RUNNING",
        "note": "Drie middagen per week op het plein.",
        "reportedOn": "2025-04-15",
    });

    // Refused, recording nothing: another organisation's commitment and intervention, a partner
    // making a commitment, the Rijk's reading role.
    let before = ledger.head().await;
    for (client, mutation, input, rule) in [
        (
            &woningcorporatie,
            "reportCommitmentProgress",
            &commitment_report,
            Some("commitment.own_organisation"),
        ),
        (
            &rijk_partner,
            "reportInterventionProgress",
            &intervention_report,
            Some("intervention.own_organisation"),
        ),
        (
            &ledger.rijk,
            "reportCommitmentProgress",
            &commitment_report,
            None,
        ),
    ] {
        let reply = send_as(client, mutation, "__typename", input.clone()).await;
        assert_eq!(reply.error_codes(), vec!["FORBIDDEN"], "{}", reply.body);
        let error = &reply.errors()[0];
        if let Some(rule) = rule {
            assert_eq!(error["extensions"]["rule"], rule, "{error}");
        }
        assert!(reply.data().is_null(), "{}", reply.body);
    }
    let made_by_partner = send_as(
        &rijk_partner,
        "makeCommitment",
        "id",
        json!({
            "programmeId": PROGRAMME,
            "partner": "rijk",
            "description": "Een toezegging die alleen het programmabureau vastlegt.",
            "due": "2026-12-31",
            "decisionId": decision,
        }),
    )
    .await;
    assert_eq!(made_by_partner.error_codes(), vec!["FORBIDDEN"]);
    assert_eq!(ledger.head().await, before, "a refusal records nothing");
    let refused = send_as(
        &woningcorporatie,
        "reportCommitmentProgress",
        "__typename",
        commitment_report.clone(),
    )
    .await;
    assert!(
        refused.errors()[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Het Rijk"),
        "the refusal names whose commitment it is: {}",
        refused.body
    );

    // Accepted: each partner on its own work (organisation names compared without regard to
    // case), recorded under the partner's name and role.
    let reported = send_as(
        &rijk_partner,
        "reportCommitmentProgress",
        "status reports { note }",
        commitment_report,
    )
    .await;
    assert_eq!(
        reported.expect_ok()["reportCommitmentProgress"]["status"],
        "AT_RISK"
    );
    let progressed = send_as(
        &wijkteam,
        "reportInterventionProgress",
        "progress",
        intervention_report,
    )
    .await;
    assert_eq!(
        progressed.expect_ok()["reportInterventionProgress"]["progress"],
        30
    );
    let events = ledger.events_of("Commitment").await;
    let report_event = events
        .iter()
        .find(|e| {
            e["eventType"] == "CommitmentProgressReported" && e["aggregateId"] == json!(commitment)
        })
        .expect("the partner's report is in the log");
    assert_eq!(report_event["metadata"]["role"], "partner");
    assert_eq!(report_event["metadata"]["actor"], "Ambtenaar BZK");
    assert_eq!(report_event["metadata"]["organisation"], "Het Rijk");

    // The programme office reports on anyone's work.
    let office = ledger
        .record(
            "reportCommitmentProgress",
            "status",
            json!({ "commitmentId": commitment, "status": "ON_TRACK", "reportedOn": "2025-06-30" }),
        )
        .await;
    assert_eq!(office["status"], "ON_TRACK");
    ledger.stop().await;
}

async fn an_intervention_is_planned_progressed_and_completed(t: TestDb) {
    let ledger = Ledger::demo(t).await;
    let planned = ledger
        .record(
            "planIntervention",
            INTERVENTION_FIELDS,
            json!({
                "programmeId": PROGRAMME,
                "executionProgramme": "uitvoeringsprogramma-2024-2027",
                "pillar": "gezond-en-samen-leven",
                "themes": ["Gezonde leefstijl", "Samen in de wijk"],
                "areas": ["crabbehof", "wielwijk"],
                "leadPartner": "sociaal-wijkteam",
                "title": "Buurtsportcoach en beweegaanbod na school",
                "description": "Elke middag beweegaanbod op de pleinen van Crabbehof en Wielwijk.",
            }),
        )
        .await;
    let id = planned["id"].as_str().expect("an id").to_owned();
    assert_eq!(planned["stage"], "PLANNED");
    assert_eq!(planned["progress"], 0);
    assert_eq!(
        planned["leadOrganisation"],
        "Sociaal wijkteam, buurtwerk en jongerenwerk"
    );
    assert_eq!(planned["areas"], json!(["crabbehof", "wielwijk"]));

    let outside = ledger
        .send(
            "planIntervention",
            "id",
            json!({
                "programmeId": PROGRAMME,
                "executionProgramme": "uitvoeringsprogramma-2024-2027",
                "pillar": "gezond-en-samen-leven",
                "areas": ["dordrecht"],
                "leadPartner": "sociaal-wijkteam",
                "title": "Buiten het uitvoeringsprogramma",
            }),
        )
        .await;
    assert_eq!(outside.error_codes(), vec!["BAD_USER_INPUT"]);
    assert_eq!(outside.errors()[0]["extensions"]["field"], "areas");

    let milestone = ledger
        .record(
            "addMilestone",
            "milestones { id title due reachedOn }",
            json!({ "interventionId": id, "title": "Aanbod loopt op alle pleinen", "due": "2024-09-01" }),
        )
        .await["milestones"][0]
        .clone();
    assert!(milestone["reachedOn"].is_null());
    let running = ledger
        .record(
            "reportInterventionProgress",
            "stage progress lastReport { progress status note reportedOn }",
            json!({
                "interventionId": id,
                "progress": 40,
                "status": "RUNNING",
                "note": "Drie van de vijf pleinen draaien.",
                "reportedOn": "2024-05-01",
            }),
        )
        .await;
    assert_eq!(running["stage"], "RUNNING");
    assert_eq!(running["progress"], 40);
    assert_eq!(
        running["lastReport"]["note"],
        "Drie van de vijf pleinen draaien."
    );
    let out_of_range = ledger
        .send(
            "reportInterventionProgress",
            "progress",
            json!({ "interventionId": id, "progress": 140, "status": "RUNNING", "reportedOn": "2024-06-01" }),
        )
        .await;
    assert_eq!(out_of_range.error_codes(), vec!["BAD_USER_INPUT"]);
    assert_eq!(out_of_range.errors()[0]["extensions"]["field"], "progress");

    ledger
        .record(
            "reachMilestone",
            "id",
            json!({ "interventionId": id, "milestoneId": milestone["id"], "reachedOn": "2024-08-20" }),
        )
        .await;
    let evaluation =
        "Ruim 300 kinderen deden mee; het aanbod gaat over naar de reguliere buurtsport.";
    let completed = ledger
        .record(
            "completeIntervention",
            "stage isFinal progress closure { evaluation stopReason closedOn }",
            json!({ "interventionId": id, "evaluation": evaluation, "completedOn": "2025-06-30" }),
        )
        .await;
    assert_eq!(
        completed,
        json!({
            "stage": "COMPLETED",
            "isFinal": true,
            "progress": 100,
            "closure": { "evaluation": evaluation, "stopReason": null, "closedOn": "2025-06-30" },
        })
    );
    ledger
        .refused(
            "reportInterventionProgress",
            json!({ "interventionId": id, "progress": 50, "status": "RUNNING", "reportedOn": "2025-07-01" }),
            "RULE_VIOLATED",
            "intervention.final",
        )
        .await;

    let read = ledger
        .read(
            &format!("query($id: ID!) {{ intervention(id: $id) {{ {INTERVENTION_FIELDS} }} }}"),
            json!({ "id": id }),
        )
        .await;
    let i = &read["intervention"];
    assert_eq!(i["stage"], "COMPLETED");
    assert_eq!(
        i["themes"],
        json!(["Gezonde leefstijl", "Samen in de wijk"])
    );
    assert_eq!(
        i["milestones"],
        json!([{
            "id": milestone["id"],
            "title": "Aanbod loopt op alle pleinen",
            "due": "2024-09-01",
            "reachedOn": "2024-08-20",
        }])
    );
    assert_eq!(i["lastReport"]["progress"], 40);

    let other = ledger
        .record(
            "planIntervention",
            "id",
            json!({
                "programmeId": PROGRAMME,
                "executionProgramme": "uitvoeringsprogramma-2024-2027",
                "pillar": "leefbaar-en-veilig",
                "themes": ["Jeugd en veiligheid"],
                "areas": ["oud-krispijn"],
                "leadPartner": "politie",
                "title": "Straatcoaches in Oud-Krispijn",
            }),
        )
        .await["id"]
        .clone();
    let stopped = ledger
        .record(
            "stopIntervention",
            "stage isFinal progress closure { evaluation stopReason closedOn }",
            json!({
                "interventionId": other,
                "reason": "Geen aanbieder gevonden",
                "stoppedOn": "2024-11-01",
            }),
        )
        .await;
    assert_eq!(
        stopped,
        json!({
            "stage": "STOPPED",
            "isFinal": true,
            "progress": 0,
            "closure": { "evaluation": "", "stopReason": "Geen aanbieder gevonden", "closedOn": "2024-11-01" },
        })
    );
    ledger.stop().await;
}

async fn resident_input_is_linked_to_the_decision_that_considered_it(t: TestDb) {
    let ledger = Ledger::demo(t).await;
    let recorded = ledger
        .record(
            "recordResidentInput",
            RESIDENT_INPUT_FIELDS,
            json!({
                "programmeId": PROGRAMME,
                "channel": "SESSION",
                "area": "wielwijk",
                "theme": "Samen in de wijk",
                "summary": "Bewoners willen een ontmoetingsplek in de wijk en meer zicht op de wijkagent.",
                "residents": 42,
                "collectedOn": "2023-05-10",
            }),
        )
        .await;
    let id = recorded["id"].as_str().expect("an id").to_owned();
    assert_eq!(recorded["residents"], 42);
    assert_eq!(recorded["consideredIn"], json!([]));

    let open = ledger
        .proposed_decision("Ontmoetingsplek Wielwijk (nog niet besloten)")
        .await;
    ledger
        .refused(
            "considerResidentInput",
            json!({ "residentInputId": id, "decisionId": open }),
            "RULE_VIOLATED",
            "citation.adopted_decision",
        )
        .await;

    let decision = ledger.adopted_decision().await;
    let considered = ledger
        .record(
            "considerResidentInput",
            "consideredIn",
            json!({ "residentInputId": id, "decisionId": decision }),
        )
        .await;
    assert_eq!(considered["consideredIn"], json!([decision]));
    ledger
        .refused(
            "considerResidentInput",
            json!({ "residentInputId": id, "decisionId": decision }),
            "RULE_VIOLATED",
            "resident_input.considered_once",
        )
        .await;

    let read = ledger
        .read(
            &format!("query($id: ID!) {{ residentInput(id: $id) {{ {RESIDENT_INPUT_FIELDS} }} }}"),
            json!({ "id": id }),
        )
        .await;
    let r = &read["residentInput"];
    assert_eq!(r["channel"], "SESSION");
    assert_eq!(r["area"], "wielwijk");
    assert_eq!(r["collectedOn"], "2023-05-10");
    assert_eq!(r["consideredIn"], json!([decision]));
    ledger.stop().await;
}

async fn money_crosses_as_decimal_strings(t: TestDb) {
    let ledger = Ledger::demo(t).await;
    let decision = ledger.adopted_decision().await;
    let fund = |amount: Value| {
        json!({
            "programmeId": PROGRAMME,
            "funder": "GEMEENTE",
            "funderName": "Gemeente Dordrecht",
            "name": "Extra middelen elf scholen",
            "amount": amount,
            "firstYear": 2023,
            "lastYear": 2032,
            "decisionId": decision,
        })
    };
    let before = ledger.head().await;
    for amount in [
        json!(1.5),
        json!(27500000),
        json!("1.505"),
        json!("27.500.000,00"),
    ] {
        let reply = ledger
            .send("registerFund", "id", fund(amount.clone()))
            .await;
        assert!(
            !reply.errors().is_empty() && reply.data().is_null(),
            "{amount} is refused: {}",
            reply.body
        );
        assert_eq!(
            reply.error_codes(),
            vec!["BAD_USER_INPUT"],
            "{}",
            reply.body
        );
        let message = reply.errors()[0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            message.contains("27500000.00"),
            "the refusal shows how to write money: {message}"
        );
    }
    let inline = ledger
        .secretary
        .query(
            &format!(
                "mutation {{ registerFund(input: {{ programmeId: \"dordt-west\", funder: GEMEENTE,
                    funderName: \"Gemeente Dordrecht\", name: \"Inline\", amount: 1.5,
                    firstYear: 2023, lastYear: 2032, decisionId: \"{decision}\" }}) {{ id }} }}"
            ),
            json!({}),
        )
        .await;
    assert!(!inline.errors().is_empty(), "{}", inline.body);
    assert_eq!(ledger.head().await, before, "nothing was recorded");

    let registered = ledger
        .record("registerFund", "id amount left", fund(json!("27500000.00")))
        .await;
    assert_eq!(registered["amount"], "27500000.00");
    assert_eq!(registered["left"], "27500000.00");
    let read = ledger
        .read(
            "query($id: ID!) { fund(id: $id) { amount allocated spent left } }",
            json!({ "id": registered["id"] }),
        )
        .await;
    assert_eq!(
        read["fund"],
        json!({ "amount": "27500000.00", "allocated": "0.00", "spent": "0.00", "left": "27500000.00" })
    );
    ledger.stop().await;
}

async fn recording_needs_the_secretary_and_reading_a_token(t: TestDb) {
    let ledger = Ledger::demo(t).await;
    let before = ledger.head().await;
    let input = json!({
        "programmeId": "Dordt West",
        "indicator": "ernstig-overgewicht",
        "area": "crabbehof",
        "period": "2023",
        "value": "23.4",
        "source": "RIVM",
        "publishedOn": "2024-03-01",
    });
    // Authorization comes before the input is read: a malformed programme id is not reported
    // to a caller who may not record at all.
    let reply = send_as(&ledger.rijk, "recordMeasurement", "value", input.clone()).await;
    assert_eq!(reply.error_codes(), vec!["FORBIDDEN"], "{}", reply.body);
    let reply = send_as(
        &ledger.server.client(),
        "recordMeasurement",
        "value",
        input.clone(),
    )
    .await;
    assert_eq!(
        reply.error_codes(),
        vec!["UNAUTHENTICATED"],
        "{}",
        reply.body
    );
    let reply = ledger.send("recordMeasurement", "value", input).await;
    assert_eq!(reply.error_codes(), vec!["BAD_USER_INPUT"]);
    assert_eq!(reply.errors()[0]["extensions"]["field"], "programmeId");
    assert_eq!(ledger.head().await, before);

    let reply = ledger
        .server
        .client()
        .query(
            "query($id: ID!) { fund(id: $id) { amount } }",
            json!({ "id": Uuid::new_v4().to_string() }),
        )
        .await;
    assert_eq!(reply.error_codes(), vec!["UNAUTHENTICATED"]);
    let unknown = ledger
        .read(
            "query($id: ID!) { fund(id: $id) { amount } commitment(id: $id) { status } intervention(id: $id) { stage } residentInput(id: $id) { theme } }",
            json!({ "id": Uuid::new_v4().to_string() }),
        )
        .await;
    assert_eq!(
        unknown,
        json!({ "fund": null, "commitment": null, "intervention": null, "residentInput": null })
    );
    ledger.stop().await;
}

on_both_backends!(
    a_target_cites_an_adopted_decision_and_keeps_its_history,
    an_expenditure_stays_within_its_allocation,
    a_corrected_measurement_keeps_both_values,
    a_commitment_by_the_rijk_is_final_once_delivered,
    an_intervention_is_planned_progressed_and_completed,
    a_partner_reports_progress_only_on_its_own_organisations_work,
    resident_input_is_linked_to_the_decision_that_considered_it,
    money_crosses_as_decimal_strings,
    recording_needs_the_secretary_and_reading_a_token,
);
