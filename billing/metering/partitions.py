"""Monthly partitions of ``billing_usagerecord``.

Each partition holds one billing period: ``[first instant of the month, first instant of
the next)`` in BILLING_TIME_ZONE, so a month's records live in one table that can be
detached and archived whole. Partitions are created ahead by a beat task and, for the
rare record of an older or newer month, on demand before a batch is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import connection, transaction

from billing.periods import format_period, next_period, period_start

PARENT = "billing_usagerecord"
_known: set[date] = set()


def partition_name(period: date) -> str:
    return f"{PARENT}_p{period.year:04d}{period.month:02d}"


def _existing() -> set[date]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid
            JOIN pg_class p ON p.oid = i.inhparent
            WHERE p.relname = %s
            """,
            [PARENT],
        )
        names = [row[0] for row in cursor.fetchall()]
    found = set()
    for name in names:
        suffix = name.rsplit("_p", 1)[-1]
        if len(suffix) == 6 and suffix.isdigit():
            found.add(date(int(suffix[:4]), int(suffix[4:]), 1))
    return found


def ensure_partitions(periods: Iterable[date]) -> None:
    """Create the partitions for ``periods`` that do not exist yet (idempotent, race-safe)."""
    wanted = {p.replace(day=1) for p in periods} - _known
    if not wanted:
        return
    _known.update(_existing())
    missing = sorted(wanted - _known)
    if not missing:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        # One creator at a time; the others find the partitions made when they get the lock.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [PARENT])
        present = _existing()
        for period in missing:
            if period in present:
                continue
            start, end = period_start(period), period_start(next_period(period))
            cursor.execute(
                f'CREATE TABLE IF NOT EXISTS "{partition_name(period)}" PARTITION OF {PARENT} '
                "FOR VALUES FROM (%s) TO (%s)",
                [start, end],
            )
    _known.update(missing)


def ensure_partitions_around(today: date, *, months_back: int = 3, months_ahead: int = 2) -> list[str]:
    periods = [next_period(today.replace(day=1), k) for k in range(-months_back, months_ahead + 1)]
    ensure_partitions(periods)
    return [format_period(p) for p in periods]


def forget_known() -> None:
    """For tests that drop and recreate the database."""
    _known.clear()
