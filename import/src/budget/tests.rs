use std::sync::Arc;

use cqrs_es::test::TestFramework;
use domain::alliance::Alliance;
use domain::budget::Funder;
use domain::decision::Decision;
use domain::ids::{AreaId, DecisionId, PillarId};
use domain::period::YearRange;
use domain::programme::{Pillar, Programme, ProgrammeState};
use domain::reference::{LedgerServices, Lookup, LookupError};

use super::*;
use crate::layout::Change;
use crate::testing::{date, found, programme, uuid_of};

/// The test programme with two pillars.
fn programme_with_pillars() -> ProgrammeState {
    let mut state = programme();
    for (number, (id, name)) in [
        ("gezond-en-samen-leven", "Gezond en samen leven"),
        ("leren-en-ontwikkelen", "Leren en ontwikkelen"),
    ]
    .into_iter()
    .enumerate()
    {
        let id = PillarId::parse(id).expect("slug");
        state.pillars.insert(
            id.clone(),
            Pillar {
                id,
                number: u8::try_from(number + 1).expect("small"),
                name: name.into(),
                ambition: String::new(),
                themes: Vec::new(),
                koppelkansen: Vec::new(),
            },
        );
    }
    state
}

fn fund_id() -> FundId {
    FundId::from_uuid(uuid_of(0xf0))
}

fn allocation_id(n: u128) -> AllocationId {
    AllocationId::from_uuid(uuid_of(0xa00 + n))
}

fn pillar(id: &str) -> AllocationTarget {
    AllocationTarget::Pillar(PillarId::parse(id).expect("slug"))
}

fn allocated(n: u128, target: AllocationTarget, year: i32, euros: i64) -> FundEvent {
    FundEvent::BudgetAllocated {
        allocation_id: allocation_id(n),
        target,
        year,
        amount: Cents::euros(euros),
        decision: DecisionId::from_uuid(uuid_of(0xd1)),
    }
}

/// "Schoolfonds" of Dordt West, 2024-2027, with allocations: 1 and 2 for the pillar Leren
/// en ontwikkelen in 2024 and 2025, 3 for the area Crabbehof in 2024, and 4 and 5 both for
/// the pillar Gezond en samen leven in 2024.
fn fund_events() -> Vec<FundEvent> {
    vec![
        FundEvent::FundRegistered {
            fund_id: fund_id(),
            programme_id: ProgrammeId::parse("dordt-west").expect("slug"),
            funder: Funder::Gemeente,
            funder_name: "Gemeente Dordrecht".into(),
            name: "Schoolfonds".into(),
            amount: Cents::euros(1_000_000),
            period: YearRange::new(2024, 2027).expect("range"),
            decision: DecisionId::from_uuid(uuid_of(0xd1)),
            programme_period: YearRange::new(2023, 2043).expect("range"),
        },
        allocated(1, pillar("leren-en-ontwikkelen"), 2024, 100_000),
        allocated(2, pillar("leren-en-ontwikkelen"), 2025, 100_000),
        allocated(
            3,
            AllocationTarget::Area(AreaId::parse("crabbehof").expect("slug")),
            2024,
            50_000,
        ),
        allocated(4, pillar("gezond-en-samen-leven"), 2024, 10_000),
        allocated(5, pillar("gezond-en-samen-leven"), 2024, 10_000),
    ]
}

fn options() -> Options {
    Options::default()
}

fn file(text: &str, options: Options) -> Result<BudgetFile, Vec<Problem>> {
    BudgetFile::new(Table::read_csv(text.as_bytes()).expect("a table"), options)
}

fn check_on(
    text: &str,
    options: Options,
    fund: &RecordedFund,
) -> Result<Vec<BudgetRow>, Vec<Problem>> {
    let programme = programme_with_pillars();
    let reference = Reference::new([&programme]).with_funds([fund]);
    file(text, options)?.check(&reference)
}

fn check(text: &str, options: Options) -> Result<Vec<BudgetRow>, Vec<Problem>> {
    check_on(text, options, &RecordedFund::from_events(fund_events()))
}

fn plan_on(text: &str, fund: &RecordedFund) -> Result<PlanOf<BudgetFile>, Vec<Problem>> {
    let programme = programme_with_pillars();
    let reference = Reference::new([&programme]).with_funds([fund]);
    let file = file(text, options())?;
    let rows = file.check(&reference)?;
    file.plan(rows, |row| fund.state().filter(|s| s.id == row.fund_id))
}

/// A ledger that holds nothing but the fund: committing and spending read nothing else.
struct NothingElse;

#[async_trait::async_trait]
impl Lookup for NothingElse {
    async fn programme(&self, _: &ProgrammeId) -> Result<Programme, LookupError> {
        Ok(Programme::default())
    }
    async fn alliance(&self, _: &ProgrammeId) -> Result<Alliance, LookupError> {
        Ok(Alliance::default())
    }
    async fn decision(&self, _: DecisionId) -> Result<Decision, LookupError> {
        Ok(Decision::default())
    }
}

/// Records a plan's commands on the fund through the fund's own rules, in order, as the
/// command bus would; the events are applied to `fund`.
fn record(plan: &PlanOf<BudgetFile>, events: &mut Vec<FundEvent>, fund: &mut RecordedFund) {
    let services = LedgerServices::new(Arc::new(NothingElse));
    for planned in &plan.rows {
        let Some(command) = planned.command.clone() else {
            continue;
        };
        let recorded = TestFramework::<Fund>::with(services.clone())
            .given(events.clone())
            .when(command)
            .inspect_result()
            .unwrap_or_else(|e| panic!("line {}: {e} [{}]", planned.row.line, e.rule()));
        for event in recorded {
            fund.apply(event.clone());
            events.push(event);
        }
    }
}

const GOOD: &str = "\u{feff}programma;fonds;pijler;gebied;begrotingsjaar;toekenning;soort;bedrag;omschrijving;datum;kenmerk
dordt-west;Schoolfonds;Leren en ontwikkelen;;2024;;verplichting;€ 12.500,00;Opdracht taalondersteuning;15-01-2024;INK-001
dordt-west;schoolfonds;leren-en-ontwikkelen;;2024;;Uitgave;4.250,5;Factuur taalondersteuning;2024-02-28;FAC-17
dordt-west;SCHOOLFONDS;;WK050512;2024;;verplichting;7500;Huur buurtlokaal;01-03-2024;
dordt-west;00000000-0000-0000-0000-0000000000f0;;;;00000000-0000-0000-0000-000000000a02;uitgave;99,95;Boeken schoolbibliotheek;01-03-2025;FAC-18
";

#[test]
fn a_finance_export_reads_into_lines_on_the_allocations_it_names() {
    let rows = check(GOOD, options()).expect("all rows good");
    let summary: Vec<(usize, AllocationId, LineKind, i64, Option<&str>)> = rows
        .iter()
        .map(|r| {
            (
                r.line,
                r.allocation_id,
                r.kind,
                r.amount.cents(),
                r.reference.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                2,
                allocation_id(1),
                LineKind::Commitment,
                1_250_000,
                Some("INK-001")
            ),
            (
                3,
                allocation_id(1),
                LineKind::Expenditure,
                425_050,
                Some("FAC-17")
            ),
            (4, allocation_id(3), LineKind::Commitment, 750_000, None),
            (
                5,
                allocation_id(2),
                LineKind::Expenditure,
                9_995,
                Some("FAC-18")
            ),
        ]
    );
    assert_eq!(rows[0].date, date(2024, 1, 15));
    assert_eq!(rows[0].description, "Opdracht taalondersteuning");
    assert!(rows.iter().all(|r| r.fund_id == fund_id() && !r.recorded));

    // The line id follows from fund, kind and reference alone, so another export of the
    // same line (another amount, date or description) names the same line.
    assert_eq!(
        rows[0].line_id,
        line_id(
            fund_id(),
            LineKind::Commitment,
            &LineIdentity::Reference("INK-001")
        )
    );
    assert_ne!(
        rows[0].line_id,
        line_id(
            fund_id(),
            LineKind::Expenditure,
            &LineIdentity::Reference("INK-001")
        ),
        "a commitment and the invoice that cites its order number are two lines"
    );
    let again = check(GOOD, options()).expect("all rows good");
    assert_eq!(
        again.iter().map(|r| r.line_id).collect::<Vec<_>>(),
        rows.iter().map(|r| r.line_id).collect::<Vec<_>>()
    );
}

#[test]
fn every_bad_row_is_reported_with_its_line_column_and_rule() {
    let text = "programme,fund,allocation,pillar,area,year,kind,amount,description,date,reference
dordt-west,Schoolfonds,,leren-en-ontwikkelen,,2024,verplichting,100.00,Goed,2024-01-15,K-1
dordt-west,Bouwfonds,,leren-en-ontwikkelen,,2024,verplichting,100.00,Onbekend fonds,2024-01-15,K-2
dordt-west,Schoolfonds,,Sport,,2024,verplichting,100.00,Onbekende pijler,2024-01-15,K-3
dordt-west,Schoolfonds,,leren-en-ontwikkelen,,2026,verplichting,100.00,Geen toekenning,2024-01-15,K-4
dordt-west,Schoolfonds,,gezond-en-samen-leven,,2024,verplichting,100.00,Twee toekenningen,2024-01-15,K-5
dordt-west,Schoolfonds,,leren-en-ontwikkelen,,2024,verplichting,\"1,250\",Dubbelzinnig,2024-01-15,K-6
dordt-west,Schoolfonds,,leren-en-ontwikkelen,,2024,uitgave,-50.00,Creditnota,2024-01-15,K-7
dordt-west,Schoolfonds,,leren-en-ontwikkelen,,2024,voorschot,50.00,Onbekende soort,2024-01-15,K-8
dordt-west,Schoolfonds,,leren-en-ontwikkelen,,2024,uitgave,50.00,Te vroeg,2022-12-31,K-9
dordt-west,Schoolfonds,toekenning-1,,,,uitgave,50.00,Geen uuid,2024-01-15,K-10
dordt-west,Schoolfonds,00000000-0000-0000-0000-000000000a01,,crabbehof,,uitgave,50.00,Ander doel,2024-01-15,K-11
dordt-west,Schoolfonds,,leren-en-ontwikkelen,crabbehof,2024,uitgave,50.00,Twee doelen,2024-01-15,K-12
dordt-west,Schoolfonds,,leren-en-ontwikkelen,,2025,verplichting,100.00,Zelfde kenmerk,2024-01-15,K-1
dordt-west,Schoolfonds,,leren-en-ontwikkelen,,,uitgave,50.00,,2024-01-15,K-13
dordt-west,Schoolfonds,,,,,uitgave,50.00,Geen toekenning,2024-01-15,K-14
";
    let problems = check(text, options()).expect_err("refused");
    assert_eq!(
        found(&problems),
        [
            (3, Some("fund"), "reference.known_fund"),
            (4, Some("pillar"), "reference.known_pillar"),
            (5, None, "budget.known_allocation"),
            (6, None, "import.ambiguous"),
            (7, Some("amount"), "import.amount"),
            (8, Some("amount"), "budget.positive_amount"),
            (9, Some("kind"), "import.line_kind"),
            (10, Some("date"), "programme.period"),
            (11, Some("allocation"), "import.allocation_id"),
            (12, Some("area"), "import.allocation_mismatch"),
            (13, None, "import.allocation_target"),
            (14, None, "import.duplicate_row"),
            (15, Some("year"), "import.required"),
            (15, Some("description"), "import.required"),
            (16, None, "import.required"),
        ]
    );
    assert!(
        problems[4].message.contains("ambiguous"),
        "{}",
        problems[4].message
    );
    assert!(
        problems[3].message.contains("2 allocations"),
        "{}",
        problems[3].message
    );
    assert_eq!(
        problems[11].to_string(),
        "line 14: line 2 has the commitment \"K-1\" of this fund already [import.duplicate_row]"
    );
}

#[test]
fn amounts_in_both_conventions_in_one_file_are_refused_where_they_differ() {
    let text = "programme;fund;pillar;year;kind;amount;description;date
dordt-west;Schoolfonds;leren-en-ontwikkelen;2024;verplichting;1.250,00;Een;2024-01-15
dordt-west;Schoolfonds;leren-en-ontwikkelen;2024;verplichting;2.500.000;Twee;2024-01-15
dordt-west;Schoolfonds;leren-en-ontwikkelen;2024;verplichting;1,250.00;Drie;2024-01-15
";
    let problems = check(text, options()).expect_err("refused");
    assert_eq!(
        found(&problems),
        [(4, Some("amount"), "import.decimal_mark")]
    );
}

#[test]
fn the_options_fill_programme_and_fund_and_an_unknown_fund_option_is_refused_once() {
    let text = "pijler;jaar;soort;bedrag;omschrijving;datum
Leren en ontwikkelen;2024;uitgave;10,00;Een;2024-01-15
Leren en ontwikkelen;2025;uitgave;20,00;Twee;2024-01-15
";
    let options = Options {
        programme: Some(ProgrammeId::parse("dordt-west").expect("slug")),
        fund: Some("Schoolfonds".into()),
    };
    let rows = check(text, options.clone()).expect("good rows");
    assert_eq!(
        rows.iter().map(|r| r.allocation_id).collect::<Vec<_>>(),
        [allocation_id(1), allocation_id(2)]
    );

    let unknown = Options {
        fund: Some("Bouwfonds".into()),
        ..options
    };
    let problems = check(text, unknown).expect_err("refused");
    assert_eq!(found(&problems), [(1, None, "reference.known_fund")]);
}

#[test]
fn a_header_that_cannot_name_an_allocation_is_refused_before_any_row() {
    let text = "programme;fund;pillar;kind;amount;description;date
dordt-west;Schoolfonds;leren-en-ontwikkelen;uitgave;10,00;Een;2024-01-15
";
    let problems = file(text, options()).expect_err("refused");
    assert_eq!(found(&problems), [(1, None, "import.column_missing")]);

    let problems = file(
        "programme;allocation;kind;amount;description;date\n",
        options(),
    )
    .expect_err("refused");
    assert_eq!(
        found(&problems),
        [(1, None, "import.column_missing")],
        "the fund is required without --fund"
    );
}

#[test]
fn new_lines_become_commands_the_fund_accepts_and_a_second_import_records_nothing() {
    let mut events = fund_events();
    let mut fund = RecordedFund::from_events(events.clone());
    let text = GOOD;
    let plan = plan_on(text, &fund).expect("a plan");
    assert_eq!(
        (plan.new_rows(), plan.changed_rows(), plan.unchanged_rows()),
        (4, 0, 0)
    );
    assert!(matches!(
        plan.rows[0].command,
        Some(FundCommand::Commit(CommitBudget { amount, .. })) if amount == Cents::new(1_250_000)
    ));
    assert!(matches!(
        plan.rows[1].command,
        Some(FundCommand::RecordExpenditure(_))
    ));
    for row in &plan.rows {
        assert!(
            row.idempotency_key
                .starts_with(&format!("import/budget/{}/0/", fund_id())),
            "{}",
            row.idempotency_key
        );
    }
    assert_eq!(
        plan_on(text, &fund).expect("a plan"),
        plan,
        "the same file plans alike"
    );

    record(&plan, &mut events, &mut fund);
    let state = fund.state().expect("registered");
    let first = &state.allocations[&allocation_id(1)];
    assert_eq!(
        (first.committed, first.spent),
        (Cents::new(1_250_000), Cents::new(425_050))
    );
    assert_eq!(fund.lines.len(), 4);

    let again = plan_on(text, &fund).expect("a plan");
    assert_eq!(
        (
            again.new_rows(),
            again.changed_rows(),
            again.unchanged_rows()
        ),
        (0, 0, 4)
    );
    assert!(again.rows.iter().all(|r| r.command.is_none()));

    // Another export of the recorded lines, with other descriptions and dates, records
    // nothing either: a line is its fund, kind and reference.
    let reworded = text
        .replace(
            "Opdracht taalondersteuning",
            "Opdracht taalondersteuning (aangepast)",
        )
        .replace("2024-02-28", "2024-03-01");
    let reworded = plan_on(&reworded, &fund).expect("a plan");
    assert_eq!(reworded.unchanged_rows(), 4);
}

#[test]
fn a_recorded_line_with_another_amount_or_allocation_is_refused_as_final() {
    let mut events = fund_events();
    let mut fund = RecordedFund::from_events(events.clone());
    let text = GOOD;
    let plan = plan_on(text, &fund).expect("a plan");
    record(&plan, &mut events, &mut fund);

    let changed = text
        .replace("€ 12.500,00", "12.600,00")
        .replace(";2024;;Uitgave", ";2025;;Uitgave");
    let problems = plan_on(&changed, &fund).expect_err("refused");
    assert_eq!(
        found(&problems),
        [
            (2, Some("bedrag"), "budget_line.final"),
            (3, Some("bedrag"), "budget_line.final"),
        ]
    );
    assert!(
        problems[0].message.contains("commitment 12500.00"),
        "{}",
        problems[0].message
    );

    // Without a reference a row is its content: a changed amount is another line.
    let unreferenced = text.replace(";7500;", ";7600;");
    let plan = plan_on(&unreferenced, &fund).expect("a plan");
    assert_eq!((plan.new_rows(), plan.unchanged_rows()), (1, 3));
}

#[test]
fn rows_that_together_overdraw_an_allocation_are_refused_as_the_fund_would() {
    let fund = RecordedFund::from_events(fund_events());
    // Allocation 1 holds 100,000: two commitments of 60,000 exceed it; so does an
    // expenditure of 100,000.01 (expenditures are checked against what is unspent).
    let text = "programme;fund;pillar;year;kind;amount;description;date;reference
dordt-west;Schoolfonds;leren-en-ontwikkelen;2024;verplichting;60.000,00;Een;2024-01-15;V-1
dordt-west;Schoolfonds;leren-en-ontwikkelen;2024;uitgave;100.000,00;Alles;2024-01-15;U-1
dordt-west;Schoolfonds;leren-en-ontwikkelen;2024;verplichting;60.000,00;Twee;2024-01-15;V-2
dordt-west;Schoolfonds;leren-en-ontwikkelen;2024;uitgave;0,01;Een cent te veel;2024-01-15;U-2
dordt-west;Schoolfonds;leren-en-ontwikkelen;2024;verplichting;40.000,00;Past precies;2024-01-15;V-3
";
    let problems = plan_on(text, &fund).expect_err("refused");
    assert_eq!(
        found(&problems),
        [
            (4, Some("amount"), "budget.committed_within_allocation"),
            (5, Some("amount"), "budget.within_allocation"),
        ]
    );
    assert_eq!(
        problems[0].message,
        "commitments never exceed their allocation; 40000.00 of the allocation is \
         uncommitted, so 60000.00 cannot be committed"
    );

    // Without the refused rows the rest fits exactly, and the fund's own rules agree.
    let fitting: String = text
        .lines()
        .filter(|l| !l.ends_with("V-2") && !l.ends_with("U-2"))
        .map(|l| format!("{l}\n"))
        .collect();
    let plan = plan_on(&fitting, &fund).expect("a plan");
    let mut events = fund_events();
    let mut recorded = fund.clone();
    record(&plan, &mut events, &mut recorded);
    let allocation = &recorded.state().expect("registered").allocations[&allocation_id(1)];
    assert_eq!(
        (allocation.uncommitted(), allocation.unspent()),
        (Cents::ZERO, Cents::ZERO)
    );

    // And the fund refuses what the plan refused: one more cent after all that.
    let services = LedgerServices::new(Arc::new(NothingElse));
    let refused = TestFramework::<Fund>::with(services)
        .given(events)
        .when(FundCommand::RecordExpenditure(RecordExpenditure {
            line_id: BudgetLineId::from_uuid(uuid_of(0xbad)),
            allocation_id: allocation_id(1),
            amount: Cents::new(1),
            description: "Een cent te veel".into(),
            date: date(2024, 1, 15),
        }))
        .inspect_result()
        .expect_err("refused");
    assert_eq!(refused.rule(), "budget.within_allocation");
}

#[test]
fn the_sample_file_records_its_lines_on_a_fund_shaped_like_the_demo() {
    // The demo's fund and allocations, with the ids the demo derives from their names.
    let demo_id = |name: &str| {
        Uuid::new_v5(
            &Uuid::NAMESPACE_URL,
            format!("alliance-ledger:demo:{name}").as_bytes(),
        )
    };
    let fund_id = FundId::from_uuid(demo_id("fund/elf-scholen"));
    let mut events = vec![FundEvent::FundRegistered {
        fund_id,
        programme_id: ProgrammeId::parse("dordt-west").expect("slug"),
        funder: Funder::Gemeente,
        funder_name: "Gemeente Dordrecht".into(),
        name: "Extra middelen elf scholen (kansengelijkheid)".into(),
        amount: Cents::euros(27_500_000),
        period: YearRange::new(2023, 2032).expect("range"),
        decision: DecisionId::from_uuid(uuid_of(0xd1)),
        programme_period: YearRange::new(2023, 2043).expect("range"),
    }];
    for year in 2023..=2032 {
        events.push(FundEvent::BudgetAllocated {
            allocation_id: AllocationId::from_uuid(demo_id(&format!(
                "allocation/elf-scholen/{year}"
            ))),
            target: pillar("leren-en-ontwikkelen"),
            year,
            amount: Cents::euros(2_750_000),
            decision: DecisionId::from_uuid(uuid_of(0xd1)),
        });
    }
    let mut fund = RecordedFund::from_events(events.clone());
    let text = include_str!("../../../docs/examples/budget-lines.csv");
    let plan = plan_on(text, &fund).expect("a plan");
    assert_eq!(plan.new_rows(), 6);
    record(&plan, &mut events, &mut fund);
    let state = fund.state().expect("registered");
    let committed = Cents::sum(state.allocations.values().map(|a| &a.committed));
    assert_eq!(
        committed,
        Some(Cents::euros(1_250_000 + 85_000 + 1_375_000))
    );
    assert_eq!(
        state.spent(),
        Cents::new((312_500 + 42_350 + 343_750) * 100 + 75)
    );
    assert_eq!(plan_on(text, &fund).expect("a plan").unchanged_rows(), 6);
    assert!(plan.rows.iter().all(|r| r.change == Change::New));
}
