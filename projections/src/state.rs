use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use domain::alliance::Alliance;
use domain::budget::Fund;
use domain::commitment::Commitment;
use domain::decision::Decision;
use domain::ids::ProgrammeId;
use domain::intervention::Intervention;
use domain::measurement::Measurement;
use domain::metadata;
use domain::programme::Programme;
use domain::resident_input::ResidentInput;
use domain::target::Target;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::{LoggedEvent, Position};

use crate::{DecodeError, LedgerEvent, Versioned};

/// When an event was recorded and by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub recorded_at: DateTime<Utc>,
    pub actor: Arc<str>,
    pub role: Arc<str>,
    pub organisation: Option<Arc<str>>,
}

/// An event that cites a decision: an allocation, a target, a commitment, a membership change...
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consequence {
    pub position: Position,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub event_type: String,
}

/// One record of a read model at some position, with where it came from.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a, A> {
    pub aggregate_id: &'a str,
    pub state: &'a A,
}

/// Why the fold stopped: the log is not what a ledger writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FoldError {
    #[error(
        "the log jumps from position {expected} to {found}: an event is missing or out of order"
    )]
    OutOfOrder { expected: Position, found: Position },
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

type Records<A> = BTreeMap<String, Versioned<A>>;

/// Every read model of the ledger, with history by position.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LedgerState {
    position: Position,
    /// The stamp of each event; position `p` is at index `p - 1` (positions are dense).
    stamps: Vec<Stamp>,
    programmes: Records<Programme>,
    alliances: Records<Alliance>,
    decisions: Records<Decision>,
    funds: Records<Fund>,
    commitments: Records<Commitment>,
    targets: Records<Target>,
    measurements: Records<Measurement>,
    interventions: Records<Intervention>,
    resident_inputs: Records<ResidentInput>,
    /// For each decision id, the events that cite it, in position order.
    consequences: BTreeMap<String, Vec<Consequence>>,
    /// Actor, role and organisation names, shared between stamps.
    #[serde(skip)]
    names: BTreeMap<String, Arc<str>>,
}

fn fold<A>(records: &mut Records<A>, id: &str, position: Position, event: A::Event)
where
    A: Aggregate + Clone,
{
    records
        .entry(id.to_owned())
        .or_default()
        .update(position, |a| a.apply(event));
}

/// The decision an event cites, if it names one in a `decision` field.
fn cited_decision(logged: &LoggedEvent) -> Option<&str> {
    let body = logged.payload.as_object()?.values().next()?;
    body.get("decision")?.as_str()
}

impl LedgerState {
    /// The position of the last event folded in; 0 before any.
    pub fn position(&self) -> Position {
        self.position
    }

    /// When the last event folded in was recorded.
    pub fn recorded_at(&self) -> Option<DateTime<Utc>> {
        self.stamps.last().map(|s| s.recorded_at)
    }

    fn name(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.names.get(text) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(text);
        self.names.insert(text.to_owned(), shared.clone());
        shared
    }

    /// Folds the next event of the log in. The event must be the one right after the last one
    /// folded; on any error nothing changes.
    pub fn apply(&mut self, logged: &LoggedEvent) -> Result<(), FoldError> {
        self.apply_decoded(logged, LedgerEvent::decode(logged))
    }

    /// [`apply`](Self::apply) with the event already decoded (`LedgerEvent::decode` of
    /// `logged`), e.g. on another core while the event before was folded.
    pub(crate) fn apply_decoded(
        &mut self,
        logged: &LoggedEvent,
        decoded: Result<LedgerEvent, DecodeError>,
    ) -> Result<(), FoldError> {
        let expected = self.position + 1;
        if logged.position != expected {
            return Err(FoldError::OutOfOrder {
                expected,
                found: logged.position,
            });
        }
        let event = decoded?;
        let stamp = Stamp {
            recorded_at: logged.recorded_at,
            actor: self.name(logged.meta(metadata::ACTOR).unwrap_or("")),
            role: self.name(logged.meta(metadata::ROLE).unwrap_or("")),
            organisation: logged.meta(metadata::ORGANISATION).map(|o| self.name(o)),
        };
        let p = logged.position;
        let id = logged.aggregate_id.as_str();
        if let Some(decision) = cited_decision(logged) {
            self.consequences
                .entry(decision.to_owned())
                .or_default()
                .push(Consequence {
                    position: p,
                    aggregate_type: logged.aggregate_type.clone(),
                    aggregate_id: logged.aggregate_id.clone(),
                    event_type: logged.event_type.clone(),
                });
        }
        match event {
            LedgerEvent::Programme(e) => fold(&mut self.programmes, id, p, e),
            LedgerEvent::Alliance(e) => fold(&mut self.alliances, id, p, e),
            LedgerEvent::Decision(e) => fold(&mut self.decisions, id, p, e),
            LedgerEvent::Fund(e) => fold(&mut self.funds, id, p, e),
            LedgerEvent::Commitment(e) => fold(&mut self.commitments, id, p, e),
            LedgerEvent::Target(e) => fold(&mut self.targets, id, p, e),
            LedgerEvent::Measurement(e) => fold(&mut self.measurements, id, p, e),
            LedgerEvent::Intervention(e) => fold(&mut self.interventions, id, p, e),
            LedgerEvent::ResidentInput(e) => fold(&mut self.resident_inputs, id, p, e),
        }
        self.stamps.push(stamp);
        self.position = p;
        Ok(())
    }

    /// The stamp of the event at `position`.
    pub fn stamp(&self, position: Position) -> Option<&Stamp> {
        usize::try_from(position - 1)
            .ok()
            .and_then(|i| self.stamps.get(i))
    }

    /// The last position recorded at or before `time` (0 when none was): the state "as of" a
    /// time includes every event recorded up to and including that instant.
    pub fn position_at(&self, time: DateTime<Utc>) -> Position {
        self.stamps.partition_point(|s| s.recorded_at <= time) as Position
    }

    /// A SHA-256 over the canonical serialisation of the whole state (every record with its
    /// history, every stamp and citation), as lowercase hex.
    pub fn checksum(&self) -> String {
        let mut hasher = Sha256::new();
        // Serialising a tree of BTreeMaps, Vecs and structs is deterministic.
        if serde_json::to_writer(HashWriter(&mut hasher), self).is_err() {
            return String::new();
        }
        hex::encode(hasher.finalize())
    }

    /// The state as it stood right after `position` (all of it when `position` is at or past
    /// the last event folded): every record's versions, the stamps and the citations up to
    /// it. Equal to a replay up to `position` (`replay --until`), without replaying.
    pub fn until(&self, position: Position) -> LedgerState {
        fn cut<A: Clone>(records: &Records<A>, position: Position) -> Records<A> {
            records
                .iter()
                .filter_map(|(id, v)| v.until(position).map(|v| (id.clone(), v)))
                .collect()
        }
        let position = position.clamp(0, self.position);
        let consequences = self
            .consequences
            .iter()
            .filter_map(|(decision, all)| {
                let kept = all.partition_point(|c| c.position <= position);
                (kept > 0).then(|| (decision.clone(), all[..kept].to_vec()))
            })
            .collect();
        let mut state = LedgerState {
            position,
            stamps: self.stamps[..position as usize].to_vec(),
            programmes: cut(&self.programmes, position),
            alliances: cut(&self.alliances, position),
            decisions: cut(&self.decisions, position),
            funds: cut(&self.funds, position),
            commitments: cut(&self.commitments, position),
            targets: cut(&self.targets, position),
            measurements: cut(&self.measurements, position),
            interventions: cut(&self.interventions, position),
            resident_inputs: cut(&self.resident_inputs, position),
            consequences,
            names: BTreeMap::new(),
        };
        state.reshare_names();
        state
    }

    /// Rebuilds the shared names after the state was read back from a snapshot.
    pub fn reshare_names(&mut self) {
        let mut names = BTreeMap::new();
        for stamp in &mut self.stamps {
            for name in [&mut stamp.actor, &mut stamp.role]
                .into_iter()
                .chain(stamp.organisation.as_mut())
            {
                let shared = names
                    .entry(name.to_string())
                    .or_insert_with(|| name.clone())
                    .clone();
                *name = shared;
            }
        }
        self.names = names;
    }
}

struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

macro_rules! reads {
    ($($field:ident, $one:ident, $all:ident: $ty:ty;)*) => {
        impl LedgerState {
            $(
                /// The record with this aggregate id as it stood at `at`.
                pub fn $one(&self, id: &str, at: Position) -> Option<&$ty> {
                    self.$field.get(id).and_then(|v| v.at(at))
                }

                /// Every record that existed at `at`, in id order.
                pub fn $all(&self, at: Position) -> impl Iterator<Item = Record<'_, $ty>> {
                    self.$field.iter().filter_map(move |(id, v)| {
                        v.at(at).map(|state| Record { aggregate_id: id, state })
                    })
                }
            )*
        }
    };
}

reads! {
    programmes, programme, all_programmes: Programme;
    alliances, alliance, all_alliances: Alliance;
    decisions, decision, all_decisions: Decision;
    funds, fund, all_funds: Fund;
    commitments, commitment, all_commitments: Commitment;
    targets, target, all_targets: Target;
    measurements, measurement, all_measurements: Measurement;
    interventions, intervention, all_interventions: Intervention;
    resident_inputs, resident_input, all_resident_inputs: ResidentInput;
}

impl LedgerState {
    /// The measurements of one programme, of one of its indicators (`indicator`), or of one
    /// indicator in one area (`indicator` and `area`) that existed at `at`, in id order. A
    /// measurement's id starts with `programme/indicator/area/` and slugs hold no `/`, so this
    /// is a range of the index, not a walk over every measurement of the ledger (an area
    /// without an indicator narrows nothing here).
    pub fn measurements_of(
        &self,
        programme: &ProgrammeId,
        indicator: Option<&domain::ids::IndicatorKey>,
        area: Option<&domain::ids::AreaId>,
        at: Position,
    ) -> impl Iterator<Item = Record<'_, Measurement>> {
        let prefix = match (indicator, area) {
            (Some(indicator), Some(area)) => format!("{programme}/{indicator}/{area}/"),
            (Some(indicator), None) => format!("{programme}/{indicator}/"),
            (None, _) => format!("{programme}/"),
        };
        self.measurements
            .range(prefix.clone()..)
            .take_while(move |(id, _)| id.starts_with(&prefix))
            .filter_map(move |(id, v)| {
                v.at(at).map(|state| Record {
                    aggregate_id: id,
                    state,
                })
            })
    }
}

impl LedgerState {
    /// Every version of a target, with the position that made it: its change history.
    pub fn target_history(&self, id: &str) -> Vec<(Position, &Target)> {
        self.targets
            .get(id)
            .map(|v| v.history().collect())
            .unwrap_or_default()
    }

    /// Every version of a measurement, with the position that made it: what the ledger knew
    /// of it when.
    pub fn measurement_history(&self, id: &str) -> Vec<(Position, &Measurement)> {
        self.measurements
            .get(id)
            .map(|v| v.history().collect())
            .unwrap_or_default()
    }

    /// Every version of a commitment, with the position that made it.
    pub fn commitment_history(&self, id: &str) -> Vec<(Position, &Commitment)> {
        self.commitments
            .get(id)
            .map(|v| v.history().collect())
            .unwrap_or_default()
    }

    /// Where a decision was first recorded (its proposal).
    pub fn first_position_of_decision(&self, id: &str) -> Option<Position> {
        self.decisions.get(id).and_then(Versioned::first_position)
    }

    /// Where an intervention was first recorded (its plan).
    pub fn first_position_of_intervention(&self, id: &str) -> Option<Position> {
        self.interventions
            .get(id)
            .and_then(Versioned::first_position)
    }

    /// The programme a record belongs to, by its aggregate type and id, as its own state names
    /// it: a programme is its own, every other record is created within one and never moves.
    /// `None` for a record the state does not hold.
    pub fn programme_of(&self, aggregate_type: &str, aggregate_id: &str) -> Option<&ProgrammeId> {
        fn latest<'a, A: Clone>(records: &'a Records<A>, id: &str) -> Option<&'a A> {
            records.get(id).and_then(Versioned::latest)
        }
        let id = aggregate_id;
        match aggregate_type {
            t if t == Programme::TYPE => latest(&self.programmes, id)?.state().map(|s| &s.id),
            t if t == Alliance::TYPE => latest(&self.alliances, id)?
                .state()
                .map(|s| &s.programme_id),
            t if t == Decision::TYPE => latest(&self.decisions, id)?
                .state()
                .map(|s| &s.programme_id),
            t if t == Fund::TYPE => latest(&self.funds, id)?.state().map(|s| &s.programme_id),
            t if t == Commitment::TYPE => latest(&self.commitments, id)?
                .state()
                .map(|s| &s.programme_id),
            t if t == Target::TYPE => latest(&self.targets, id)?
                .state()
                .map(|s| &s.key.programme_id),
            t if t == Measurement::TYPE => latest(&self.measurements, id)?
                .state()
                .map(|s| &s.key.programme_id),
            t if t == Intervention::TYPE => latest(&self.interventions, id)?
                .state()
                .map(|s| &s.programme_id),
            t if t == ResidentInput::TYPE => latest(&self.resident_inputs, id)?
                .state()
                .map(|s| &s.programme_id),
            _ => None,
        }
    }

    /// The events up to `at` that cite the decision.
    pub fn consequences(&self, decision: &str, at: Position) -> &[Consequence] {
        let all = self
            .consequences
            .get(decision)
            .map(Vec::as_slice)
            .unwrap_or_default();
        &all[..all.partition_point(|c| c.position <= at)]
    }
}
