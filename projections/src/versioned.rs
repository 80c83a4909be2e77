use std::sync::Arc;

use serde::{Deserialize, Serialize};
use store::Position;

/// Every version of one record, in position order: the record as it stood after each event
/// that changed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Versioned<T> {
    versions: Vec<(Position, Arc<T>)>,
}

impl<T> Default for Versioned<T> {
    fn default() -> Self {
        Self {
            versions: Vec::new(),
        }
    }
}

impl<T: Clone> Versioned<T> {
    /// The record as it stands now.
    pub fn latest(&self) -> Option<&T> {
        self.versions.last().map(|(_, v)| v.as_ref())
    }

    /// The record as it stood after all events up to and including `position`; `None` when
    /// it did not exist yet.
    pub fn at(&self, position: Position) -> Option<&T> {
        let after = self.versions.partition_point(|(p, _)| *p <= position);
        after.checked_sub(1).map(|i| self.versions[i].1.as_ref())
    }

    /// Where the record was first recorded.
    pub fn first_position(&self) -> Option<Position> {
        self.versions.first().map(|(p, _)| *p)
    }

    /// Every version with the position that made it.
    pub fn history(&self) -> impl Iterator<Item = (Position, &T)> {
        self.versions.iter().map(|(p, v)| (*p, v.as_ref()))
    }

    /// The versions made at or before `position`; `None` when the record did not exist yet.
    pub fn until(&self, position: Position) -> Option<Self> {
        let kept = self.versions.partition_point(|(p, _)| *p <= position);
        (kept > 0).then(|| Self {
            versions: self.versions[..kept].to_vec(),
        })
    }

    /// Applies `change` to a copy of the latest version (or a default record) and keeps the
    /// result as the version made at `position`.
    pub fn update(&mut self, position: Position, change: impl FnOnce(&mut T))
    where
        T: Default,
    {
        let mut next = self.latest().cloned().unwrap_or_default();
        change(&mut next);
        self.versions.push((position, Arc::new(next)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_read_as_it_stood_at_a_position() {
        let mut v: Versioned<Vec<u8>> = Versioned::default();
        v.update(3, |r| r.push(1));
        v.update(7, |r| r.push(2));
        assert_eq!(v.at(2), None);
        assert_eq!(v.at(3), Some(&vec![1]));
        assert_eq!(v.at(6), Some(&vec![1]));
        assert_eq!(v.at(7), Some(&vec![1, 2]));
        assert_eq!(v.at(100), Some(&vec![1, 2]));
        assert_eq!(v.latest(), Some(&vec![1, 2]));
        assert_eq!(v.first_position(), Some(3));
        assert_eq!(v.history().count(), 2);
    }
}
