"""The aggregate and application the eventsourcing peer stores (bench/peers/eventsourcing_peer.py).

In a module of their own so that the library finds them by topic when it reads events back
(classes defined in __main__ have no importable topic).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event


class Measurement(Aggregate):
    """A measurement recorded with the ledger's event payload and metadata, one event each."""

    @event("Recorded")
    def __init__(
        self,
        event_type: str,
        event_version: str,
        payload: dict[str, Any],
        metadata: dict[str, Any],
    ) -> None:
        self.event_type = event_type
        self.event_version = event_version
        self.payload = payload
        self.metadata = metadata


class MeasurementLog(Application):
    """The application whose PostgreSQL recorder stores the measurements."""
