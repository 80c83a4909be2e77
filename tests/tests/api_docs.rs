//! Every worked example of `docs/api.md`, run in the document's order against the Dordt West
//! demo over real HTTP, each with the role its block declares.
//!
//! The conventions are those the document states: a ```` ```graphql ```` block starts with
//! `# role: secretary|rijk|auditor|public`, may have a `# variables: {...}` line, and a
//! variable written `{{path}}` stands for that field of the latest earlier answer that has it
//! (`{{now}}`: the current time). The tokens are the ones the document's `token create` lines
//! make. Other blocks (```` ```sh ````, ```` ```json ````, ```` ```graphql-subscription ````)
//! are not run.

use std::collections::{BTreeMap, BTreeSet};

use domain::access::Role;
use serde_json::{json, Value};
use tests::{Backend, GraphqlClient, TestDb, TestServer};

const DOCUMENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/api.md");

/// The roles the document must show, and the fewest examples it may have.
const ROLES: [&str; 4] = ["secretary", "rijk", "auditor", "public"];
const AT_LEAST: usize = 20;

/// One ```` ```graphql ```` block of the document.
#[derive(Debug)]
struct Example {
    /// The heading the block stands under, and its first line in the file: for messages.
    heading: String,
    line: usize,
    role: String,
    variables: Value,
    query: String,
}

impl Example {
    fn name(&self) -> String {
        format!(
            "the example at docs/api.md:{} under \"{}\"",
            self.line, self.heading
        )
    }
}

/// The document's ```` ```graphql ```` blocks, in order.
fn examples(markdown: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut heading = String::from("(before the first heading)");
    let mut open: Option<(String, usize, Vec<&str>)> = None;
    for (index, line) in markdown.lines().enumerate() {
        let number = index + 1;
        match open.take() {
            None => {
                if let Some(info) = line.trim_start().strip_prefix("```") {
                    open = Some((info.trim().to_owned(), number, Vec::new()));
                } else if line.starts_with('#') {
                    heading = line.trim_start_matches('#').trim().to_owned();
                }
            }
            Some((info, start, lines)) if line.trim() == "```" => {
                if info == "graphql" {
                    out.push(example(&heading, start, &lines));
                }
            }
            Some((info, start, mut lines)) => {
                lines.push(line);
                open = Some((info, start, lines));
            }
        }
    }
    assert!(open.is_none(), "docs/api.md ends inside a code block");
    out
}

fn example(heading: &str, line: usize, lines: &[&str]) -> Example {
    let named =
        |what: &str| format!("the example at docs/api.md:{line} under \"{heading}\" {what}");
    let role = lines
        .first()
        .and_then(|l| l.trim().strip_prefix("# role:"))
        .map(|r| r.trim().to_owned())
        .unwrap_or_else(|| panic!("{}", named("does not start with `# role: ...`")));
    assert!(
        ROLES.contains(&role.as_str()),
        "{}",
        named(&format!("has the unknown role {role:?}"))
    );
    let variables = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("# variables:"))
        .map_or(json!({}), |v| {
            serde_json::from_str(v.trim()).unwrap_or_else(|e| {
                panic!(
                    "{}",
                    named(&format!("has variables that are not JSON: {e}"))
                )
            })
        });
    let query = lines.join("\n");
    assert!(
        !query
            .trim_start_matches(|c: char| c.is_whitespace())
            .is_empty(),
        "{}",
        named("is empty")
    );
    Example {
        heading: heading.to_owned(),
        line,
        role,
        variables,
        query,
    }
}

/// The document's `alliance-ledger token create --actor "..." --role ... --organisation "..."`
/// lines: the role with the actor and organisation of its token.
fn tokens(markdown: &str) -> BTreeMap<String, (String, Option<String>)> {
    fn quoted<'a>(line: &'a str, flag: &str) -> Option<&'a str> {
        let rest = &line[line.find(flag)? + flag.len()..];
        let rest = rest.trim_start().strip_prefix('"')?;
        Some(&rest[..rest.find('"')?])
    }
    markdown
        .lines()
        .filter(|l| l.contains("token create") && l.contains("--actor"))
        .map(|line| {
            let actor = quoted(line, "--actor").expect("a token line names its --actor");
            let role = line
                .split_whitespace()
                .skip_while(|w| *w != "--role")
                .nth(1)
                .expect("a token line names its --role");
            let organisation = quoted(line, "--organisation").map(str::to_owned);
            (role.to_owned(), (actor.to_owned(), organisation))
        })
        .collect()
}

/// The value at a dotted path (`events.4.position`) in an answer's data.
fn at_path<'a>(data: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(data, |value, step| match step.parse::<usize>() {
            Ok(index) => value.get(index),
            Err(_) => value.get(step),
        })
        .filter(|v| !v.is_null())
}

/// The variables with every `{{path}}` replaced by that field of the latest earlier answer.
fn fill_in(value: &Value, answers: &[Value], example: &Example) -> Value {
    match value {
        Value::String(text) => match text.strip_prefix("{{").and_then(|t| t.strip_suffix("}}")) {
            Some("now") => json!(chrono::Utc::now().to_rfc3339()),
            Some(path) => answers
                .iter()
                .rev()
                .find_map(|data| at_path(data, path))
                .cloned()
                .unwrap_or_else(|| {
                    panic!(
                        "{}: no answer above has {path:?} for its variable",
                        example.name()
                    )
                }),
            None => value.clone(),
        },
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), fill_in(v, answers, example)))
                .collect(),
        ),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| fill_in(v, answers, example)).collect())
        }
        other => other.clone(),
    }
}

/// Whether an answer to one field says nothing: null, an empty list, or a connection without
/// items.
fn says_nothing(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => ["nodes", "edges"]
            .iter()
            .any(|list| map.get(*list).is_some_and(says_nothing)),
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_example_in_the_api_document_answers_on_the_demo_ledger() {
    let markdown = std::fs::read_to_string(DOCUMENT).expect("read docs/api.md");
    let examples = examples(&markdown);
    let tokens = tokens(&markdown);

    let t = TestDb::new(Backend::Sqlite).await;
    alliance_ledger::demo::record_demo(&t.db)
        .await
        .expect("record the demo");
    let server = TestServer::start_public(&t).await;
    let mut clients: BTreeMap<&str, GraphqlClient> = BTreeMap::new();
    clients.insert("public", server.client());
    for role in ["secretary", "rijk", "auditor"] {
        let (actor, organisation) = tokens
            .get(role)
            .unwrap_or_else(|| panic!("docs/api.md shows no `token create` for the {role} role"));
        let parsed: Role = role.parse().expect("a role");
        let secret = t.token(actor, parsed, organisation.as_deref()).await;
        clients.insert(role, server.client().with_token(&secret));
    }

    let mut answers: Vec<Value> = Vec::new();
    let mut roles_run = BTreeSet::new();
    let mut mutations = 0;
    for example in &examples {
        let variables = fill_in(&example.variables, &answers, example);
        let reply = clients[example.role.as_str()]
            .query(&example.query, variables)
            .await;
        assert!(
            reply.status == 200 && reply.errors().is_empty(),
            "{} failed as {}: {} {}",
            example.name(),
            example.role,
            reply.status,
            reply.body
        );
        let data = reply.data().clone();
        let fields = data.as_object().cloned().unwrap_or_default();
        assert!(
            !fields.is_empty(),
            "{} answered no data: {}",
            example.name(),
            reply.body
        );
        for (field, value) in &fields {
            assert!(
                !says_nothing(value),
                "{} answered nothing for `{field}`: {}",
                example.name(),
                reply.body
            );
        }
        roles_run.insert(example.role.clone());
        if example
            .query
            .lines()
            .any(|l| l.trim_start().starts_with("mutation"))
        {
            mutations += 1;
        }
        answers.push(data);
    }

    assert!(
        examples.len() >= AT_LEAST,
        "docs/api.md has {} examples; it should show at least {AT_LEAST}",
        examples.len()
    );
    assert_eq!(
        roles_run,
        ROLES.iter().map(|r| (*r).to_owned()).collect(),
        "every role has examples"
    );
    assert!(
        mutations >= 5,
        "the secretary's examples record ({mutations} mutations)"
    );
    server.stop().await;
}

#[test]
fn the_conventions_are_read_as_the_document_states_them() {
    let markdown = "# Title\n\n## Auditor\n\n```sh\n# not a heading\n```\n\n```graphql\n# role: auditor\n# variables: {\"after\": \"{{events.1.position}}\"}\nquery($after: Int) { events(after: $after) { position } }\n```\n\n```graphql-subscription\nsubscription { eventRecorded { position } }\n```\n\nalliance-ledger token create --actor \"Ahmed El Amrani\" --role auditor --organisation \"Rekenkamer Dordrecht\"\n";
    let found = examples(markdown);
    assert_eq!(found.len(), 1, "only ```graphql blocks run");
    assert_eq!(
        found[0].heading, "Auditor",
        "a # line inside a code block is no heading"
    );
    assert_eq!(found[0].role, "auditor");
    assert_eq!(found[0].line, 9);
    let answers = vec![json!({ "events": [{ "position": 7 }, { "position": 8 }] })];
    assert_eq!(
        fill_in(&found[0].variables, &answers, &found[0]),
        json!({ "after": 8 })
    );
    assert_eq!(
        tokens(markdown).get("auditor"),
        Some(&(
            "Ahmed El Amrani".to_owned(),
            Some("Rekenkamer Dordrecht".to_owned())
        ))
    );
    assert!(says_nothing(
        &json!({ "nodes": [], "pageInfo": { "hasNextPage": false } })
    ));
    assert!(says_nothing(&Value::Null));
    assert!(!says_nothing(&json!({ "allocated": "0.00" })));
}
