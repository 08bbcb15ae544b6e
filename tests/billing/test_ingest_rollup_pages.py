"""The rollup table keeps room on its pages for ingestion's in-place updates (migration 0024)."""

from __future__ import annotations

import pytest
from django.db import connection

from billing.models import UsageRollup
from tests.billing.helpers import ingest, usage

pytestmark = pytest.mark.django_db


def _updates() -> tuple[int, int]:
    """(updates, HOT updates) of billing_usagerollup in this transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_stat_get_xact_tuples_updated(c), pg_stat_get_xact_tuples_hot_updated(c) "
            "FROM (SELECT 'billing_usagerollup'::regclass::oid AS c) t"
        )
        return cursor.fetchone()


def test_a_batch_adding_to_every_rollup_row_updates_them_without_touching_an_index(acme_key, gpt4o):
    days = range(1, 32)
    first = ingest([usage(acme_key.key_id, f"a{d}", occurred_at=f"2026-10-{d:02d}T10:00:00+08:00") for d in days])
    assert first.accepted == 31 and UsageRollup.objects.count() == 31
    before = _updates()

    second = ingest([usage(acme_key.key_id, f"b{d}", occurred_at=f"2026-10-{d:02d}T11:00:00+08:00") for d in days])

    assert second.accepted == 31 and UsageRollup.objects.count() == 31
    updated, hot = (after - earlier for after, earlier in zip(_updates(), before, strict=True))
    # Each of the 31 rows updated once, all on their own page (HOT): at the earlier fillfactor
    # of 80 the new versions of a full page's rows no longer fit and most went elsewhere.
    assert updated == 31
    assert hot == 31
    assert set(UsageRollup.objects.values_list("requests", flat=True)) == {2}
