"""Importing provider exports: idempotent (the same file or day × model again replaces,
never doubles), transactional, bad rows kept on the import with line and field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from billing.models import ModelAlias
from tests.workspace.helpers import openai_costs, openai_usage
from workspace.models import ProviderCost, ProviderCostImport
from workspace.services import provider_costs_import

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def costs() -> dict:
    return {(c.provider, c.day, c.model): c.cost for c in ProviderCost.objects.all()}


def test_it_imports_the_costs_per_day_and_model_under_our_model_names():
    ModelAlias.objects.create(provider="openai", alias="gpt-4o-2024-08-06", model="gpt-4o")
    record = provider_costs_import(
        provider="openai", file_name="openai_costs.json", content=fixture("openai_costs.json")
    )
    assert record.kind == ProviderCostImport.Kind.OPENAI_COSTS
    assert record.row_count == 3
    assert record.errors == []
    assert costs() == {
        ("openai", date(2026, 11, 10), "gpt-4o"): Decimal("3.625"),
        ("openai", date(2026, 11, 10), "gpt-4o-mini-2024-07-18"): Decimal("0.0301875"),
        ("openai", date(2026, 11, 11), "gpt-4o"): Decimal("9.0"),
    }


def test_importing_the_same_file_again_replaces_and_never_doubles():
    for _attempt in range(2):
        provider_costs_import(provider="openai", file_name="openai_costs.json", content=fixture("openai_costs.json"))
    assert ProviderCost.objects.count() == 3
    assert sum(costs().values()) == Decimal("12.6551875")
    assert ProviderCostImport.objects.count() == 2  # both uploads are on record


def test_a_later_file_for_the_same_day_and_model_replaces_only_that_figure():
    provider_costs_import(provider="openai", file_name="a.json", content=fixture("openai_costs.json"))
    provider_costs_import(
        provider="openai", file_name="b.json", content=openai_costs((10, "gpt-4o-2024-08-06, input", "4.0"))
    )
    assert costs()[("openai", date(2026, 11, 10), "gpt-4o-2024-08-06")] == Decimal("4.0")
    assert costs()[("openai", date(2026, 11, 11), "gpt-4o-2024-08-06")] == Decimal("9.0")  # not in b.json


def test_a_usage_file_fills_the_tokens_beside_the_cost_without_touching_it():
    provider_costs_import(provider="openai", file_name="c.json", content=fixture("openai_costs.json"))
    provider_costs_import(provider="openai", file_name="u.json", content=openai_usage((10, "gpt-4o-2024-08-06", 7, 3)))
    provider_costs_import(provider="openai", file_name="u.json", content=openai_usage((10, "gpt-4o-2024-08-06", 7, 3)))
    row = ProviderCost.objects.get(day=date(2026, 11, 10), model="gpt-4o-2024-08-06")
    assert (row.input_tokens, row.output_tokens, row.cost) == (7, 3, Decimal("3.625"))


def test_bad_rows_are_reported_with_line_and_field_and_good_rows_kept():
    record = provider_costs_import(provider="openai", file_name="openai_costs.csv", content=fixture("openai_costs.csv"))
    assert record.row_count == 2
    assert [(e["line"], e["field"]) for e in record.errors] == [(4, "amount_value"), (6, "line_item")]
    assert costs() == {
        ("openai", date(2026, 11, 10), "gpt-4o-2024-08-06"): Decimal("3.5"),
        ("openai", date(2026, 11, 12), "gpt-4o-2024-08-06"): Decimal("3.25"),
    }


def test_a_failure_part_way_leaves_nothing_written(monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(ProviderCost.objects, "bulk_create", fail)
    with pytest.raises(RuntimeError):
        provider_costs_import(provider="openai", file_name="x.json", content=fixture("openai_costs.json"))
    assert ProviderCostImport.objects.count() == 0  # the import row written before it is rolled back
    assert ProviderCost.objects.count() == 0


def test_the_anthropic_report_is_stored_in_dollars():
    provider_costs_import(provider="anthropic", file_name="r.json", content=fixture("anthropic_cost_report.json"))
    assert costs() == {
        ("anthropic", date(2026, 11, 10), "claude-sonnet-4-20250514"): Decimal("4.515"),
        ("anthropic", date(2026, 11, 11), "claude-3-5-haiku-20241022"): Decimal("1.2345"),
    }


@pytest.mark.django_db(transaction=True)
def test_two_imports_of_the_same_file_at_once_leave_one_row_per_day_and_model():
    """Two clerks upload the same export at the same moment: the upsert makes the second
    wait on the rows and replace them, neither fails nor doubles."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def upload():
        try:
            barrier.wait()
            provider_costs_import(provider="openai", file_name="c.json", content=fixture("openai_costs.json"))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert ProviderCost.objects.count() == 3
    assert sum(costs().values()) == Decimal("12.6551875")
    assert ProviderCostImport.objects.count() == 2
