//! The Dordt West demo ledger, built through the command path and read back over HTTP.

use serde_json::{json, Value};
use tests::{on_both_backends, TestDb, TestServer};

const PROGRAMME: &str = "query {
  programme(id: \"dordt-west\") {
    name municipalityCode nationalProgramme period { first last } ambition centralGoal
    subgoals actionLines opgaven uitgangspunten ingredients
    areas { id name kind parent cbsCode }
    pillars { number name themes { name } koppelkansen { name owner } indicators { name source direction } }
    executionProgrammes { id period { first last } areas phase decisionId }
  }
  alliance(programmeId: \"dordt-west\") { chair adoptionRule members { id sector } meetings { date present } }
}";

/// The indicators of the document, per pillar, with their sources, in the document's order.
fn document_indicators() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    vec![
        (
            "Gezond en samen leven",
            vec![
                ("(Zeer) ernstig eenzaam", "RIVM"),
                ("Ernstig overgewicht", "RIVM"),
                ("Goed ervaren gezondheid", "RIVM"),
                ("Wekelijkse sporters", "RIVM"),
                ("Vrijwilligerswerk", "RIVM"),
            ],
        ),
        (
            "Wonen en fysieke leefomgeving",
            vec![
                ("Leefbaarometer wonen", "Leefbaarometer"),
                ("Gem. WOZ waarde", "CBS"),
                ("Energielabels E-G", "RVO"),
            ],
        ),
        (
            "Leren en ontwikkelen",
            vec![
                ("Verwachte onderwijsachterstand", "CBS"),
                (
                    "18 t/m 30 jarigen zonder startkwalificatie",
                    "KIS Wijkmonitor",
                ),
                ("Onder advisering", "DUO"),
            ],
        ),
        (
            "Werk en inkomen",
            vec![
                ("SES-WOA score", "CBS"),
                ("Arbeidsparticipatie", "CBS"),
                ("Persoonlijk inkomen", "CBS"),
                ("Bijstand", "CBS"),
                ("WW- uitkering", "CBS"),
                ("Huishoudens onder of rond sociaal minimum", "CBS"),
            ],
        ),
        (
            "Leefbaar en veilig",
            vec![
                ("Totaal aantal misdrijven", "Politie"),
                ("Risicoscore jonge aanwas", "Zicht op ondermijning"),
                ("Leefbaarometer veiligheid", "Leefbaarometer"),
                ("Sociale overlast", "Veiligheidsmonitor"),
                ("Onveiligheidsgevoelens in de buurt", "Veiligheidsmonitor"),
            ],
        ),
    ]
}

fn names(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|v| v[field].as_str().expect("text").to_owned())
        .collect()
}

async fn the_demo_holds_the_programme_of_the_document(t: TestDb) {
    let first = alliance_ledger::demo::record_demo(&t.db)
        .await
        .expect("record the demo");
    assert!(first.recorded > 80, "{first:?}");
    assert_eq!(first.skipped, 0);
    let head = t.db.head().await.expect("head");

    let again = alliance_ledger::demo::record_demo(&t.db)
        .await
        .expect("record it again");
    assert_eq!(
        again.recorded, 0,
        "running it twice adds nothing the second time"
    );
    assert_eq!(again.skipped, first.recorded);
    assert_eq!(t.db.head().await.expect("head"), head);

    let server = TestServer::start(&t).await;
    let reader = server.client().with_token(
        &t.token("Rijksvertegenwoordiger", domain::access::Role::Rijk, None)
            .await,
    );
    let data = reader.query(PROGRAMME, json!({})).await.expect_ok();
    let p = &data["programme"];
    assert_eq!(p["name"], "Nationaal Programma Dordt West");
    assert_eq!(p["municipalityCode"], "GM0505");
    assert_eq!(p["period"], json!({"first": 2023, "last": 2043}));
    assert!(p["ambition"]
        .as_str()
        .is_some_and(|a| a.contains("naar het Dordts gemiddelde")));
    assert_eq!(p["subgoals"].as_array().map(Vec::len), Some(3));
    assert_eq!(p["actionLines"].as_array().map(Vec::len), Some(4));
    assert_eq!(p["opgaven"].as_array().map(Vec::len), Some(4));
    assert_eq!(p["uitgangspunten"].as_array().map(Vec::len), Some(8));
    assert_eq!(p["ingredients"].as_array().map(Vec::len), Some(6));

    let wijken: Vec<&Value> = p["areas"]
        .as_array()
        .expect("areas")
        .iter()
        .filter(|a| a["kind"] == "WIJK")
        .collect();
    let wijk_names: Vec<&str> = wijken.iter().filter_map(|a| a["name"].as_str()).collect();
    assert_eq!(
        wijk_names,
        vec!["Oud-Krispijn", "Nieuw-Krispijn", "Wielwijk", "Crabbehof"]
    );
    assert!(wijken.iter().all(|w| w["parent"] == "dordt-west"));
    let comparators: Vec<(&str, &str)> = p["areas"]
        .as_array()
        .expect("areas")
        .iter()
        .filter(|a| a["kind"] == "GEMEENTE" || a["kind"] == "LAND")
        .map(|a| {
            (
                a["name"].as_str().unwrap_or(""),
                a["cbsCode"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        comparators,
        vec![("Nederland", "NL01"), ("Dordrecht", "GM0505")]
    );

    let pillars = p["pillars"].as_array().expect("pillars");
    assert_eq!(pillars.len(), 5);
    for (pillar, (name, indicators)) in pillars.iter().zip(document_indicators()) {
        assert_eq!(pillar["name"], name);
        let got: Vec<(String, String)> = pillar["indicators"]
            .as_array()
            .expect("indicators")
            .iter()
            .map(|i| {
                (
                    i["name"].as_str().unwrap_or("").to_owned(),
                    i["source"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        let want: Vec<(String, String)> = indicators
            .iter()
            .map(|(n, s)| ((*n).to_owned(), (*s).to_owned()))
            .collect();
        assert_eq!(got, want, "indicators of {name}");
    }
    assert!(
        names(&pillars[1]["koppelkansen"], "name").contains(&"Volkshuisvestingsfonds".to_owned())
    );
    assert_eq!(pillars[0]["themes"].as_array().map(Vec::len), Some(4));

    let ep = &p["executionProgrammes"][0];
    assert_eq!(ep["phase"], "EXECUTE");
    assert_eq!(ep["areas"].as_array().map(Vec::len), Some(4));
    let decision = reader
        .query(
            "query($id: ID!) { decision(id: $id) { title status meeting { date } } }",
            json!({ "id": ep["decisionId"] }),
        )
        .await
        .expect_ok();
    assert_eq!(decision["decision"]["status"], "ADOPTED");
    assert!(decision["decision"]["meeting"]["date"]
        .as_str()
        .is_some_and(|d| d.starts_with("2023-0") && d >= "2023-07-01"));

    let alliance = &data["alliance"];
    assert_eq!(alliance["chair"], "gemeente-dordrecht");
    let sectors = names(&alliance["members"], "sector");
    for sector in [
        "GEMEENTE",
        "WONINGCORPORATIE",
        "PRIMAIR_ONDERWIJS",
        "VOORTGEZET_ONDERWIJS",
        "ONDERNEMERS",
        "SOCIAAL_WIJKTEAM",
        "POLITIE",
        "RIJK",
    ] {
        assert!(
            sectors.contains(&sector.to_owned()),
            "the alliance has a member for {sector}"
        );
    }
    server.stop().await;
}

on_both_backends!(the_demo_holds_the_programme_of_the_document);
