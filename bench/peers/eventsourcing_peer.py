"""The Python eventsourcing library (PyPI eventsourcing, PostgreSQL recorder) as a peer of the ledger.

Appends with Application.save (a new Measurement aggregate each: its first event at version 1,
the recorder's unique (originator_id, originator_version) being the expected-version check;
the application recorder locks the table so that notification ids follow commit order) and
reads in global order with the recorder's select_notifications, each notification mapped back
to a domain event (JSON decoded). The pool (POSTGRES_POOL_SIZE) is sized to the concurrency,
POSTGRES_MAX_OVERFLOW 0. Same command line as the Node drivers (common.mjs):

    setup --database-url URL
    w1    --database-url URL --concurrency C --seconds S --payload FILE [--pool P]
    fill  --database-url URL --events N --payload FILE
    w3    --database-url URL --events N --payload FILE
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
import time
from typing import Any
from urllib.parse import unquote, urlparse

import psycopg

# No __pycache__ beside the sources in the work tree.
sys.dont_write_bytecode = True

from eventsourcing_domain import Measurement, MeasurementLog  # noqa: E402

BATCH = 10_000
FILL = 5_000
TABLE = "measurementlog_events"
LEDGER_POOL = 16


def fail(message: str) -> None:
    print(f"peer: {message}", file=sys.stderr)
    sys.exit(1)


def check(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


def positive(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError("must be a number above 0")
    return value


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["setup", "w1", "fill", "w3"])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--concurrency", type=positive)
    parser.add_argument("--seconds", type=positive)
    parser.add_argument("--events", type=positive)
    parser.add_argument("--payload")
    parser.add_argument("--pool", type=positive)
    args = parser.parse_args()
    # The server is reached without the URL's query, as by the Node drivers.
    args.database_url = args.database_url.split("?")[0]
    needs = {"w1": ["concurrency", "seconds", "payload"], "fill": ["events", "payload"], "w3": ["events", "payload"]}
    for name in needs.get(args.command, []):
        if getattr(args, name) is None:
            fail(f"{args.command} needs --{name}")
    if args.payload is not None:
        with open(args.payload, encoding="utf-8") as file:
            args.payload = json.load(file)
        for key in ("event_type", "event_version", "payload", "metadata"):
            check(key in args.payload, f"the payload file has no {key}")
    return args


def application(url: str, pool_size: int) -> MeasurementLog:
    parsed = urlparse(url)
    return MeasurementLog(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parsed.path.lstrip("/"),
            "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": unquote(parsed.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parsed.password or ""),
            "POSTGRES_POOL_SIZE": str(pool_size),
            "POSTGRES_MAX_OVERFLOW": "0",
            "CREATE_TABLE": "y",
        }
    )


def rows(url: str) -> int:
    with psycopg.connect(url) as connection:
        (count,) = connection.execute(f"SELECT count(*) FROM {TABLE}").fetchone()
    return int(count)


def new_measurement(payload: dict[str, Any]) -> Measurement:
    return Measurement(payload["event_type"], payload["event_version"], payload["payload"], payload["metadata"])


def quantile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def answer(value: dict[str, Any]) -> None:
    print(json.dumps(value), flush=True)


def setup(args: argparse.Namespace) -> None:
    app = application(args.database_url, 1)
    app.close()
    answer({"installed": f"eventsourcing recorder table {TABLE}"})


def w1(args: argparse.Namespace) -> None:
    concurrency = int(args.concurrency)
    # As many connections as clients, at most the ledger's pool (16), as W1's baselines.
    connections = int(args.pool) if args.pool else min(concurrency, LEDGER_POOL)
    app = application(args.database_url, connections)
    before = rows(args.database_url)
    started = time.perf_counter()
    deadline = started + args.seconds
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors: list[BaseException] = []

    def writer(mine: list[float]) -> None:
        try:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                measurement = new_measurement(args.payload)
                recordings = app.save(measurement)
                mine.append((time.perf_counter() - sent) * 1e3)
                check(
                    len(recordings) == 1 and recordings[0].domain_event.originator_version == 1,
                    "w1: save recorded other than one event at version 1",
                )
        except BaseException as error:  # a thread's failure fails the run
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(mine,)) for mine in latencies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        fail(f"w1: {errors[0]!r}")
    ordered = sorted(x for mine in latencies for x in mine)
    grew = rows(args.database_url) - before
    app.close()
    check(grew == len(ordered), f"w1: the store grew by {grew} rows for {len(ordered)} appends acknowledged")
    answer(
        {
            "appended": len(ordered),
            "seconds": elapsed,
            "p50_ms": quantile(ordered, 0.5),
            "p99_ms": quantile(ordered, 0.99),
            "checks": [
                f"the store grew by exactly the {grew} appends acknowledged",
                "every save of a new Measurement recorded one event at version 1",
                f"{concurrency} threads, POSTGRES_POOL_SIZE {connections}, POSTGRES_MAX_OVERFLOW 0",
            ],
        }
    )


def fill(args: argparse.Namespace, app: MeasurementLog) -> float:
    events = int(args.events)
    started = time.perf_counter()
    have = rows(args.database_url)
    check(have <= events, f"fill: the store holds {have} events already, more than {events}")
    while have < events:
        batch = min(FILL, events - have)
        recordings = app.save(*(new_measurement(args.payload) for _ in range(batch)))
        check(len(recordings) == batch, f"fill: recorded {len(recordings)} of {batch}")
        have += batch
    check(rows(args.database_url) == events, f"fill: the store does not hold {events} events")
    return time.perf_counter() - started


def w3(args: argparse.Namespace) -> None:
    events = int(args.events)
    app = application(args.database_url, 1)
    fill(args, app)
    started = time.perf_counter()
    count = 0
    last = 0
    first = None
    decoded = None
    touched = 0
    while True:
        batch = app.recorder.select_notifications(start=last + 1, limit=BATCH)
        for notification in batch:
            check(notification.id > last, f"w3: notification {notification.id} after {last}")
            last = notification.id
            decoded = app.mapper.to_domain_event(notification)
            touched += len(decoded.payload) + len(decoded.metadata)
            if first is None:
                first = decoded.payload
            count += 1
        if len(batch) < BATCH:
            break
    seconds = time.perf_counter() - started
    app.close()
    check(count == events, f"w3: read {count} events, the store holds {events}")
    check(touched > 0, "w3: decoded nothing")
    check(
        first == args.payload["payload"] and decoded is not None and decoded.payload == args.payload["payload"],
        "w3: the first or last event read back differs from the payload written",
    )
    answer(
        {
            "events": count,
            "seconds": seconds,
            "rows_per_s": count / seconds,
            "checks": [
                f"read {count} events, every one in the store, in strictly increasing notification id",
                "the first and last decoded payloads equal the payload written",
                f"recorder.select_notifications({BATCH} a call), each mapped to a domain event",
            ],
        }
    )


def main() -> None:
    args = arguments()
    if args.command == "setup":
        setup(args)
    elif args.command == "w1":
        w1(args)
    elif args.command == "fill":
        app = application(args.database_url, 1)
        seconds = fill(args, app)
        app.close()
        answer({"events": int(args.events), "seconds": seconds})
    else:
        w3(args)


if __name__ == "__main__":
    main()
