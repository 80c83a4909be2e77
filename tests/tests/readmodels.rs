//! Questions over the read models: the budget, the decisions and what they led to, what the
//! Rijk committed, and who changed a target when.

use domain::access::Role;
use serde_json::{json, Value};
use tests::{on_both_backends, GraphqlClient, TestDb, TestServer};

const PROGRAMME: &str = "dordt-west";

async fn execution_programme_decision(client: &GraphqlClient) -> String {
    client
        .query(
            "{ programme(id: \"dordt-west\") { executionProgrammes { decisionId } } }",
            json!({}),
        )
        .await
        .expect_ok()["programme"]["executionProgrammes"][0]["decisionId"]
        .as_str()
        .expect("a decision id")
        .to_owned()
}

async fn now(client: &GraphqlClient) -> String {
    client
        .query("{ ledger { recordedAt } }", json!({}))
        .await
        .expect_ok()["ledger"]["recordedAt"]
        .as_str()
        .expect("a time")
        .to_owned()
}

async fn the_budget_sums_by_funder_pillar_and_year(t: TestDb) {
    alliance_ledger::demo::record_demo(&t.db)
        .await
        .expect("demo");
    let server = TestServer::start(&t).await;
    let rijk = server
        .client()
        .with_token(&t.token("Rijk", Role::Rijk, None).await);
    let query = "query($year: Int, $asOf: DateTime) { budget(programmeId: \"dordt-west\", year: $year, asOf: $asOf) {
        allocated committed spent left
        byFund { name funder amount allocated left }
        byFunder { key allocated } byPillar { key allocated } byYear { key allocated }
    } }";
    let all = rijk.query(query, json!({})).await.expect_ok()["budget"].clone();
    assert_eq!(all["allocated"], "27500000.00");
    assert_eq!(all["spent"], "0.00");
    assert_eq!(all["left"], "27500000.00");
    assert_eq!(all["byFund"][0]["amount"], "27500000.00");
    assert_eq!(all["byFund"][0]["funder"], "GEMEENTE");
    assert_eq!(
        all["byFunder"],
        json!([{ "key": "GEMEENTE", "allocated": "27500000.00" }])
    );
    assert_eq!(
        all["byPillar"],
        json!([{ "key": "leren-en-ontwikkelen", "allocated": "27500000.00" }])
    );
    let years = all["byYear"].as_array().expect("years");
    assert_eq!(years.len(), 10);
    assert!(years.iter().all(|y| y["allocated"] == "2750000.00"));

    let one_year = rijk.query(query, json!({ "year": 2024 })).await.expect_ok();
    assert_eq!(one_year["budget"]["allocated"], "2750000.00");
    let before = rijk
        .query(query, json!({ "asOf": "2020-01-01T00:00:00Z" }))
        .await
        .expect_ok();
    assert_eq!(before["budget"]["allocated"], "0.00");
    assert_eq!(before["budget"]["byFund"], json!([]));
    server.stop().await;
}

async fn a_decision_shows_every_consequence_that_cites_it(t: TestDb) {
    alliance_ledger::demo::record_demo(&t.db)
        .await
        .expect("demo");
    let server = TestServer::start(&t).await;
    let reader = server.client().with_token(
        &t.token(
            "Partner",
            Role::Partner,
            Some("Organisatie woningcorporatie"),
        )
        .await,
    );
    let decisions = reader
        .query(
            "{ decisions(programmeId: \"dordt-west\") { nodes { id title status meeting { date } consequences { eventType aggregateType recordedAt } } } }",
            json!({}),
        )
        .await
        .expect_ok()["decisions"]["nodes"]
        .as_array()
        .cloned()
        .expect("decisions");
    let titles: Vec<&str> = decisions
        .iter()
        .filter_map(|d| d["title"].as_str())
        .collect();
    assert_eq!(
        titles,
        vec![
            "Vaststellen Nationaal Programma Dordt West 2023-2043",
            "Vaststellen eerste uitvoeringsprogramma",
            "Inzet gemeentelijke middelen voor elf scholen (27,5 miljoen euro over tien jaar)",
        ]
    );
    assert!(decisions.iter().all(|d| d["status"] == "ADOPTED"));
    let kinds = |d: &Value| -> Vec<String> {
        d["consequences"]
            .as_array()
            .expect("consequences")
            .iter()
            .map(|c| c["eventType"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    assert_eq!(kinds(&decisions[1]), vec!["ExecutionProgrammeAdded"]);
    let schools = kinds(&decisions[2]);
    assert_eq!(schools.len(), 11, "{schools:?}");
    assert_eq!(schools[0], "FundRegistered");
    assert!(schools[1..].iter().all(|k| k == "BudgetAllocated"));

    let in_q3 = reader
        .query(
            "{ decisions(programmeId: \"dordt-west\", from: \"2023-07-01\", to: \"2023-12-31\") { nodes { title } } }",
            json!({}),
        )
        .await
        .expect_ok();
    assert_eq!(
        in_q3["decisions"]["nodes"].as_array().map(Vec::len),
        Some(2)
    );

    // Long lists come in pages: `first` and the `after` cursor walk through them.
    let paged =
        "query($after: String) { decisions(programmeId: \"dordt-west\", first: 2, after: $after) {
        nodes { title } edges { cursor } pageInfo { hasNextPage hasPreviousPage } } }";
    let first_page = reader.query(paged, json!({})).await.expect_ok()["decisions"].clone();
    assert_eq!(first_page["nodes"].as_array().map(Vec::len), Some(2));
    assert_eq!(first_page["pageInfo"]["hasNextPage"], true);
    let cursor = first_page["edges"][1]["cursor"].clone();
    let second_page = reader
        .query(paged, json!({ "after": cursor }))
        .await
        .expect_ok()["decisions"]
        .clone();
    assert_eq!(second_page["nodes"].as_array().map(Vec::len), Some(1));
    assert_eq!(second_page["pageInfo"]["hasNextPage"], false);
    assert_eq!(second_page["pageInfo"]["hasPreviousPage"], true);
    let too_many = reader
        .query(
            "{ decisions(programmeId: \"dordt-west\", first: 1000000) { nodes { title } } }",
            json!({}),
        )
        .await;
    assert_eq!(too_many.error_codes(), vec!["BAD_USER_INPUT"]);
    assert_eq!(too_many.errors()[0]["extensions"]["field"], "first");
    server.stop().await;
}

async fn the_rijk_sees_its_commitments_across_programmes_as_of_a_date(t: TestDb) {
    alliance_ledger::demo::record_demo(&t.db)
        .await
        .expect("demo");
    let server = TestServer::start(&t).await;
    let secretary = server
        .client()
        .with_token(&t.token("Sanne", Role::Secretary, None).await);
    let rijk = server
        .client()
        .with_token(&t.token("Rijk", Role::Rijk, None).await);
    let decision = execution_programme_decision(&rijk).await;
    let before = now(&rijk).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    secretary
        .query(
            "mutation($input: MakeCommitmentInput!) { makeCommitment(input: $input) { id } }",
            json!({ "input": {
                "programmeId": PROGRAMME, "partner": "rijk",
                "description": "Middelen uit het Volkshuisvestingsfonds voor Dordt West",
                "amount": "12000000.00", "due": "2026-12-31", "decisionId": decision,
            }}),
        )
        .await
        .expect_ok();
    let query = "query($asOf: DateTime) { commitments(sector: RIJK, asOf: $asOf) { nodes { programmeId partner amount status decisionId } } }";
    let now_list = rijk.query(query, json!({})).await.expect_ok()["commitments"]["nodes"].clone();
    assert_eq!(now_list.as_array().map(Vec::len), Some(1));
    assert_eq!(now_list[0]["amount"], "12000000.00");
    assert_eq!(now_list[0]["decisionId"], json!(decision));
    let then = rijk
        .query(query, json!({ "asOf": before }))
        .await
        .expect_ok();
    assert_eq!(
        then["commitments"]["nodes"],
        json!([]),
        "nothing was committed yet"
    );
    server.stop().await;
}

async fn a_target_history_says_when_and_under_which_role_and_only_auditors_see_who(t: TestDb) {
    alliance_ledger::demo::record_demo(&t.db)
        .await
        .expect("demo");
    let server = TestServer::start(&t).await;
    let secretary = server.client().with_token(
        &t.token("Sanne de Vries", Role::Secretary, Some("Programmabureau"))
            .await,
    );
    let auditor = server
        .client()
        .with_token(&t.token("Aad", Role::Auditor, None).await);
    let rijk = server
        .client()
        .with_token(&t.token("Rijk", Role::Rijk, None).await);
    let decision = execution_programme_decision(&rijk).await;
    secretary
        .query(
            "mutation($input: SetTargetInput!) { setTarget(input: $input) { key } }",
            json!({ "input": {
                "programmeId": PROGRAMME, "indicator": "ernstig-overgewicht", "area": "crabbehof",
                "horizonYear": 2030, "comparator": "dordrecht", "decisionId": decision,
                "reason": "Groeien naar het Dordts gemiddelde",
            }}),
        )
        .await
        .expect_ok();
    let query = "{ targets(programmeId: \"dordt-west\", area: \"crabbehof\") { nodes { indicator history { kind recordedAt actor role organisation decisionId } } } }";
    let seen_by_auditor = auditor.query(query, json!({})).await.expect_ok();
    let entry = &seen_by_auditor["targets"]["nodes"][0]["history"][0];
    assert_eq!(entry["kind"], "SET");
    assert_eq!(entry["actor"], "Sanne de Vries");
    assert_eq!(entry["role"], "secretary");
    assert_eq!(entry["organisation"], "Programmabureau");
    assert_eq!(entry["decisionId"], json!(decision));
    assert!(entry["recordedAt"].as_str().is_some());
    let seen_by_rijk = rijk.query(query, json!({})).await.expect_ok();
    let entry = &seen_by_rijk["targets"]["nodes"][0]["history"][0];
    assert!(
        entry["actor"].is_null(),
        "actor identities are for auditors"
    );
    assert_eq!(entry["role"], "secretary");
    server.stop().await;
}

async fn interventions_and_resident_input_are_listed_per_area_and_theme(t: TestDb) {
    alliance_ledger::demo::record_demo(&t.db)
        .await
        .expect("demo");
    let server = TestServer::start(&t).await;
    let secretary = server
        .client()
        .with_token(&t.token("Sanne", Role::Secretary, None).await);
    let reader = server.client().with_token(
        &t.token(
            "Partner",
            Role::Partner,
            Some("Organisatie woningcorporatie"),
        )
        .await,
    );
    for (title, area) in [
        ("Buurtsportcoach Crabbehof", "crabbehof"),
        ("Taalhuis Wielwijk", "wielwijk"),
    ] {
        secretary
            .query(
                "mutation($input: PlanInterventionInput!) { planIntervention(input: $input) { id } }",
                json!({ "input": {
                    "programmeId": PROGRAMME, "executionProgramme": "uitvoeringsprogramma-2024-2027",
                    "pillar": "gezond-en-samen-leven", "themes": ["Gezonde leefstijl"],
                    "areas": [area], "leadPartner": "sociaal-wijkteam", "title": title, "description": "",
                }}),
            )
            .await
            .expect_ok();
    }
    secretary
        .query(
            "mutation($input: RecordResidentInputInput!) { recordResidentInput(input: $input) { id } }",
            json!({ "input": {
                "programmeId": PROGRAMME, "channel": "SESSION", "area": "crabbehof",
                "theme": "Gezonde leefstijl", "summary": "Bewoners willen meer sportaanbod op het plein.",
                "residents": 34, "collectedOn": "2024-03-12",
            }}),
        )
        .await
        .expect_ok();
    let data = reader
        .query(
            "{ interventions(programmeId: \"dordt-west\", area: \"crabbehof\") { nodes { title leadPartner } }
               all: interventions(programmeId: \"dordt-west\") { nodes { title } }
               residentInputs(programmeId: \"dordt-west\", area: \"crabbehof\", theme: \"Gezonde leefstijl\") { nodes { residents summary } }
               none: residentInputs(programmeId: \"dordt-west\", area: \"wielwijk\") { nodes { residents } } }",
            json!({}),
        )
        .await
        .expect_ok();
    assert_eq!(
        data["interventions"]["nodes"],
        json!([{ "title": "Buurtsportcoach Crabbehof", "leadPartner": "sociaal-wijkteam" }])
    );
    assert_eq!(data["all"]["nodes"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        data["residentInputs"]["nodes"][0]["residents"], 34,
        "{data}"
    );
    assert_eq!(data["none"]["nodes"], json!([]));
    server.stop().await;
}

async fn public_reading_shows_what_the_alliance_publishes_and_nothing_else(t: TestDb) {
    alliance_ledger::demo::record_demo(&t.db)
        .await
        .expect("demo");
    let server = TestServer::start_public(&t).await;
    let anonymous = server.client();
    for published in [
        "{ programme(id: \"dordt-west\") { name } }",
        "{ programmes { nodes { name } } }",
        "{ decisions(programmeId: \"dordt-west\") { nodes { title } } }",
        "{ targets(programmeId: \"dordt-west\") { nodes { key } } }",
        "{ measurements(programmeId: \"dordt-west\") { nodes { value } } }",
        "{ monitor(programmeId: \"dordt-west\", area: \"crabbehof\") { pillars { status } } }",
        "{ budget(programmeId: \"dordt-west\") { allocated } }",
    ] {
        anonymous.query(published, json!({})).await.expect_ok();
    }
    for private in [
        "{ alliance(programmeId: \"dordt-west\") { chair } }",
        "{ commitments { nodes { partner } } }",
        "{ interventions(programmeId: \"dordt-west\") { nodes { title } } }",
        "{ residentInputs(programmeId: \"dordt-west\") { nodes { summary } } }",
        "{ events { position } }",
    ] {
        let reply = anonymous.query(private, json!({})).await;
        assert_eq!(
            reply.error_codes(),
            vec!["UNAUTHENTICATED"],
            "{private}: {}",
            reply.body
        );
    }
    let reply = anonymous
        .query(
            "mutation { proposeDecision(input: {programmeId: \"dordt-west\", title: \"x\"}) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(reply.error_codes(), vec!["UNAUTHENTICATED"]);

    // A programme's alliance (organisations and their representatives) is not published: that
    // one field is refused, and the rest of the programme still answers.
    for (query, path) in [
        (
            "{ programme(id: \"dordt-west\") { name alliance { chair members { organisation representative } } } }",
            json!(["programme", "alliance"]),
        ),
        (
            "{ programmes { nodes { name alliance { members { organisation } } } } }",
            json!(["programmes", "nodes", 0, "alliance"]),
        ),
    ] {
        let reply = anonymous.query(query, json!({})).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            reply.error_codes(),
            vec!["UNAUTHENTICATED"],
            "{query}: {}",
            reply.body
        );
        let error = &reply.errors()[0];
        assert_eq!(error["path"], path, "{}", reply.body);
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("Authorization: Bearer")),
            "{error}"
        );
        let programme = if path[0] == "programme" {
            reply.data()["programme"].clone()
        } else {
            reply.data()["programmes"]["nodes"][0].clone()
        };
        assert_eq!(programme["name"], "Nationaal Programma Dordt West");
        assert_eq!(programme["alliance"], Value::Null);
    }
    // Any token reads it on the same server.
    let rijk = server
        .client()
        .with_token(&t.token("Rijk", Role::Rijk, None).await);
    let data = rijk
        .query(
            "{ programme(id: \"dordt-west\") { alliance { chair members { organisation representative } } } }",
            json!({}),
        )
        .await
        .expect_ok();
    let alliance = &data["programme"]["alliance"];
    assert_eq!(alliance["chair"], "gemeente-dordrecht");
    assert!(
        alliance["members"].as_array().is_some_and(|m| m.contains(
            &json!({ "organisation": "Gemeente Dordrecht", "representative": "De burgemeester (voorzitter)" })
        )),
        "{alliance}"
    );
    server.stop().await;
}

async fn a_programme_names_its_alliance_members_as_of_a_time(t: TestDb) {
    t.with_programme().await;
    let server = TestServer::start(&t).await;
    let secretary = server
        .client()
        .with_token(&t.token("Sanne", Role::Secretary, None).await);
    let partner = server
        .client()
        .with_token(&t.token("Pim", Role::Partner, Some("Woonkracht10")).await);
    let query = "query($asOf: DateTime) {
        programme(id: \"dordt-west\", asOf: $asOf) {
            name alliance { chair adoptionRule members { id sector organisation representative } }
        }
        programmes(asOf: $asOf) { nodes { id alliance { members { id representative } } } }
    }";
    let member = |id: &str, sector: &str, representative: &str| {
        json!({
            "id": id, "sector": sector, "organisation": format!("Organisatie {id}"),
            "representative": representative,
        })
    };
    let data = partner.query(query, json!({})).await.expect_ok();
    assert_eq!(
        data["programme"]["alliance"],
        json!({
            "chair": "gemeente", "adoptionRule": "MAJORITY",
            "members": [
                member("gemeente", "GEMEENTE", "Vertegenwoordiger gemeente"),
                member("rijk", "RIJK", "Vertegenwoordiger rijk"),
                member("woningcorporatie", "WONINGCORPORATIE", "Vertegenwoordiger woningcorporatie"),
            ],
        })
    );

    let before = now(&partner).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    secretary
        .query(
            "mutation { changeRepresentative(input: { programmeId: \"dordt-west\",
                memberId: \"gemeente\", representative: \"Wethouder Jansen\",
                changedOn: \"2024-02-01\" }) { programmeId } }",
            json!({}),
        )
        .await
        .expect_ok();
    let representative = |data: &Value| {
        let by_programme = data["programme"]["alliance"]["members"][0].clone();
        let by_list = data["programmes"]["nodes"][0]["alliance"]["members"][0].clone();
        assert_eq!(by_programme["id"], "gemeente");
        assert_eq!(
            by_list,
            json!({ "id": "gemeente", "representative": by_programme["representative"] }),
            "programme and programmes agree"
        );
        by_programme["representative"].clone()
    };
    let current = partner.query(query, json!({})).await.expect_ok();
    assert_eq!(representative(&current), "Wethouder Jansen");
    let then = partner
        .query(query, json!({ "asOf": before }))
        .await
        .expect_ok();
    assert_eq!(
        representative(&then),
        "Vertegenwoordiger gemeente",
        "the alliance as it stood at asOf, like the programme"
    );
    let long_ago = partner
        .query(query, json!({ "asOf": "2020-01-01T00:00:00Z" }))
        .await
        .expect_ok();
    assert_eq!(long_ago["programme"], Value::Null);

    // A programme whose alliance is not formed yet has none; a mutation's answer reads it too.
    let established = secretary
        .query(
            "mutation { establishProgramme(input: { programmeId: \"dordt-oost\",
                name: \"Dordt Oost\", municipalityCode: \"GM0505\",
                nationalProgramme: \"Nationaal Programma Leefbaarheid en Veiligheid\",
                firstYear: 2024, lastYear: 2044 }) { id alliance { chair } } }",
            json!({}),
        )
        .await
        .expect_ok();
    assert_eq!(
        established["establishProgramme"],
        json!({ "id": "dordt-oost", "alliance": null })
    );
    let added = secretary
        .query(
            "mutation { addArea(input: { programmeId: \"dordt-west\", areaId: \"nederland\",
                name: \"Nederland\", kind: LAND }) { alliance { members { representative } } } }",
            json!({}),
        )
        .await
        .expect_ok();
    assert_eq!(
        added["addArea"]["alliance"]["members"][0]["representative"],
        "Wethouder Jansen"
    );
    server.stop().await;
}

async fn every_programme_is_listed_by_name_and_as_of_a_time(t: TestDb) {
    let server = TestServer::start(&t).await;
    let secretary = server
        .client()
        .with_token(&t.token("Sanne", Role::Secretary, None).await);
    let rijk = server
        .client()
        .with_token(&t.token("Rijk", Role::Rijk, None).await);
    let establish =
        "mutation($input: EstablishProgrammeInput!) { establishProgramme(input: $input) { id } }";
    secretary
        .query(
            establish,
            json!({ "input": {
                "programmeId": "dordt-west", "name": "Nationaal Programma Dordt West",
                "municipalityCode": "GM0505",
                "nationalProgramme": "Nationaal Programma Leefbaarheid en Veiligheid",
                "firstYear": 2023, "lastYear": 2043,
                "ambition": "We groeien met Dordt West naar het Dordts gemiddelde.",
            }}),
        )
        .await
        .expect_ok();
    secretary
        .query(
            "mutation { addArea(input: { programmeId: \"dordt-west\", areaId: \"nederland\", name: \"Nederland\", kind: LAND, cbsCode: \"NL01\" }) { id } }",
            json!({}),
        )
        .await
        .expect_ok();
    let before_second = now(&rijk).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    secretary
        .query(
            establish,
            json!({ "input": {
                "programmeId": "zaandam-oost", "name": "Aanpak Zaandam Oost",
                "municipalityCode": "GM0479",
                "nationalProgramme": "Nationaal Programma Leefbaarheid en Veiligheid",
                "firstYear": 2024, "lastYear": 2040,
            }}),
        )
        .await
        .expect_ok();

    let query = "query($asOf: DateTime, $first: Int, $after: String) {
        programmes(asOf: $asOf, first: $first, after: $after) {
            nodes { id name municipalityCode nationalProgramme period { first last } ambition areas { id name kind } }
            pageInfo { hasNextPage endCursor }
        } }";
    let all = rijk.query(query, json!({})).await.expect_ok()["programmes"].clone();
    assert_eq!(
        all["nodes"],
        json!([
            {
                "id": "zaandam-oost", "name": "Aanpak Zaandam Oost", "municipalityCode": "GM0479",
                "nationalProgramme": "Nationaal Programma Leefbaarheid en Veiligheid",
                "period": { "first": 2024, "last": 2040 }, "ambition": "", "areas": [],
            },
            {
                "id": "dordt-west", "name": "Nationaal Programma Dordt West",
                "municipalityCode": "GM0505",
                "nationalProgramme": "Nationaal Programma Leefbaarheid en Veiligheid",
                "period": { "first": 2023, "last": 2043 },
                "ambition": "We groeien met Dordt West naar het Dordts gemiddelde.",
                "areas": [{ "id": "nederland", "name": "Nederland", "kind": "LAND" }],
            },
        ]),
        "by name, not by id or by when they were recorded"
    );
    assert_eq!(all["pageInfo"]["hasNextPage"], false);

    let first_page =
        rijk.query(query, json!({ "first": 1 })).await.expect_ok()["programmes"].clone();
    assert_eq!(first_page["nodes"][0]["id"], "zaandam-oost");
    assert_eq!(first_page["pageInfo"]["hasNextPage"], true);
    let second_page = rijk
        .query(
            query,
            json!({ "first": 1, "after": first_page["pageInfo"]["endCursor"] }),
        )
        .await
        .expect_ok()["programmes"]
        .clone();
    assert_eq!(second_page["nodes"][0]["id"], "dordt-west");
    assert_eq!(second_page["pageInfo"]["hasNextPage"], false);

    let then = rijk
        .query(query, json!({ "asOf": before_second }))
        .await
        .expect_ok()["programmes"]
        .clone();
    let ids: Vec<&str> = then["nodes"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(ids, vec!["dordt-west"], "only the first existed then");
    assert_eq!(then["nodes"][0]["areas"][0]["name"], "Nederland");
    let long_ago = rijk
        .query(query, json!({ "asOf": "2020-01-01T00:00:00Z" }))
        .await
        .expect_ok();
    assert_eq!(long_ago["programmes"]["nodes"], json!([]));

    let anonymous = server.client();
    let reply = anonymous.query(query, json!({})).await;
    assert_eq!(reply.error_codes(), vec!["UNAUTHENTICATED"]);
    server.stop().await;
}

on_both_backends!(
    a_programme_names_its_alliance_members_as_of_a_time,
    every_programme_is_listed_by_name_and_as_of_a_time,
    public_reading_shows_what_the_alliance_publishes_and_nothing_else,
    interventions_and_resident_input_are_listed_per_area_and_theme,
    the_budget_sums_by_funder_pillar_and_year,
    a_decision_shows_every_consequence_that_cites_it,
    the_rijk_sees_its_commitments_across_programmes_as_of_a_date,
    a_target_history_says_when_and_under_which_role_and_only_auditors_see_who,
);
