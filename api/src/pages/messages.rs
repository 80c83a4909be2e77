//! What a form says when it refuses a value, in the page's language.
//!
//! The API's messages are English. A Dutch page says them in Dutch, chosen by what the API
//! reports beside the message: the rule an error breaks (`extensions.rule`, the same name a
//! refused file's problems carry) or, for errors without one, its code. A rule without a
//! Dutch text here shows the API's own message, so a new rule is never silent. The pages' own
//! checks (a number, a date, a period, an amount, a choice made, before anything is sent) have
//! their messages in both languages. English pages show the API's messages as they are.

use super::i18n::Lang;
use super::GqlError;

/// What the page knows beside an error, to say it precisely: the programme's period
/// (`2023–2043`), and on the budget form what the chosen fund has left (`€ 400.000,00`).
#[derive(Default)]
pub(crate) struct Facts {
    pub(crate) period: Option<String>,
    pub(crate) fund_left: Option<String>,
}

/// An API error as the page shows it.
pub(crate) fn api_error(lang: Lang, error: &GqlError, facts: &Facts) -> String {
    if lang == Lang::En {
        return error.message.clone();
    }
    let dutch = match error.rule.as_deref() {
        Some(rule) => dutch_rule(rule),
        None => dutch_code(&error.code),
    };
    match dutch {
        Some(text) => fill(text, &error.message, facts),
        None => error.message.clone(),
    }
}

/// An import that stopped at a row while writing, as the page shows it: the row's error, and
/// that the rows before it were recorded and the rest not.
pub(crate) fn import_stopped(lang: Lang, error: &GqlError, line: u64, recorded: u64) -> String {
    match lang {
        Lang::En => error.message.clone(),
        Lang::Nl => {
            let cause = api_error(lang, error, &Facts::default());
            format!(
                "Regel {line}: {cause} De {recorded} regels ervoor zijn vastgelegd, deze en de \
                 regels erna niet; importeer het bestand opnieuw om de rest vast te leggen."
            )
        }
    }
}

/// The summary of a refused file: how many problems on how many lines, and that nothing was
/// recorded.
pub(crate) fn refused_summary(lang: Lang, file: &str, problems: usize, lines: usize) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    match lang {
        Lang::Nl => format!(
            "{file}: {} op {}. Er is niets vastgelegd: verbeter het bestand en importeer het \
             opnieuw.",
            plural(problems, "fout", "fouten"),
            plural(lines, "regel", "regels")
        ),
        Lang::En => format!(
            "{file}: {} on {}. Nothing was recorded: correct the file and import it again.",
            plural(problems, "error", "errors"),
            plural(lines, "line", "lines")
        ),
    }
}

/// One problem of a refused file as the page shows it: in Dutch where its rule has a text,
/// else the importer's message.
pub(crate) fn problem(lang: Lang, rule: &str, message: &str, facts: &Facts) -> String {
    match (lang, dutch_rule(rule)) {
        (Lang::Nl, Some(text)) => fill(text, message, facts),
        _ => message.to_owned(),
    }
}

/// A value the page refuses before sending it: the API reports a malformed scalar without
/// naming its field, so the page checks those itself, with the API's own parsers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Check {
    /// A required field left empty (or a required choice not made).
    Required,
    WholeNumber(String),
    Date(String),
    Decimal(String),
    /// Not an amount of euros; the parser's own (English) reason.
    Money(String, String),
    /// Not a period; the parser's own (English) reason.
    Period(String, String),
    /// A percentage outside 0 to 100.
    Percent(String),
    /// A target with both an absolute value and a comparator.
    ValueAndComparator,
    /// A target with neither an absolute value nor a comparator.
    NoValueNorComparator,
    /// A margin without a comparator.
    MarginWithoutComparator,
}

impl Check {
    pub(crate) fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::Nl => match self {
                Self::Required => "Vul dit in.".into(),
                Self::WholeNumber(text) => format!("{text:?} is geen geheel getal, zoals 2030."),
                Self::Date(text) => {
                    format!("{text:?} is geen datum; kies er een, of schrijf 2023-06-15.")
                }
                Self::Decimal(text) => format!(
                    "{text:?} is geen getal: schrijf cijfers met hoogstens één decimaalkomma, \
                     zoals 21,4."
                ),
                Self::Money(text, _) => format!(
                    "{text:?} is geen bedrag: schrijf euro's met hoogstens twee cijfers achter \
                     de komma en zonder punten, zoals 400000,00."
                ),
                Self::Period(text, _) => format!(
                    "{text:?} is geen periode: schrijf een jaar (2023), een kwartaal (2023-Q2), \
                     een maand (2023-06) of een dag (2023-06-15)."
                ),
                Self::Percent(text) => {
                    format!("{text:?} is geen percentage: geef een geheel getal van 0 tot 100.")
                }
                Self::ValueAndComparator => "Geef een streefwaarde of een vergelijkingsgebied \
                     (met een marge), niet allebei."
                    .into(),
                Self::NoValueNorComparator => "Geef een streefwaarde, of kies een \
                     vergelijkingsgebied (met een marge) dat de streefwaarde volgt."
                    .into(),
                Self::MarginWithoutComparator => "Een marge hoort bij een \
                     vergelijkingsgebied; een vaste streefwaarde heeft er geen."
                    .into(),
            },
            Lang::En => match self {
                Self::Required => "Fill this in.".into(),
                Self::WholeNumber(text) => format!("{text:?} is not a whole number, e.g. 2030."),
                Self::Date(text) => {
                    format!("{text:?} is not a date; pick one, or write it as 2023-06-15.")
                }
                Self::Decimal(text) => format!("{text:?} is not a decimal number, e.g. 23.4."),
                Self::Money(_, reason) | Self::Period(_, reason) => reason.clone(),
                Self::Percent(text) => {
                    format!("{text:?} is not a percentage: give a whole number from 0 to 100.")
                }
                Self::ValueAndComparator => "Give either an absolute value or a comparator (with \
                     a margin), not both."
                    .into(),
                Self::NoValueNorComparator => "Give an absolute value, or a comparator area (with \
                     a margin) the target follows."
                    .into(),
                Self::MarginWithoutComparator => {
                    "A margin belongs to a comparator; an absolute value has none.".into()
                }
            },
        }
    }
}

/// Puts what is known into a Dutch text: `{period}` becomes ` (2023–2043)`, `{left}` becomes
/// `; het fonds heeft nog € … vrij`, `{max}` the API's maximum length (` (hoogstens 200
/// tekens)`); each disappears when unknown.
fn fill(text: &str, api_message: &str, facts: &Facts) -> String {
    let period = facts
        .period
        .as_ref()
        .map(|p| format!(" ({p})"))
        .unwrap_or_default();
    let left = facts
        .fund_left
        .as_ref()
        .map(|l| format!("; het fonds heeft nog {l} vrij"))
        .unwrap_or_default();
    let max = number_after(api_message, "at most ")
        .map(|n| format!(" (hoogstens {n} tekens)"))
        .unwrap_or_default();
    text.replace("{period}", &period)
        .replace("{left}", &left)
        .replace("{max}", &max)
}

/// The whole number right after `marker` in `text`.
fn number_after(text: &str, marker: &str) -> Option<u64> {
    let start = text.find(marker)? + marker.len();
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The Dutch text of an error without a rule, by its code.
fn dutch_code(code: &str) -> Option<&'static str> {
    Some(match code {
        "CONFLICT" => {
            "Iemand anders legde tegelijk een wijziging van hetzelfde vast; er is niets \
             vastgelegd. Verstuur het formulier opnieuw."
        }
        "IDEMPOTENCY_KEY_REUSED" => {
            "Dit formulier is al eens met andere gegevens verstuurd; open het opnieuw en vul \
             het in."
        }
        "UNAVAILABLE" => "Het register is even niet bereikbaar; probeer het zo opnieuw.",
        "INTERNAL" => {
            "Er ging iets mis op de server; er is niets vastgelegd. Het serverlog heeft de \
             bijzonderheden."
        }
        "UNAUTHENTICATED" => "Meld u opnieuw aan.",
        "FORBIDDEN" => "U mag dit niet vastleggen.",
        _ => return None,
    })
}

/// The Dutch text of a rule of the ledger or of a file import (`docs/import.md`).
fn dutch_rule(rule: &str) -> Option<&'static str> {
    Some(match rule {
        // Texts.
        "text.required" => "Vul dit in; alleen spaties tellen niet.",
        "text.max_length" => "Deze tekst is te lang{max}.",
        "text.max_items" => "Dit zijn te veel items.",
        "text.unique_items" => "Een item staat er twee keer in.",
        // References and citations.
        "reference.known_programme" => "Dit programma bestaat niet.",
        "reference.alliance_formed" => "Dit programma heeft nog geen alliantie.",
        "reference.known_area" => "Dit programma heeft dit gebied niet.",
        "reference.known_pillar" => "Dit programma heeft deze pijler niet.",
        "reference.known_indicator" => "Dit programma heeft deze indicator niet.",
        "reference.known_execution_programme" => {
            "Dit programma heeft dit uitvoeringsprogramma niet."
        }
        "reference.known_member" => "Dit is geen (huidig) lid van de alliantie.",
        "reference.known_meeting" => "De alliantie heeft deze vergadering niet gehouden.",
        "reference.known_fund" => "Dit programma heeft dit fonds niet.",
        "citation.adopted_decision" => {
            "Dit moet berusten op een aangenomen besluit; dit besluit is niet (of nog niet) \
             aangenomen."
        }
        "citation.same_programme" => "Dit besluit hoort bij een ander programma.",
        "programme.period" => "Dit valt buiten de looptijd van het programma{period}.",
        "ledger.available" => "Het register is even niet bereikbaar; probeer het zo opnieuw.",
        // Alliance and meetings.
        "alliance.exists" => "Dit programma heeft nog geen alliantie.",
        "meeting.unique" => "Deze vergadering is al vastgelegd.",
        "meeting.quorum" => "Er moet minstens één lid aanwezig zijn.",
        "meeting.present_once" => "Een lid staat twee keer bij de aanwezigen.",
        "meeting.only_members_present" => {
            "Een van de aanwezigen was op de datum van de vergadering nog geen lid."
        }
        "meeting.only_present_vote" => {
            "Alleen aanwezige leden stemmen; een lid dat stemde was niet bij de vergadering."
        }
        "meeting.one_vote_each" => "Een lid heeft twee keer gestemd.",
        // Decisions.
        "decision.exists" => "Dit besluit is nooit voorgesteld.",
        "decision.unique" => "Dit besluit is al voorgesteld.",
        "decision.title_required" => "Geef het besluit een titel; alleen spaties tellen niet.",
        "decision.reason_required" => "Geef een reden.",
        "decision.final" => {
            "Over dit besluit is al besloten; aangenomen en verworpen is definitief."
        }
        "decision.withdrawn" => "Dit voorstel is ingetrokken en kan niet meer worden besloten.",
        "decision.adoption_rule" => {
            "De stemmen dragen het besluit niet volgens de besluitregel van de alliantie; \
             aannemen kan dus niet."
        }
        "decision.rejection_rule" => {
            "De stemmen dragen het besluit volgens de besluitregel van de alliantie; verwerpen \
             kan dus niet."
        }
        "decision.amendment_changes" => "Een wijziging verandert de titel of de omschrijving.",
        // Targets.
        "target.exists" => {
            "Voor deze indicator, dit gebied en dit jaar is geen streefwaarde vastgesteld."
        }
        "target.unique" => {
            "Voor deze indicator, dit gebied en dit streefjaar is al een streefwaarde \
             vastgesteld; wijzig die in plaats daarvan."
        }
        "target.final" => "Deze streefwaarde is ingetrokken; dat is definitief.",
        "target.value_changes" => "De streefwaarde is al deze waarde.",
        "target.comparator_kind" => {
            "Een streefwaarde volgt een gemeente of het land, zoals het gemiddelde van \
             Dordrecht; kies een van die."
        }
        "target.comparator_differs" => "Een gebied kan niet zijn eigen vergelijkingsgebied zijn.",
        "target.baseline_before_horizon" => "Het jaar van de nulmeting ligt na het streefjaar.",
        // Measurements.
        "measurement.exists" => {
            "Voor deze indicator, dit gebied en deze periode is geen meting vastgelegd."
        }
        "measurement.recorded_once" => {
            "Voor deze indicator, dit gebied en deze periode is al een meting vastgelegd; \
             leg een correctie vast in plaats daarvan."
        }
        "measurement.correction_changes" => "De meting heeft deze waarde al.",
        "measurement.publication_order" => {
            "Een correctie kan niet eerder gepubliceerd zijn dan het cijfer dat ze corrigeert."
        }
        // Budget.
        "fund.exists" => "Dit fonds is nooit geregistreerd.",
        "fund.unique" => "Dit fonds is al geregistreerd.",
        "allocation.unique" => "Deze toewijzing is al vastgelegd.",
        "budget.positive_amount" => "Het bedrag moet meer dan nul euro zijn.",
        "budget.known_allocation" => "Het fonds heeft geen toewijzing voor dit doel en jaar.",
        "budget.fund_period" => "Dit jaar valt buiten de looptijd van het fonds.",
        "budget.within_fund" => {
            "Een toewijzing is nooit meer dan wat het fonds nog vrij heeft{left}."
        }
        "budget.committed_within_allocation" => {
            "De verplichtingen komen hoger dan de toewijzing (na de regels ervoor)."
        }
        "budget.within_allocation" => {
            "De uitgaven komen hoger dan de toewijzing (na de regels ervoor)."
        }
        "budget.allocation_covers_use" => {
            "Van de toewijzing is al meer verplicht of uitgegeven dan dit bedrag."
        }
        "budget.fund_covers_allocations" => "Van het fonds is al meer toegewezen dan dit bedrag.",
        "budget.revision_changes" => "Het bedrag is al dit bedrag.",
        "budget_line.unique" => {
            "Deze regel is net door een ander vastgelegd; importeer het bestand opnieuw."
        }
        "budget_line.final" => {
            "Deze regel is al vastgelegd met een ander bedrag of een andere toewijzing; een \
             vastgelegde regel verandert niet."
        }
        // Commitments and interventions.
        "commitment.exists" => "Deze toezegging is nooit gedaan.",
        "commitment.final" => "Deze toezegging is geleverd of ingetrokken; dat is definitief.",
        "commitment.own_organisation" => {
            "Een partner meldt alleen voortgang op de toezeggingen van de eigen organisatie."
        }
        "commitment.positive_amount" => "Het bedrag moet meer dan nul euro zijn.",
        "intervention.exists" => "Deze interventie is nooit gepland.",
        "intervention.final" => "Deze interventie is afgerond of gestopt; dat is definitief.",
        "intervention.progress_range" => "Geef een percentage van 0 tot 100.",
        "intervention.own_organisation" => {
            "Een partner meldt alleen voortgang op de interventies van de eigen organisatie."
        }
        // A file's rows (`docs/import.md`).
        "import.column_missing" => "De kopregel mist een verplichte kolom.",
        "import.column_twice" => "Twee kolommen van de kopregel betekenen hetzelfde.",
        "import.no_rows" => "Het bestand heeft een kopregel maar geen regels.",
        "import.row_shape" => "Deze regel heeft waarden rechts van de laatste kolom.",
        "import.required" => "Deze cel is leeg, maar verplicht.",
        "import.programme_option" => "Deze regel noemt een ander programma dan het gekozen.",
        "import.ambiguous" => "Deze naam past bij meer dan één; geef de id.",
        "import.period" => {
            "Geen periode: schrijf een jaar (2023), kwartaal (2023-Q2), maand (2023-06), dag \
             (2023-06-15 of 15-06-2023) of CBS-periode (2023JJ00)."
        }
        "import.number" => {
            "Geen getal: schrijf cijfers met hoogstens één decimaalteken (23,4 of 23.4), \
             zonder scheiding van duizendtallen en zonder eenheid."
        }
        "import.decimal_mark" => {
            "Het bestand schrijft decimalen soms met een komma en soms met een punt; één van \
             beide is dan waarschijnlijk een scheiding van duizendtallen."
        }
        "import.date" => "Geen datum: schrijf 2024-03-01 of 01-03-2024, zonder tijd.",
        "import.yes_no" => "Schrijf ja of nee (of leeg voor nee).",
        "import.duplicate_row" => "Een eerdere regel van het bestand gaat over hetzelfde.",
        "import.target_value" => {
            "Geef een streefwaarde of een vergelijkingsgebied (met een marge), niet allebei; \
             een marge hoort bij een vergelijkingsgebied."
        }
        "import.year" => "Geen jaartal.",
        "import.baseline" => "Een nulmeting heeft een waarde en een jaar: geef beide.",
        "import.decision_id" => "Geen besluit-id (een uuid).",
        "import.allocation_id" => "Geen toewijzings-id (een uuid).",
        "import.intervention_id" => "Geen interventie-id (een uuid).",
        "import.allocation_target" => "Geef hoogstens één van pijler, gebied en interventie.",
        "import.allocation_mismatch" => {
            "De pijler, het gebied, de interventie of het jaar is niet die van de genoemde \
             toewijzing."
        }
        "import.line_kind" => "Schrijf verplichting of uitgave.",
        "import.amount" => {
            "Geen bedrag: schrijf euro's als 1.234,56, 1234,56 of 1234; een punt of komma met \
             precies drie cijfers erachter (1.234) is dubbelzinnig."
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(code: &str, rule: Option<&str>, message: &str) -> GqlError {
        GqlError {
            code: code.into(),
            field: None,
            rule: rule.map(str::to_owned),
            message: message.into(),
            problems: Vec::new(),
            stopped: None,
        }
    }

    #[test]
    fn dutch_pages_say_a_rule_in_dutch_and_english_pages_keep_the_apis_words() {
        let facts = Facts {
            period: Some("2023–2043".into()),
            fund_left: None,
        };
        let outside = error(
            "BAD_USER_INPUT",
            Some("programme.period"),
            "period: 2019 lies outside the programme period 2023-2043",
        );
        assert_eq!(
            api_error(Lang::Nl, &outside, &facts),
            "Dit valt buiten de looptijd van het programma (2023–2043)."
        );
        assert_eq!(api_error(Lang::En, &outside, &facts), outside.message);
        let long = error(
            "BAD_USER_INPUT",
            Some("text.max_length"),
            "title: must be at most 200 characters",
        );
        assert_eq!(
            api_error(Lang::Nl, &long, &facts),
            "Deze tekst is te lang (hoogstens 200 tekens)."
        );
        let conflict = error("CONFLICT", None, "another change");
        assert!(api_error(Lang::Nl, &conflict, &facts).starts_with("Iemand anders"));
    }

    #[test]
    fn a_rule_without_a_translation_shows_the_apis_message() {
        let new = error("RULE_VIOLATED", Some("nieuw.regel"), "a new rule");
        assert_eq!(api_error(Lang::Nl, &new, &Facts::default()), "a new rule");
        let shapeless = error("BAD_USER_INPUT", None, "value: give one");
        assert_eq!(
            api_error(Lang::Nl, &shapeless, &Facts::default()),
            "value: give one"
        );
        let none = Facts::default();
        assert_eq!(problem(Lang::Nl, "nieuw.regel", "as is", &none), "as is");
        assert!(problem(Lang::Nl, "import.number", "x", &none).starts_with("Geen getal"));
        assert_eq!(problem(Lang::En, "import.number", "x", &none), "x");
    }

    #[test]
    fn the_pages_own_checks_speak_both_languages() {
        let check = Check::Decimal("23.4.5".into());
        assert!(check.message(Lang::Nl).contains("21,4"));
        assert!(check.message(Lang::En).contains("23.4"));
        assert_eq!(Check::Required.message(Lang::Nl), "Vul dit in.");
    }
}
